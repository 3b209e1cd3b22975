"""What the comparison reads from an offline preview: inventory, key custody, bill of materials.

Everything here is derived from the preview document (``pulumi preview --json`` shape), so the
report's figures change when the stacks change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from facts.tokens import CUSTOM_KEY_STORE, KMS_KEY, SCALEWAY_KEY

CATEGORIES = ("compute", "data", "network", "keys", "logging", "identity", "other")

#: Type-token fragments → category (first match wins). Component resources are not counted.
_CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("kms/", "keys"),
    ("keymanager/", "keys"),
    ("secretsmanager/", "keys"),
    ("secrets/", "keys"),
    ("cloudwatch/", "logging"),
    ("cloudtrail/", "logging"),
    ("observability/", "logging"),
    ("flowLog", "logging"),
    ("bucketLogging", "logging"),
    ("rds/", "data"),
    ("s3/", "data"),
    ("databases/", "data"),
    ("object/", "data"),
    ("backup/", "data"),
    ("ecs/", "compute"),
    ("containers/", "compute"),
    ("instance/server", "compute"),
    ("ec2/", "network"),
    ("lb/", "network"),
    ("loadbalancers/", "network"),
    ("network/", "network"),
    ("vpc/", "network"),
    ("iam/", "identity"),
    ("randomPassword", "identity"),
)

#: Resource types that hold data a key protects (for the custody diagram).
DATA_STORE_TYPES = (
    "aws:rds/instance:Instance",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:secretsmanager/secret:Secret",
    "aws:backup/vault:Vault",
    "aws:cloudtrail/trail:Trail",
    "scaleway:databases/instance:Instance",
    "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "scaleway:secrets/secret:Secret",
    "scaleway:containers/container:Container",
)


class PreviewError(ValueError):
    """The preview document does not have the expected shape."""


def name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def category_of(type_token: str) -> str:
    for fragment, category in _CATEGORY_RULES:
        if fragment in type_token:
            return category
    return "other"


@dataclass
class Option:
    """One stack: its target (aws / scaleway / keystore), config and resources."""

    stack: str
    target: str
    config: dict[str, str]
    states: list[dict[str, Any]]

    @property
    def cloud_resources(self) -> list[dict[str, Any]]:
        """Custom resources of a cloud provider (not providers, not the engine's own packages)."""
        return [
            s
            for s in self.states
            if s.get("custom") and not s["type"].startswith(("pulumi:", "pulumi-python:", "random:"))
        ]

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [s for s in self.states if s["type"] == type_token]

    def region(self) -> str:
        return (
            self.config.get("booking:region")
            or self.config.get("aws:region")
            or self.config.get("scaleway:region", "unknown")
        )

    def sizes(self) -> dict[str, Any]:
        raw = self.config.get("booking:sizes", "{}")
        try:
            sizes = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            return {}
        return sizes if isinstance(sizes, dict) else {}


def option_from_preview(stack: str, document: Mapping[str, Any]) -> Option:
    config = document.get("config")
    steps = document.get("steps")
    if not isinstance(config, dict) or not isinstance(steps, list):
        raise PreviewError(f"preview of {stack!r}: expected 'config' mapping and 'steps' list")
    states = []
    for step in steps:
        state = step.get("newState") if isinstance(step, dict) else None
        if isinstance(state, dict) and "type" in state and "urn" in state:
            states.append(state)
    target = str(config.get("booking:target", ""))
    if target not in ("aws", "scaleway", "keystore"):
        raise PreviewError(
            f"preview of {stack!r}: booking:target {target!r} is not aws, scaleway or keystore"
        )
    return Option(stack, target, {str(k): str(v) for k, v in config.items()}, states)


def inventory(option: Option) -> dict[str, Counter[str]]:
    """Cloud resources per category, each a count per type token."""
    result: dict[str, Counter[str]] = {c: Counter() for c in CATEGORIES}
    for state in option.cloud_resources:
        result[category_of(state["type"])][state["type"]] += 1
    return result


# --- key custody -----------------------------------------------------------------------------


@dataclass(eq=False)
class Key:
    name: str
    type: str
    where: str
    operator: str
    protects: list[str] = field(default_factory=list)
    domain: str = ""


@dataclass
class Custody:
    store: str
    store_operator: str
    keys: list[Key]
    unkeyed: list[str]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        if value.startswith(("[", "{")):
            try:
                yield from _strings(json.loads(value))
            except json.JSONDecodeError:
                return
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def custody(option: Option) -> Custody:
    """Each key of the stack, where its material lives, who operates it and which stores it protects."""
    key_states = [s for s in option.states if s["type"] in (KMS_KEY, SCALEWAY_KEY)]
    ids: dict[str, Key] = {}
    keys: list[Key] = []
    store = "none"
    store_operator = ""
    for cks in option.of_type(CUSTOM_KEY_STORE):
        inputs = cks.get("inputs", {})
        store = f"{inputs.get('customKeyStoreType', '?')} at {inputs.get('xksProxyUriEndpoint', '?')}"
        store_operator = "French key custodian (XKS proxy + HSM in France)"
    for state in key_states:
        inputs, outputs = state.get("inputs", {}), state.get("outputs", {}) or {}
        if state["type"] == KMS_KEY:
            external = bool(inputs.get("customKeyStoreId"))
            where = (
                f"HSM in France (external key {inputs.get('xksKeyId', '?')})"
                if external
                else f"AWS KMS {option.region()}"
            )
            operator = "French key custodian; used by AWS KMS" if external else "AWS"
            domain = str((inputs.get("tags") or {}).get("booking:data-domain", ""))
        else:
            where = f"Scaleway Key Manager {inputs.get('region', option.region())}"
            operator = "Scaleway"
            domain = name_of(state["urn"]).rsplit("-", 1)[-1]
        key = Key(name_of(state["urn"]), state["type"], where, operator, domain=domain)
        keys.append(key)
        for ident in (outputs.get("arn"), outputs.get("id"), outputs.get("keyId")):
            if isinstance(ident, str) and ident:
                ids[ident] = key
    unkeyed = []
    for state in option.states:
        if state["type"] not in DATA_STORE_TYPES:
            continue
        found = {ids[s] for s in _strings(state.get("inputs", {})) if s in ids}
        kind = state["type"].rsplit(":", 1)[-1]
        if kind == "Container":
            kind = "Container: application-level field encryption"
        label = f"{name_of(state['urn'])} ({kind})"
        for key in keys:
            if key in found:
                key.protects.append(label)
        if not found and state["type"] != "scaleway:containers/container:Container":
            unkeyed.append(label)
    return Custody(store, store_operator, keys, unkeyed)


# --- bill of materials -----------------------------------------------------------------------


@dataclass(frozen=True)
class Assumptions:
    """The load model: not sourced facts, listed in the report as assumptions."""

    appointments_per_month: int = 5_000_000
    kb_per_appointment: float = 500.0  # HTTP requests and responses through the load balancer
    kms_requests_per_appointment: float = 2.0  # envelope decrypts reaching KMS or Key Manager (after caching)
    nat_kb_per_appointment: float = 10.0  # outbound calls (SMS/e-mail gateways) through NAT
    document_share: float = 0.1  # share of appointments that upload a document
    document_kb: float = 200.0
    retention_months: float = 3.0  # appointment data kept 3 months (CE 12 March 2021 n° 450163)
    log_kb_per_appointment: float = 2.0
    hours_per_month: float = 730.0

    def describe(self) -> list[tuple[str, str]]:
        return [
            ("Appointments per month", f"{self.appointments_per_month:,}"),
            ("Traffic through the load balancer per appointment", f"{self.kb_per_appointment:g} KB"),
            (
                "Key-service requests per appointment (after data-key caching)",
                f"{self.kms_requests_per_appointment:g}",
            ),
            ("Outbound traffic through NAT per appointment", f"{self.nat_kb_per_appointment:g} KB"),
            ("Share of appointments uploading a document", f"{self.document_share:.0%}"),
            ("Document size", f"{self.document_kb:g} KB"),
            ("Retention of appointment data", f"{self.retention_months:g} months (as in CE n° 450163)"),
            ("Logs per appointment", f"{self.log_kb_per_appointment:g} KB"),
            ("Hours per month", f"{self.hours_per_month:g}"),
            ("Services run at the preview's fixed size", "no autoscaling modelled"),
        ]


@dataclass(frozen=True)
class Quantity:
    """One line of the bill of materials, before pricing."""

    category: str
    item: str
    quantity: float
    unit: str
    price_key: str
    basis: str


GB = 1024 * 1024  # KB per GB


def bill_of_materials(option: Option, a: Assumptions) -> list[Quantity]:
    if option.target == "aws":
        return _aws_bom(option, a)
    if option.target == "scaleway":
        return _scaleway_bom(option, a)
    return _keystore_bom(option, a)


def _documents_gb(a: Assumptions) -> float:
    return a.appointments_per_month * a.document_share * a.document_kb * a.retention_months / GB


def _aws_bom(option: Option, a: Assumptions) -> list[Quantity]:
    h = a.hours_per_month
    n = a.appointments_per_month
    lines: list[Quantity] = []
    tasks = {
        name_of(t["urn"]): t.get("inputs", {})
        for t in option.of_type("aws:ecs/taskDefinition:TaskDefinition")
    }
    for service in option.of_type("aws:ecs/service:Service"):
        inputs = service.get("inputs", {})
        count = float(inputs.get("desiredCount", 1))
        task: dict[str, Any] = next(
            (t for name, t in tasks.items() if name.startswith(name_of(service["urn"]))), {}
        )
        vcpu = float(task.get("cpu", 256)) / 1024
        mem = float(task.get("memory", 512)) / 1024
        label = name_of(service["urn"])
        lines.append(
            Quantity(
                "compute",
                f"Fargate {label}: {count:g} x {vcpu:g} vCPU",
                count * vcpu * h,
                "vCPU-hours",
                "fargate-arm-vcpu-hour",
                "desiredCount x cpu/1024 x hours",
            )
        )
        lines.append(
            Quantity(
                "compute",
                f"Fargate {label}: {count:g} x {mem:g} GB",
                count * mem * h,
                "GB-hours",
                "fargate-arm-gb-hour",
                "desiredCount x memory/1024 x hours",
            )
        )
    for db in option.of_type("aws:rds/instance:Instance"):
        inputs = db.get("inputs", {})
        copies = 2.0 if inputs.get("multiAz") else 1.0
        cls = inputs.get("instanceClass", "?")
        lines.append(
            Quantity(
                "data",
                f"RDS {cls}{' Multi-AZ' if copies == 2 else ''}",
                copies * h,
                "instance-hours",
                f"rds-instance-hour:{cls}",
                "instances (x2 Multi-AZ) x hours",
            )
        )
        storage = float(inputs.get("allocatedStorage", 0))
        lines.append(
            Quantity(
                "data",
                f"RDS {inputs.get('storageType', 'gp3')} storage {storage:g} GB",
                copies * storage,
                "GB-months",
                "rds-gp3-gb-month",
                "allocatedStorage (x2 Multi-AZ)",
            )
        )
    buckets = option.of_type("aws:s3/bucket:Bucket")
    if buckets:
        lines.append(
            Quantity(
                "data",
                "S3 documents (retained)",
                _documents_gb(a),
                "GB-months",
                "s3-gb-month",
                "appointments x document share x size x retention",
            )
        )
    for _vault in option.of_type("aws:backup/vault:Vault"):
        db_gb = sum(
            float(d.get("inputs", {}).get("allocatedStorage", 0))
            for d in option.of_type("aws:rds/instance:Instance")
        )
        lines.append(
            Quantity(
                "data",
                "AWS Backup vault (database + documents)",
                db_gb + _documents_gb(a),
                "GB-months",
                "backup-gb-month",
                "database storage + documents",
            )
        )
    nats = option.of_type("aws:ec2/natGateway:NatGateway")
    if nats:
        lines.append(
            Quantity(
                "network",
                f"NAT gateways x{len(nats)}",
                len(nats) * h,
                "NAT-hours",
                "nat-hour",
                "NAT gateways in the preview x hours",
            )
        )
        lines.append(
            Quantity(
                "network",
                "NAT data processed",
                n * a.nat_kb_per_appointment / GB,
                "GB",
                "nat-gb",
                "appointments x outbound KB",
            )
        )
    eips = option.of_type("aws:ec2/eip:Eip")
    if eips:
        lines.append(
            Quantity(
                "network",
                f"Public IPv4 (Elastic IPs x{len(eips)})",
                len(eips) * h,
                "IPv4-hours",
                "public-ipv4-hour",
                "Elastic IPs in the preview x hours",
            )
        )
    for lb in option.of_type("aws:lb/loadBalancer:LoadBalancer"):
        lines.append(Quantity("network", f"ALB {name_of(lb['urn'])}", h, "ALB-hours", "alb-hour", "hours"))
        inputs = lb.get("inputs", {})
        if not inputs.get("internal"):
            # An internet-facing ALB holds one public IPv4 address per subnet, billed like any other.
            addresses = len(inputs.get("subnets") or []) or len(inputs.get("subnetMappings") or [])
            lines.append(
                Quantity(
                    "network",
                    f"Public IPv4 (ALB, x{addresses} subnets)",
                    addresses * h,
                    "IPv4-hours",
                    "public-ipv4-hour",
                    "internet-facing ALB subnets x hours",
                )
            )
        gb_per_hour = n * a.kb_per_appointment / GB / h
        lines.append(
            Quantity(
                "network",
                "ALB capacity units (processed bytes)",
                max(1.0, gb_per_hour) * h,
                "LCU-hours",
                "alb-lcu-hour",
                "max(1, GB processed per hour) x hours",
            )
        )
    keys = option.of_type(KMS_KEY)
    if keys:
        lines.append(
            Quantity(
                "keys",
                f"KMS keys x{len(keys)} (external key store)",
                float(len(keys)),
                "key-months",
                "kms-key-month",
                "KMS keys in the preview",
            )
        )
        lines.append(
            Quantity(
                "keys",
                "KMS requests",
                n * a.kms_requests_per_appointment / 10_000,
                "10k requests",
                "kms-requests-10k",
                "appointments x KMS requests per appointment",
            )
        )
    secrets = len(option.of_type("aws:secretsmanager/secret:Secret"))
    secrets += sum(
        1
        for d in option.of_type("aws:rds/instance:Instance")
        if d.get("inputs", {}).get("manageMasterUserPassword")
    )
    if secrets:
        lines.append(
            Quantity(
                "keys",
                f"Secrets Manager secrets x{secrets}",
                float(secrets),
                "secret-months",
                "secret-month",
                "secrets + RDS-managed master secret",
            )
        )
    groups = option.of_type("aws:cloudwatch/logGroup:LogGroup")
    if groups:
        lines.append(
            Quantity(
                "logging",
                f"CloudWatch Logs ingestion ({len(groups)} groups)",
                n * a.log_kb_per_appointment / GB,
                "GB",
                "logs-ingest-gb",
                "appointments x log KB",
            )
        )
    return lines


def _scaleway_bom(option: Option, a: Assumptions) -> list[Quantity]:
    seconds = a.hours_per_month * 3600
    lines: list[Quantity] = []
    for container in option.of_type("scaleway:containers/container:Container"):
        inputs = container.get("inputs", {})
        count = float(inputs.get("minScale", 1))
        vcpu = float(inputs.get("cpuLimit", 1000)) / 1000
        mem = float(inputs.get("memoryLimit", 1024)) / 1024
        label = name_of(container["urn"])
        lines.append(
            Quantity(
                "compute",
                f"Container {label}: {count:g} x {vcpu:g} vCPU (minScale)",
                count * vcpu * seconds,
                "vCPU-s",
                "container-vcpu-s",
                "minScale x cpuLimit x seconds",
            )
        )
        lines.append(
            Quantity(
                "compute",
                f"Container {label}: {count:g} x {mem:g} GB (minScale)",
                count * mem * seconds,
                "GB-s",
                "container-gb-s",
                "minScale x memoryLimit x seconds",
            )
        )
    for db in option.of_type("scaleway:databases/instance:Instance"):
        inputs = db.get("inputs", {})
        nodes = 2.0 if inputs.get("isHaCluster") else 1.0
        node_type = str(inputs.get("nodeType", "?")).lower()
        volume_type = str(inputs.get("volumeType", "?"))
        lines.append(
            Quantity(
                "data",
                f"Managed PostgreSQL {node_type}{' HA' if nodes == 2 else ''}",
                nodes,
                "node-months",
                f"database-node-month:{node_type}",
                "nodes (x2 HA: primary and standby)",
            )
        )
        lines.append(
            Quantity(
                "data",
                f"Database volume {volume_type} {float(inputs.get('volumeSizeInGb', 0)):g} GB",
                nodes * float(inputs.get("volumeSizeInGb", 0)),
                "GB-months",
                f"database-volume-gb-month:{volume_type}",
                "volumeSizeInGb (x2 HA)",
            )
        )
    if option.of_type("scaleway:object/bucket:Bucket"):
        lines.append(
            Quantity(
                "data",
                "Object Storage documents (retained)",
                _documents_gb(a),
                "GB-months",
                "object-gb-month",
                "appointments x document share x size x retention",
            )
        )
    lines += _scaleway_load_balancers(option)
    lines += _key_manager_keys(option)
    if option.of_type(SCALEWAY_KEY):
        lines.append(
            Quantity(
                "keys",
                "Key Manager requests",
                a.appointments_per_month * a.kms_requests_per_appointment / 10_000,
                "10k requests",
                "key-requests-10k",
                "appointments x key-service requests per appointment",
            )
        )
    lines += _scaleway_secrets(option)
    if option.of_type("scaleway:observability/source:Source"):
        lines.append(
            Quantity(
                "logging",
                "Cockpit logs ingestion",
                a.appointments_per_month * a.log_kb_per_appointment / GB,
                "GB",
                "logs-ingest-gb",
                "appointments x log KB",
            )
        )
    return lines


def _scaleway_load_balancers(option: Option) -> list[Quantity]:
    return [
        Quantity(
            "network",
            f"Load Balancer {lb.get('inputs', {}).get('type', '?')}",
            1.0,
            "LB-months",
            f"lb-month:{lb.get('inputs', {}).get('type', '?')}",
            "load balancers in the preview",
        )
        for lb in option.of_type("scaleway:loadbalancers/loadBalancer:LoadBalancer")
    ]


def _key_manager_keys(option: Option) -> list[Quantity]:
    keys = option.of_type(SCALEWAY_KEY)
    if not keys:
        return []
    return [
        Quantity(
            "keys",
            f"Key Manager keys x{len(keys)}",
            float(len(keys)),
            "key-months",
            "key-month",
            "keys in the preview",
        )
    ]


def _scaleway_secrets(option: Option) -> list[Quantity]:
    secrets = option.of_type("scaleway:secrets/secret:Secret")
    if not secrets:
        return []
    return [
        Quantity(
            "keys",
            f"Secret Manager secrets x{len(secrets)}",
            float(len(secrets)),
            "secret-months",
            "secret-month",
            "secrets in the preview (one version each)",
        )
    ]


def _keystore_bom(option: Option, a: Assumptions) -> list[Quantity]:
    """The French key store: proxy hosts, their load balancer and addresses, its secrets and key, and
    the HSM the custodian operates (named by the hosts' hsm-kind tag; it has no cloud resource)."""
    servers = option.of_type("scaleway:instance/server:Server")
    lines = [
        Quantity(
            "keys",
            f"Key store host {name_of(s['urn'])} ({s.get('inputs', {}).get('type', '?')})",
            1.0,
            "instance-months",
            f"instance-month:{s.get('inputs', {}).get('type', '?')}",
            "proxy instances in the keystore preview",
        )
        for s in servers
    ]
    addresses = option.of_type("scaleway:instance/ip:Ip")
    if addresses:
        lines.append(
            Quantity(
                "network",
                f"Flexible IPv4 addresses x{len(addresses)}",
                float(len(addresses)),
                "IPv4-months",
                "flexible-ipv4-month",
                "instance IPs in the keystore preview",
            )
        )
    lines += _scaleway_load_balancers(option)
    lines += _scaleway_secrets(option)
    lines += _key_manager_keys(option)
    kinds = sorted(
        {
            tag.split("=", 1)[1]
            for s in servers
            for tag in s.get("inputs", {}).get("tags") or []
            if isinstance(tag, str) and tag.startswith("hsm-kind=")
        }
    )
    lines += [
        Quantity(
            "keys", f"HSM ({kind})", 1.0, "HSM-months", f"hsm-month:{kind}", "hsm-kind tag of the proxy hosts"
        )
        for kind in kinds
    ]
    return lines
