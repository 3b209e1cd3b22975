"""Reads a live Scaleway project into the policies' resource model (enforcement point 4).

Databases (``encryption.enabled`` -> ``encryptionAtRest``, endpoints -> ``privateNetwork`` /
``loadBalancer``), their snapshots and Key Manager keys come from the ``scaleway`` SDK; Object
Storage has no SDK API (it is S3-compatible), so buckets and their encryption, ACL and policy are
read with boto3 against ``https://s3.<region>.scw.cloud`` through the same read-only guard as AWS.
The other products are listed, not read in detail (:mod:`policies.inputs.live.scaleway_inventory`):
each of their resources fails BK-LIVE-005.

Read-only by construction: every SDK API object the reader uses has its ``_request`` replaced by
one that refuses any method but GET (:func:`read_only_api`), and the S3 client is a guarded boto3
session. 401 stops the run (credentials), 403 becomes a gap naming the permission set to grant,
429 and 503 are retried with exponential backoff.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

import requests
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from facts import providers as provider_facts
from facts.tokens import SCALEWAY_KEY
from policies.inputs.live.errors import DENIED_CODES, Coverage, CredentialError, Gap, UnknownRegionError
from policies.inputs.live.guard import ReadOnlyViolationError, iam_action, read_only_session
from policies.inputs.live.scaleway_inventory import product_apis, read_unread_products
from policies.model import Resource, Stack

PROJECT: Final = "sovereign-booking"
#: Scaleway regions (scaleway_core.bridge.region.ALL_REGIONS at the time of writing, plus it-mil).
KNOWN_REGIONS: Final = ("fr-par", "nl-ams", "pl-waw", "it-mil")

DATABASE: Final = "scaleway:databases/instance:Instance"
READ_REPLICA: Final = "scaleway:databases/readReplica:ReadReplica"
DB_SNAPSHOT: Final = "scaleway:databases/snapshot:Snapshot"
KEY: Final = SCALEWAY_KEY
BUCKET: Final = "scaleway:object/bucket:Bucket"
BUCKET_SSE: Final = (
    "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_ACL: Final = "scaleway:object/bucketAcl:BucketAcl"
BUCKET_POLICY: Final = "scaleway:object/bucketPolicy:BucketPolicy"

#: Scaleway IAM permission sets each read needs (Scaleway IAM documentation, "Permission sets").
PERMISSION_SETS: Final[Mapping[str, str]] = {
    "rdb": "RelationalDatabasesReadOnly",
    "key_manager": "KeyManagerReadOnly",
    "s3": "ObjectStorageBucketsRead",
    "instance": "InstancesReadOnly",
    "block": "BlockStorageReadOnly",
    "redis": "RedisReadOnly",
    "secret": "SecretManagerReadOnly",
    "container": "ContainersReadOnly",
    "function": "FunctionsReadOnly",
}
_RETRY_STATUS: Final = frozenset({429, 503})
_S3_ABSENT: Final = frozenset({"ServerSideEncryptionConfigurationNotFoundError", "NoSuchBucketPolicy"})

Progress = Callable[[str], None]


class UnreadableError(Exception):
    """A read failed and was recorded as a gap."""


class ScalewayHTTPError(Exception):
    """A Scaleway API answer with an error status, raised by the guarded request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def read_only_api(
    api: Any,
    *,
    attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    counter: Coverage | None = None,
) -> Any:
    """Makes an SDK API object read-only (GET only) and retrying on 429/503 with exponential backoff."""
    original = api._request

    def guarded(method: str, path: str, *args: Any, **kwargs: Any) -> requests.Response:
        if method.upper() != "GET":
            raise ReadOnlyViolationError(
                f"verify is read-only: {method.upper()} {path} is not a read; no request was sent"
            )
        response: requests.Response = original(method, path, *args, **kwargs)
        for attempt in range(1, attempts):
            if response.status_code not in _RETRY_STATUS:
                break
            if counter is not None:
                counter.retries += 1
            sleep(min(20.0, 0.5 * 2**attempt))
            response = original(method, path, *args, **kwargs)
        if counter is not None:
            counter.calls += 1
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", response.text))
            except ValueError:
                message = response.text
            raise ScalewayHTTPError(response.status_code, message)
        return response

    api._request = guarded
    return api


def _no_progress(_: str) -> None:
    return None


@dataclass
class ScalewayReader:
    """Reads one Scaleway project; ``read()`` returns the model, ``coverage`` what could not be checked."""

    client: Any
    project_id: str
    allowed_regions: tuple[str, ...] = field(
        default_factory=lambda: provider_facts.allowed_regions()["scaleway"]
    )
    stack_name: str = ""
    progress: Progress = _no_progress
    #: Object Storage endpoints by region (tests point fr-par at a local S3 server).
    s3_endpoints: Mapping[str, str] | None = None
    sleep: Callable[[float], None] = time.sleep
    coverage: Coverage = field(default_factory=Coverage)
    _resources: list[Resource] = field(default_factory=list)

    @classmethod
    def from_environment(
        cls,
        *,
        project_id: str | None,
        allowed_regions: tuple[str, ...],
        stack_name: str = "",
        progress: Progress = _no_progress,
    ) -> ScalewayReader:
        """Credentials from ``~/.config/scw/config.yaml`` and ``SCW_*`` variables, as the CLI takes them."""
        from scaleway import Client

        client = Client.from_config_file_and_env()
        project = project_id or client.default_project_id
        if not client.access_key or not client.secret_key:
            raise CredentialError(
                "no Scaleway credentials found: set SCW_ACCESS_KEY and SCW_SECRET_KEY (or a profile in "
                "~/.config/scw/config.yaml)"
            )
        if not project:
            raise CredentialError("no Scaleway project: pass --project-id or set SCW_DEFAULT_PROJECT_ID")
        return cls(client, project, allowed_regions, stack_name, progress)

    # -- plumbing ---------------------------------------------------------------------------------

    def _api(self, kind: str) -> Any:
        try:
            if kind == "rdb":
                from scaleway.rdb.v1 import RdbV1API

                return read_only_api(RdbV1API(self.client), sleep=self.sleep, counter=self.coverage)
            from scaleway.key_manager.v1alpha1 import KeyManagerV1Alpha1API

            return read_only_api(KeyManagerV1Alpha1API(self.client), sleep=self.sleep, counter=self.coverage)
        except ValueError as error:  # the SDK's own credential format checks
            raise CredentialError(f"Scaleway credentials are not valid: {error}") from error

    def guarded(self, kind: str, region: str, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ScalewayHTTPError as error:
            if error.status == 401:
                raise CredentialError(
                    f"Scaleway rejected the credentials (HTTP 401: {error.message}): check SCW_SECRET_KEY, or "
                    "create a new API key if it expired"
                ) from error
            if error.status == 403:
                self.coverage.add(
                    Gap(
                        "scaleway",
                        region,
                        what,
                        PERMISSION_SETS[kind],
                        f"permission denied ({error.message})",
                    )
                )
            elif error.status in _RETRY_STATUS:
                self.coverage.add(Gap("scaleway", region, what, "", f"still throttled ({error.message})"))
            else:
                self.coverage.add(Gap("scaleway", region, what, "", str(error)))
            raise UnreadableError from error
        except requests.RequestException as error:
            self.coverage.add(Gap("scaleway", region, what, "", f"{type(error).__name__}: {error}"))
            raise UnreadableError from error

    def add(
        self, type_token: str, name: str, region: str, properties: dict[str, Any], ident: str = ""
    ) -> Resource:
        urn = f"urn:pulumi:{self.stack_name}::{PROJECT}::{type_token}::{region}/{name}"
        resource = Resource(
            type=type_token,
            name=name,
            urn=urn,
            properties={k: v for k, v in properties.items() if v is not None},
            provider="scaleway",
            region=region,
            id=ident or name,
        )
        self._resources.append(resource)
        return resource

    # -- read ---------------------------------------------------------------------------------------

    def regions(self, wanted: str | Sequence[str]) -> list[str]:
        if wanted == "all":
            return list(KNOWN_REGIONS)
        if not wanted:
            raise UnknownRegionError(
                "--regions: no region given; pass 'all' (every Scaleway region, the default) or a "
                f"comma-separated list of {', '.join(KNOWN_REGIONS)}"
            )
        unknown = [r for r in wanted if r not in KNOWN_REGIONS]
        if unknown:
            raise UnknownRegionError(
                f"unknown Scaleway region(s) {', '.join(unknown)}; known regions: {', '.join(KNOWN_REGIONS)}"
            )
        return list(dict.fromkeys(wanted))

    def read(self, wanted: str | Sequence[str] = "all") -> Stack:
        if not self.stack_name:
            self.stack_name = f"live-scaleway-{self.project_id[:8]}"
        regions = self.regions(wanted)
        self.coverage.regions = regions
        rdb, keys = self._api("rdb"), self._api("key_manager")
        products = product_apis(self)
        for index, region in enumerate(regions, 1):
            before = len(self._resources)
            for step in (self._databases, self._snapshots, self._keys):
                with contextlib.suppress(UnreadableError):
                    step(rdb if step != self._keys else keys, region)
            with contextlib.suppress(UnreadableError):
                self._buckets(region)
            read_unread_products(self, products, region)
            self.progress(f"[{index}/{len(regions)}] {region}: {len(self._resources) - before} resource(s)")
        config = {
            "scaleway:region": self.allowed_regions[0] if self.allowed_regions else "fr-par",
        }
        return Stack(
            self.stack_name, list(self._resources), config, gaps=tuple(self.coverage.gaps), kind="live"
        )

    def _databases(self, rdb: Any, region: str) -> None:
        instances = self.guarded(
            "rdb",
            region,
            "Managed Databases",
            lambda: rdb.list_instances_all(region=region, project_id=self.project_id, page_size=100),
        )
        for instance in instances:
            endpoints = list(instance.endpoints or [])
            private = next((e.private_network for e in endpoints if e.private_network is not None), None)
            public = [e for e in endpoints if e.load_balancer is not None]
            direct = [e for e in endpoints if getattr(e, "direct_access", None) is not None]
            encryption = instance.encryption
            self.add(
                DATABASE,
                instance.name,
                instance.region or region,
                {
                    "name": instance.name,
                    "engine": instance.engine,
                    "encryptionAtRest": bool(encryption and encryption.enabled),
                    "privateNetwork": (
                        {"pnId": private.private_network_id, "ipNet": private.service_ip} if private else None
                    ),
                    "loadBalancer": [{"ip": e.ip, "port": e.port} for e in public] or None,
                    "directAccess": bool(direct) or None,
                    "backupSameRegion": instance.backup_same_region,
                    "status": str(instance.status),
                },
                ident=f"{instance.region or region}/{instance.id}",
            )
            for replica in instance.read_replicas or []:
                self.add(
                    READ_REPLICA,
                    replica.id,
                    replica.region or region,
                    {"instanceId": f"{region}/{instance.id}"},
                    ident=f"{replica.region or region}/{replica.id}",
                )

    def _snapshots(self, rdb: Any, region: str) -> None:
        snapshots = self.guarded(
            "rdb",
            region,
            "database snapshots",
            lambda: rdb.list_snapshots_all(region=region, project_id=self.project_id, page_size=100),
        )
        for snapshot in snapshots:
            self.add(
                DB_SNAPSHOT,
                snapshot.name,
                snapshot.region or region,
                {"name": snapshot.name, "instanceId": f"{region}/{snapshot.instance_id}"},
                ident=f"{snapshot.region or region}/{snapshot.id}",
            )

    def _keys(self, km: Any, region: str) -> None:
        keys: list[tuple[Any, bool]] = []
        for scheduled in (False, True):  # the API lists keys pending deletion only when asked
            listed = self.guarded(
                "key_manager",
                region,
                "Key Manager keys",
                partial(
                    km.list_keys_all,
                    region=region,
                    project_id=self.project_id,
                    scheduled_for_deletion=scheduled,
                    page_size=100,
                ),
            )
            keys.extend((key, scheduled) for key in listed)
        for key, scheduled in keys:
            usage = key.usage
            kind = next(
                (name for name in ("symmetric_encryption", "asymmetric_encryption", "asymmetric_signing")
                 if usage is not None and getattr(usage, name, None)),
                None,
            )  # fmt: skip
            self.add(
                KEY,
                key.name,
                key.region or region,
                {
                    "name": key.name,
                    "usage": kind,
                    "state": "scheduled_for_deletion" if scheduled else str(key.state),
                    "origin": str(key.origin),
                    "projectId": key.project_id,
                    "id": f"{key.region or region}/{key.id}",
                },
                ident=key.id,
            )

    # -- Object Storage (S3 API) --------------------------------------------------------------------------

    def _s3(self, region: str) -> BaseClient | None:
        endpoints = self.s3_endpoints or {r: f"https://s3.{r}.scw.cloud" for r in KNOWN_REGIONS}
        if region not in endpoints:
            return None
        session = read_only_session(region=region)
        client: BaseClient = session.client(
            "s3",
            region_name=region,
            endpoint_url=endpoints[region],
            aws_access_key_id=self.client.access_key,
            aws_secret_access_key=self.client.secret_key,
            config=Config(retries={"mode": "standard", "max_attempts": 6}, s3={"addressing_style": "path"}),
        )
        return client

    def _s3_call(
        self, client: BaseClient, region: str, operation: str, what: str, **params: Any
    ) -> dict[str, Any]:
        from botocore import xform_name

        try:
            result: dict[str, Any] = getattr(client, xform_name(operation))(**params)
            self.coverage.calls += 1
            return result
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _S3_ABSENT:
                return {}
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise CredentialError(f"Scaleway Object Storage rejected the credentials ({code})") from error
            permission = (
                f"{PERMISSION_SETS['s3']} ({iam_action('s3', operation)})" if code in DENIED_CODES else ""
            )
            self.coverage.add(Gap("scaleway", region, what, permission, code or str(error)))
            raise UnreadableError from error
        except BotoCoreError as error:
            self.coverage.add(Gap("scaleway", region, what, "", f"{type(error).__name__}: {error}"))
            raise UnreadableError from error

    def _buckets(self, region: str) -> None:
        client = self._s3(region)
        if client is None:
            return
        buckets = self._s3_call(client, region, "ListBuckets", "Object Storage buckets").get("Buckets", [])
        for bucket in buckets:
            name = bucket["Name"]
            with contextlib.suppress(UnreadableError):
                sse = self._s3_call(
                    client, region, "GetBucketEncryption", f"bucket {name} encryption", Bucket=name
                )
                acl = self._s3_call(client, region, "GetBucketAcl", f"bucket {name} ACL", Bucket=name)
                policy: dict[str, Any] = {}
                with contextlib.suppress(UnreadableError):  # a gap, but the bucket is still judged
                    policy = self._s3_call(
                        client, region, "GetBucketPolicy", f"bucket {name} policy", Bucket=name
                    )
                self.add(BUCKET, name, region, {"name": name}, ident=name)
                rules = sse.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
                if rules:
                    self.add(
                        BUCKET_SSE,
                        name,
                        region,
                        {
                            "bucket": name,
                            "rules": [
                                {
                                    "applyServerSideEncryptionByDefault": {
                                        "sseAlgorithm": r.get("ApplyServerSideEncryptionByDefault", {}).get(
                                            "SSEAlgorithm"
                                        ),
                                        "kmsMasterKeyId": r.get("ApplyServerSideEncryptionByDefault", {}).get(
                                            "KMSMasterKeyID"
                                        ),
                                    }
                                }
                                for r in rules
                            ],
                        },
                    )
                grants = [
                    {"grantee": {"uri": g.get("Grantee", {}).get("URI")}, "permission": g.get("Permission")}
                    for g in acl.get("Grants", [])
                ]
                self.add(
                    BUCKET_ACL, name, region, {"bucket": name, "accessControlPolicy": {"grants": grants}}
                )
                if policy.get("Policy"):
                    self.add(BUCKET_POLICY, name, region, {"bucket": name, "policy": policy["Policy"]})
