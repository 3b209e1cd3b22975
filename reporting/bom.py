"""Bill of materials: what each stack consumes per month, read from its preview and the load model.

Quantities only; prices are applied by reporting/cost.py from data/prices/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facts.tokens import GCP_BUCKET, GCP_KMS_KEY, GCP_SQL_INSTANCE, KMS_KEY, SCALEWAY_KEY
from reporting.analysis import Option, name_of

GB = 1024 * 1024  # KB per GB


@dataclass(frozen=True)
class Assumptions:
    """The load model: assumptions, listed in the report as such (the peak figure is sourced there)."""

    appointments_per_month: int = 5_000_000
    kb_per_appointment: float = 500.0  # HTTP requests and responses through the load balancer
    kms_requests_per_appointment: float = 2.0  # envelope decrypts reaching KMS or Key Manager (after caching)
    nat_kb_per_appointment: float = 10.0  # outbound calls (SMS/e-mail gateways) through NAT
    document_share: float = 0.1  # share of appointments that upload a document
    document_kb: float = 200.0
    retention_months: float = 3.0  # appointment data kept 3 months (CE 12 March 2021 n° 450163)
    log_kb_per_appointment: float = 2.0
    hours_per_month: float = 730.0
    peak_appointments_per_minute: int = 20_000  # busiest minute of 12 July 2021 (doctolib-peak-2021)
    peak_hours_per_month: tuple[float, float] = (0.0, 10.0)  # low: no campaign; high: ten peak hours
    exit_bandwidth_mbps: float = 1000.0  # sustained transfer rate during an exit

    @property
    def egress_gb(self) -> float:
        return self.appointments_per_month * self.kb_per_appointment / GB

    @property
    def peak_gb_per_hour(self) -> float:
        return self.peak_appointments_per_minute * 60 * self.kb_per_appointment / GB

    @property
    def peak_mbps(self) -> float:
        return self.peak_appointments_per_minute / 60 * self.kb_per_appointment * 8 * 1024 / 1_000_000

    def quantity(self, name: str, end: str) -> float:
        """A named quantity for an ownership line, at the range's ``end`` ("low" or "high")."""
        hours = self.peak_hours_per_month[0 if end == "low" else 1]
        values = {
            "egress_gb": self.egress_gb,
            # ALB capacity units: one LCU per GB processed per hour is the binding dimension here.
            "peak_lcu_hours": self.peak_gb_per_hour * hours,
            # Data a byte-billed load balancer processes during the peak hours.
            "peak_gb": self.peak_gb_per_hour * hours,
        }
        if name not in values:
            raise ValueError(f"unknown quantity {name!r} (known: {', '.join(values)})")
        return values[name]


@dataclass(frozen=True)
class Quantity:
    """One line of the bill of materials, before pricing."""

    category: str
    item: str
    quantity: float
    unit: str
    price_key: str
    basis: str


def bill_of_materials(option: Option, a: Assumptions) -> list[Quantity]:
    if option.target == "aws":
        return _aws_bom(option, a)
    if option.target == "scaleway":
        return _scaleway_bom(option, a)
    if option.target == "keystore":
        return _keystore_bom(option, a)
    if option.target == "s3ns":
        return _s3ns_bom(option, a)
    return _generic_bom(option)


CONTAINER = "scaleway:containers/container:Container"


def option_quantities(option: Option | None, a: Assumptions) -> dict[str, tuple[float, float]]:
    """Quantities an ownership line may name that depend on the stack itself, as (low, high) ends of the
    load model: Serverless Containers scaled from ``minScale`` to ``maxScale`` for the peak hours (Option B
    has no load balancer: its peak capacity is the extra container instances, billed per second)."""
    if option is None:
        return {}
    vcpu_s = gb_s = 0.0
    for container in option.of_type(CONTAINER):
        inputs = container.get("inputs", {})
        extra = max(0.0, float(inputs.get("maxScale", 1)) - float(inputs.get("minScale", 1)))
        vcpu_s += extra * float(inputs.get("cpuLimit", 1000)) / 1000 * 3600
        gb_s += extra * float(inputs.get("memoryLimit", 1024)) / 1024 * 3600
    if not vcpu_s:
        return {}
    low, high = a.peak_hours_per_month
    return {
        "peak_container_vcpu_s": (vcpu_s * low, vcpu_s * high),
        "peak_container_gb_s": (gb_s * low, gb_s * high),
    }


def _logs_ingestion(item: str, unit: str, price_key: str, a: Assumptions) -> Quantity:
    """The month's log volume at the load model's log size per appointment, in the provider's unit."""
    return Quantity(
        "logging",
        item,
        a.appointments_per_month * a.log_kb_per_appointment / GB,
        unit,
        price_key,
        "appointments x log KB",
    )


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
            _logs_ingestion(f"CloudWatch Logs ingestion ({len(groups)} groups)", "GB", "logs-ingest-gb", a)
        )
    return lines


def _scaleway_bom(option: Option, a: Assumptions) -> list[Quantity]:
    seconds = a.hours_per_month * 3600
    lines: list[Quantity] = []
    for container in option.of_type(CONTAINER):
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
        lines.append(_logs_ingestion("Cockpit logs ingestion", "GB", "logs-ingest-gb", a))
    return lines


def _scaleway_load_balancers(option: Option) -> list[Quantity]:
    return [
        Quantity(
            "network",
            # Named with its zone: the key store's two load balancers (one per zone) read as two lines.
            f"Load Balancer {lb.get('inputs', {}).get('type', '?')}"
            + (f" ({zone})" if (zone := lb.get("inputs", {}).get("zone")) else ""),
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
    """The French key store: proxy hosts, their load balancer and addresses, its secrets and key. The HSM
    the custodian operates has no cloud resource: it is costed in data/prices/ownership.yaml."""
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
    return lines


def _s3ns_bom(option: Option, a: Assumptions) -> list[Quantity]:
    """Option C on S3NS: Cloud Run at its minimum instances (instance-based billing), Cloud SQL HA, Cloud
    Storage, Cloud KMS key versions and operations, Secret Manager, Cloud Logging, the regional load
    balancer and Cloud Armor. Units follow Google's price list (GiB); prices in data/prices/s3ns-*.yaml."""
    seconds = a.hours_per_month * 3600
    lines: list[Quantity] = []
    for service in option.of_type("gcp:cloudrunv2/service:Service"):
        template = service.get("inputs", {}).get("template", {})
        count = float((template.get("scaling") or {}).get("minInstanceCount", 1))
        limits = ((template.get("containers") or [{}])[0].get("resources") or {}).get("limits", {})
        vcpu = float(str(limits.get("cpu", "1")).rstrip("m") or 1)
        memory = str(limits.get("memory", "512Mi"))
        gib = float(memory[:-2]) / 1024 if memory.endswith("Mi") else float(memory.rstrip("Gi") or 0.5)
        label = name_of(service["urn"])
        lines.append(
            Quantity(
                "compute",
                f"Cloud Run {label}: {count:g} x {vcpu:g} vCPU (min instances)",
                count * vcpu * seconds,
                "vCPU-s",
                "run-vcpu-s",
                "minInstanceCount x cpu x seconds",
            )
        )
        lines.append(
            Quantity(
                "compute",
                f"Cloud Run {label}: {count:g} x {gib:g} GiB (min instances)",
                count * gib * seconds,
                "GiB-s",
                "run-gib-s",
                "minInstanceCount x memory x seconds",
            )
        )
    for db in option.of_type(GCP_SQL_INSTANCE):
        settings = db.get("inputs", {}).get("settings", {})
        tier = str(settings.get("tier", "?"))
        parts = tier.split("-")
        vcpu, ram_gb = (float(parts[2]), float(parts[3]) / 1024) if len(parts) == 4 else (0.0, 0.0)
        ha = settings.get("availabilityType") == "REGIONAL"
        label = f"Cloud SQL {tier}{' HA (regional)' if ha else ''}"
        lines.append(
            Quantity(
                "data",
                f"{label}: {vcpu:g} vCPU",
                vcpu * a.hours_per_month,
                "vCPU-hours",
                "sql-vcpu-hour",
                "tier vCPU x hours",
            )
        )
        lines.append(
            Quantity(
                "data",
                f"{label}: {ram_gb:g} GB RAM",
                ram_gb * a.hours_per_month,
                "GB-hours",
                "sql-ram-gb-hour",
                "tier memory x hours",
            )
        )
        lines.append(
            Quantity(
                "data",
                f"{label}: {float(settings.get('diskSize', 10)):g} GB SSD",
                float(settings.get("diskSize", 10)),
                "GB-months",
                "sql-ssd-gb-month",
                "diskSize",
            )
        )
    if option.of_type(GCP_BUCKET):
        lines.append(
            Quantity(
                "data",
                "Cloud Storage documents (retained)",
                _documents_gb(a),
                "GiB-months",
                "gcs-gib-month",
                "appointments x document share x size x retention",
            )
        )
    levels: dict[str, int] = {}
    for key in option.of_type(GCP_KMS_KEY):
        template = key.get("inputs", {}).get("versionTemplate") or {}
        level = str(template.get("protectionLevel", "SOFTWARE"))
        levels[level] = levels.get(level, 0) + 1
    for level, n in sorted(levels.items()):
        lines.append(
            Quantity(
                "keys",
                f"Cloud KMS keys x{n} ({level})",
                float(n),
                "key-version-months",
                f"kms-key-version-month:{level}",
                "keys in the preview (one active version each)",
            )
        )
    if levels:
        lines.append(
            Quantity(
                "keys",
                "Cloud KMS operations",
                a.appointments_per_month * a.kms_requests_per_appointment / 10_000,
                "10k operations",
                "kms-ops-10k",
                "appointments x key-service requests per appointment",
            )
        )
    secrets = option.of_type("gcp:secretmanager/regionalSecret:RegionalSecret")
    if secrets:
        lines.append(
            Quantity(
                "keys",
                f"Secret Manager secrets x{len(secrets)}",
                float(len(secrets)),
                "secret-versions",
                "secret-version-month",
                "regional secrets in the preview (one version each)",
            )
        )
    if option.of_type("gcp:logging/projectBucketConfig:ProjectBucketConfig"):
        lines.append(_logs_ingestion("Cloud Logging ingestion", "GiB", "logs-ingest-gib", a))
    rules = option.of_type("gcp:compute/forwardingRule:ForwardingRule")
    if rules:
        lines.append(
            Quantity(
                "network",
                f"Load balancer forwarding rules x{len(rules)}",
                len(rules) * a.hours_per_month,
                "rule-hours",
                "lb-forwarding-rule-hour",
                "forwarding rules x hours",
            )
        )
        lines.append(
            Quantity(
                "network",
                "Load balancer data processed",
                a.egress_gb,
                "GiB",
                "lb-processed-gib",
                "appointments x KB per appointment",
            )
        )
    policies = option.of_type("gcp:compute/regionSecurityPolicy:RegionSecurityPolicy")
    if policies:
        lines.append(
            Quantity(
                "network",
                f"Cloud Armor policies x{len(policies)}",
                float(len(policies)),
                "policy-months",
                "armor-policy-month",
                "security policies in the preview",
            )
        )
    return lines


def _generic_bom(option: Option) -> list[Quantity]:
    """A target without a priced bill of materials: one 'not priced' line per category, naming the
    resource types, so the report lists what would have to be priced instead of showing nothing."""
    from collections import Counter

    from reporting.analysis import category_of

    per: dict[str, Counter[str]] = {}
    for state in option.cloud_resources:
        per.setdefault(category_of(state["type"]), Counter())[state["type"].rsplit(":", 1)[-1]] += 1
    return [
        Quantity(
            category,
            f"{category}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())),
            float(sum(counts.values())),
            "resources",
            f"{option.target}:{category}",
            "resources in the preview",
        )
        for category, counts in sorted(per.items())
    ]
