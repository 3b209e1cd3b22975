"""Recorded Scaleway API answers, in the shape of Scaleway's API documentation, served over real HTTP.

Shapes: Managed Databases for PostgreSQL and MySQL API v1 (``GET /rdb/v1/regions/{region}/instances``,
``.../snapshots``), Key Manager API v1alpha1 (``GET /key-manager/v1alpha1/regions/{region}/keys``)
and the list calls of the products the reader lists as unread (:data:`UNREAD_ROUTES`), with ``total_count`` as the list endpoints return it. A route may hold several answers, served in
order (the last one repeats), to record throttling; every request is logged.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PROJECT = "11111111-2222-3333-4444-555555555555"
ORGANIZATION = "99999999-8888-7777-6666-555555555555"
ACCESS_KEY = "SCWXXXXXXXXXXXXXXXXX"
SECRET_KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
KEY_ID = "0f5c1d3e-7a2b-4c8d-9e0f-1a2b3c4d5e6f"
INSTANCE_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def database(region: str = "fr-par", **changes: Any) -> dict[str, Any]:
    """One Database Instance as ``GET /rdb/v1/regions/{region}/instances`` lists it."""
    instance: dict[str, Any] = {
        "created_at": "2026-10-02T09:14:03.412Z",
        "volume": {"type": "sbs_5k", "size": 20000000000, "class": "sbs"},
        "region": region,
        "id": INSTANCE_ID,
        "name": "booking-db",
        "organization_id": ORGANIZATION,
        "project_id": PROJECT,
        "status": "ready",
        "engine": "PostgreSQL-16",
        "upgradable_version": [],
        "tags": ["booking", "hds"],
        "settings": [{"name": "max_connections", "value": "200"}],
        "is_ha_cluster": True,
        "read_replicas": [],
        "node_type": "db-pro2-xs",
        "init_settings": [],
        "endpoints": [
            {
                "id": "7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a",
                "ip": "172.16.4.2",
                "port": 5432,
                "name": None,
                "private_network": {
                    "private_network_id": "3c2b1a09-8f7e-4d6c-a5b4-c3d2e1f0a9b8",
                    "service_ip": "172.16.4.2/22",
                    "zone": f"{region}-1",
                    "provisioning_mode": "ipam",
                },
            }
        ],
        "logs_policy": {"max_age_retention": 30, "total_disk_retention": None},
        "backup_same_region": True,
        "maintenances": [],
        "encryption": {"enabled": True},
    }
    instance.update(changes)
    return instance


def key(region: str = "fr-par", **changes: Any) -> dict[str, Any]:
    """One key as ``GET /key-manager/v1alpha1/regions/{region}/keys`` lists it."""
    entry: dict[str, Any] = {
        "id": KEY_ID,
        "project_id": PROJECT,
        "name": "booking-documents",
        "usage": {"symmetric_encryption": "aes_256_gcm"},
        "state": "enabled",
        "rotation_count": 1,
        "created_at": "2026-10-02T09:10:00Z",
        "updated_at": "2026-10-02T09:10:00Z",
        "protected": True,
        "locked": False,
        "description": "Documents bucket key",
        "tags": ["booking"],
        "rotated_at": None,
        "rotation_policy": {"rotation_period": "7776000s", "next_rotation_at": "2026-12-31T09:10:00Z"},
        "origin": "scaleway_kms",
        "deletion_requested_at": None,
        "region": region,
    }
    entry.update(changes)
    return entry


#: List routes of the products listed as unread: (path template, list key); zonal ones take {zone}.
UNREAD_ROUTES: tuple[tuple[str, str], ...] = (
    ("/instance/v1/zones/{zone}/servers", "servers"),
    ("/instance/v1/zones/{zone}/volumes", "volumes"),
    ("/instance/v1/zones/{zone}/snapshots", "snapshots"),
    ("/block/v1alpha1/zones/{zone}/volumes", "volumes"),
    ("/block/v1alpha1/zones/{zone}/snapshots", "snapshots"),
    ("/redis/v1/zones/{zone}/clusters", "clusters"),
    ("/secret-manager/v1beta1/regions/{region}/secrets", "secrets"),
    ("/secret-manager/v1beta1/regions/{region}/secrets#scheduled_for_deletion", "secrets"),
    ("/containers/v1beta1/regions/{region}/namespaces", "namespaces"),
    ("/functions/v1beta1/regions/{region}/namespaces", "namespaces"),
)
ZONES = {"fr-par": 3, "nl-ams": 3, "pl-waw": 3, "it-mil": 1}


def server(zone: str = "fr-par-1", **changes: Any) -> dict[str, Any]:
    """One Instance as ``GET /instance/v1/zones/{zone}/servers`` lists it (fields the SDK needs)."""
    entry: dict[str, Any] = {
        "id": "6e5d4c3b-2a19-4f8e-9d7c-6b5a4f3e2d1c",
        "name": "forgotten-debug-vm",
        "organization": ORGANIZATION,
        "project": PROJECT,
        "allowed_actions": ["poweroff"],
        "tags": [],
        "commercial_type": "DEV1-S",
        "creation_date": "2026-11-02T10:00:00Z",
        "dynamic_ip_required": False,
        "routed_ip_enabled": True,
        "enable_ipv6": False,
        "hostname": "forgotten-debug-vm",
        "protected": False,
        "public_ips": [],
        "mac_address": "de:00:00:5a:1b:2c",
        "state": "running",
        "volumes": {},
        "private_nics": [],
        "zone": zone,
    }
    entry.update(changes)
    return entry


def listing(name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: items, "total_count": len(items)}


def compliant_routes(regions: tuple[str, ...] = ("fr-par",)) -> dict[str, Any]:
    routes: dict[str, Any] = {}
    for region in regions:
        routes[f"/rdb/v1/regions/{region}/instances"] = listing("instances", [])
        routes[f"/rdb/v1/regions/{region}/snapshots"] = listing("snapshots", [])
        routes[f"/key-manager/v1alpha1/regions/{region}/keys"] = listing("keys", [])
        zones = [f"{region}-{n}" for n in range(1, ZONES[region] + 1)]
        for template, name in UNREAD_ROUTES:
            for zone in zones if "{zone}" in template else [""]:
                routes[template.format(zone=zone, region=region)] = listing(name, [])
    routes["/rdb/v1/regions/fr-par/instances"] = listing("instances", [database()])
    routes["/key-manager/v1alpha1/regions/fr-par/keys"] = listing("keys", [key()])
    return routes


def error(status: int, message: str, kind: str) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "type": kind}


class RecordedScaleway:
    """A local HTTP server answering with recorded Scaleway API responses."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                path = urlsplit(self.path).path
                owner.requests.append((self.command, path))
                query = parse_qs(urlsplit(self.path).query)
                if [v.lower() for v in query.get("scheduled_for_deletion", [])] == ["true"]:
                    path += "#scheduled_for_deletion"  # keys pending deletion are listed apart
                pending_keys = path.startswith("/key-manager/") and path.endswith("#scheduled_for_deletion")
                answer = owner.routes.get(path, listing("keys", []) if pending_keys else None)
                if isinstance(answer, list):
                    answer = answer.pop(0) if len(answer) > 1 else answer[0]
                if answer is None:
                    status, body = 404, {"message": "resource is not found", "type": "not_found"}
                elif isinstance(answer, tuple):
                    status, body = answer
                else:
                    status, body = 200, copy.deepcopy(answer)
                    page = parse_qs(urlsplit(self.path).query).get("page", ["1"])[0]
                    if page != "1" and "total_count" in body:  # one page of results, as recorded
                        body = {k: ([] if isinstance(v, list) else v) for k, v in body.items()}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordedScaleway:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(routes: dict[str, Any]) -> Iterator[RecordedScaleway]:
    with RecordedScaleway(routes) as server:
        yield server
