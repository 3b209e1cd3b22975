"""Single-property mutants of the compliant S3NS stack (s3ns-secnumcloud): each must be caught."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.policies.policy_mutants import Document, Mutant, _add, _drop, _named, _set, first, property_maps

S3NS = "s3ns-secnumcloud"
_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
_BUCKET = "gcp:storage/bucket:Bucket"
_SECRET = "gcp:secretmanager/regionalSecret:RegionalSecret"
_PROVIDER = "pulumi:providers:gcp"
_KEY = "gcp:kms/cryptoKey:CryptoKey"


def _nested(
    type_token: str,
    path: tuple[str, ...],
    value: Any,
    predicate: Callable[[dict[str, Any]], bool] | None = None,
) -> Callable[[Document], None]:
    """Sets one nested property (``settings.ipConfiguration.sslMode``); None removes it."""

    def edit(document: Document) -> None:
        for properties in property_maps(first(document, type_token, predicate)):
            target = properties
            for step in path[:-1]:
                target = target.setdefault(step, {})
            if value is None:
                target.pop(path[-1], None)
            else:
                target[path[-1]] = value

    return edit


def _on_unseen_provider(document: Document) -> None:
    """The documents bucket on an explicit provider the audited document does not contain."""
    state = first(document, _BUCKET, _named("documents"))
    stack = document["steps"][0]["urn"].split("::pulumi:pulumi:Stack::")[0]
    state["provider"] = f"{stack}::pulumi:providers:gcp::elsewhere::9b1c6f0e-6a3e-4f0d-8d55-2f1f0d7f3c11"


def _on_default_provider(document: Document) -> None:
    """The documents bucket moved to a default provider, with no gcp:universeDomain in the stack config."""
    state = first(document, _BUCKET, _named("documents"))
    stack = document["steps"][0]["urn"].split("::pulumi:pulumi:Stack::")[0]
    state["provider"] = f"{stack}::pulumi:providers:gcp::default_9_37_1::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    document.setdefault("config", {}).pop("gcp:universeDomain", None)


def _serve_on_port_80(document: Document) -> None:
    https_map = first(document, "gcp:compute/regionUrlMap:RegionUrlMap", _named("https"))["inputs"]
    for target in property_maps(first(document, "gcp:compute/regionUrlMap:RegionUrlMap", _named("redirect"))):
        target.pop("defaultUrlRedirect", None)
        target["defaultService"] = https_map["defaultService"]


_MUTANTS: list[Mutant] = [
    # Encryption at rest with the stack's customer keys.
    Mutant("s3ns-sql-no-cmek", S3NS, _drop(_SQL, "encryptionKeyName"), "BK-ENC-005"),
    Mutant("s3ns-bucket-no-cmek", S3NS, _drop(_BUCKET, "encryption", predicate=_named("documents")), "BK-ENC-005"),
    Mutant("s3ns-secret-no-cmek", S3NS, _drop(_SECRET, "customerManagedEncryption"), "BK-ENC-005"),
    Mutant("s3ns-cloud-run-no-cmek", S3NS, _nested("gcp:cloudrunv2/service:Service", ("template", "encryptionKey"), None, _named("api")), "BK-ENC-005"),
    Mutant("s3ns-log-bucket-no-cmek", S3NS, _drop("gcp:logging/projectBucketConfig:ProjectBucketConfig", "cmekSettings"), "BK-ENC-005"),
    Mutant("s3ns-bucket-foreign-key", S3NS, _nested(_BUCKET, ("encryption", "defaultKmsKeyName"), "projects/other/locations/u-france-east1/keyRings/r/cryptoKeys/k", _named("documents")), "BK-ENC-005"),
    Mutant("s3ns-unknown-data-store", S3NS, _add("gcp:bigtable/instance:Instance", "cache", {"name": "cache"}), "BK-ENC-003"),
    # Region and copies.
    Mutant("s3ns-sql-paris-gcp", S3NS, _set(_SQL, "region", "europe-west9"), "BK-REGION-001"),
    Mutant("s3ns-bucket-multi-region-eu", S3NS, _set(_BUCKET, "location", "EU", _named("documents")), "BK-REGION-001"),
    Mutant("s3ns-provider-other-region", S3NS, _set("pulumi:providers:gcp", "region", "europe-west9"), "BK-REGION-001"),
    Mutant("s3ns-sql-backups-elsewhere", S3NS, _nested(_SQL, ("settings", "backupConfiguration", "location"), "eu"), "BK-REGION-002"),
    Mutant("s3ns-sql-backups-unpinned", S3NS, _nested(_SQL, ("settings", "backupConfiguration", "location"), None), "BK-REGION-002"),
    Mutant("s3ns-secret-elsewhere", S3NS, _set(_SECRET, "location", "europe-west9"), "BK-REGION-001"),
    Mutant("s3ns-sink-elsewhere", S3NS, _set("gcp:logging/projectSink:ProjectSink", "destination", "logging.googleapis.com/projects/p/locations/global/buckets/b"), "BK-REGION-002"),
    # Keys.
    Mutant("s3ns-key-ring-elsewhere", S3NS, _set("gcp:kms/keyRing:KeyRing", "location", "europe-west9"), "BK-KEY-005"),
    Mutant("s3ns-key-external", S3NS, _nested(_KEY, ("versionTemplate", "protectionLevel"), "EXTERNAL", _named("database")), "BK-KEY-005"),
    Mutant("s3ns-key-never-rotated", S3NS, _drop(_KEY, "rotationPeriod", predicate=_named("documents")), "BK-KEY-005"),
    Mutant("s3ns-key-hsm", S3NS, _nested(_KEY, ("versionTemplate", "protectionLevel"), "HSM", _named("database")), "BK-KEY-005"),
    Mutant("s3ns-key-external-vpc-without-ekm", S3NS, _nested(_KEY, ("versionTemplate", "protectionLevel"), "EXTERNAL_VPC", _named("database")), "BK-KEY-005"),
    # The universe (S3NS, not Google Cloud's public one) and what it offers.
    Mutant("s3ns-provider-public-universe", S3NS, _set(_PROVIDER, "universeDomain", "googleapis.com"), "BK-PROV-003"),
    Mutant("s3ns-provider-universe-unset", S3NS, _drop(_PROVIDER, "universeDomain"), "BK-PROV-003"),
    Mutant("s3ns-default-provider-public-universe", S3NS, _on_default_provider, "BK-PROV-003"),
    Mutant("s3ns-provider-not-visible", S3NS, _on_unseen_provider, "BK-PROV-003"),
    Mutant("s3ns-global-secret", S3NS, _add("gcp:secretmanager/secret:Secret", "global", {"secretId": "global", "replication": {"userManaged": {"replicas": [{"location": "u-france-east1"}]}}}), "BK-PROV-004"),
    Mutant("s3ns-service-identity", S3NS, _add("gcp:projects/serviceIdentity:ServiceIdentity", "sql-agent", {"service": "sqladmin.googleapis.com"}), "BK-PROV-004"),
    Mutant("s3ns-bucket-usage-logs", S3NS, _nested(_BUCKET, ("logging", "logBucket"), "bk-logs", _named("documents")), "BK-PROV-004"),
    # Qualified perimeter.
    Mutant("s3ns-service-outside-perimeter", S3NS, _add("gcp:pubsub/topic:Topic", "reminders", {"name": "reminders"}), "BK-PROV-002"),
    Mutant("s3ns-aws-resource-added", S3NS, _add("aws:s3/bucket:Bucket", "copy", {"bucket": "copy", "region": "eu-west-3"}), "BK-PROV-002"),
    # Exposure.
    Mutant("s3ns-sql-public-ip", S3NS, _nested(_SQL, ("settings", "ipConfiguration", "ipv4Enabled"), True), "BK-EXP-002"),
    Mutant("s3ns-sql-world-authorized", S3NS, _nested(_SQL, ("settings", "ipConfiguration", "authorizedNetworks"), [{"value": "0.0.0.0/0"}]), "BK-EXP-002"),
    Mutant("s3ns-bucket-public-prevention-inherited", S3NS, _set(_BUCKET, "publicAccessPrevention", "inherited", _named("documents")), "BK-EXP-001"),
    Mutant("s3ns-bucket-all-users", S3NS, _add("gcp:storage/bucketIAMMember:BucketIAMMember", "public", {"bucket": "docs", "role": "roles/storage.objectViewer", "member": "allUsers"}), "BK-EXP-001"),
    Mutant("s3ns-firewall-ssh-open", S3NS, _add("gcp:compute/firewall:Firewall", "ssh", {"network": "vpc", "direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp", "ports": ["22"]}]}), "BK-EXP-003"),
    Mutant("s3ns-secret-plaintext", S3NS, _set("gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion", "secretData", "Sup3rS3cretPassw0rd"), "BK-EXP-004"),
    Mutant("s3ns-sql-user-plaintext", S3NS, _set("gcp:sql/user:User", "password", "Sup3rS3cretPassw0rd"), "BK-EXP-004"),
    # Transit.
    Mutant("s3ns-http-serves", S3NS, _serve_on_port_80, "BK-TLS-004"),
    Mutant("s3ns-tls-1-0", S3NS, _set("gcp:compute/regionSslPolicy:RegionSslPolicy", "minTlsVersion", "TLS_1_0"), "BK-TLS-004"),
    Mutant("s3ns-tls-modern", S3NS, _set("gcp:compute/regionSslPolicy:RegionSslPolicy", "profile", "MODERN"), "BK-TLS-004"),
    Mutant("s3ns-tls-compatible", S3NS, _set("gcp:compute/regionSslPolicy:RegionSslPolicy", "profile", "COMPATIBLE"), "BK-TLS-004"),
    Mutant("s3ns-https-no-ssl-policy", S3NS, _drop("gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy", "sslPolicy"), "BK-TLS-004"),
    Mutant("s3ns-cloud-run-public", S3NS, _set("gcp:cloudrunv2/service:Service", "ingress", "INGRESS_TRAFFIC_ALL", _named("api")), "BK-TLS-004"),
    Mutant("s3ns-sql-accepts-plaintext", S3NS, _nested(_SQL, ("settings", "ipConfiguration", "sslMode"), "ALLOW_UNENCRYPTED_AND_ENCRYPTED"), "BK-TLS-002"),
]  # fmt: skip

S3NS_MUTANTS: tuple[Mutant, ...] = tuple(_MUTANTS)
