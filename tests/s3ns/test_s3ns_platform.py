"""S3nsBookingPlatform under mocks: a compliant baseline, then one change per case.

Built through the offline preview's own mocks (stacks/offline.py), so these tests see the inputs as
the engine would: camelCase keys, numbers as floats, secrets as envelopes.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest
from pulumi.runtime import mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.s3ns import S3nsBookingPlatform, S3nsBookingPlatformArgs, S3nsContainerSpec
from components.s3ns.args import UNIVERSE_DOMAIN, S3nsEkmSpec, S3nsServiceAgents
from facts import s3ns as universe
from facts.domains import DATA_DOMAINS
from stacks.offline import SECRET_SIG, SECRET_SIG_KEY, OfflineMocks, RecordingMonitor, run_preview

PROJECT = "s3ns:booking-test-prj"
AGENT_DOMAIN = universe.service_agent_domain()
AGENTS = S3nsServiceAgents(
    cloud_sql=f"service-1@gcp-sa-cloud-sql.{AGENT_DOMAIN}",
    secret_manager=f"service-1@gcp-sa-secretmanager.{AGENT_DOMAIN}",
    cloud_run=f"service-1@serverless-robot-prod.{AGENT_DOMAIN}",
    logging=f"service-1@gcp-sa-logging.{AGENT_DOMAIN}",
)
REGION = "u-france-east1"
CERT = f"projects/{PROJECT}/locations/{REGION}/certificates/rdv"
KEY = "gcp:kms/cryptoKey:CryptoKey"
DB = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
SECRET = "gcp:secretmanager/regionalSecret:RegionalSecret"
VERSION = "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion"
RUN = "gcp:cloudrunv2/service:Service"
SSL = "gcp:compute/regionSslPolicy:RegionSslPolicy"
HTTPS_PROXY = "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy"
HTTP_PROXY = "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy"
URL_MAP = "gcp:compute/regionUrlMap:RegionUrlMap"
RULE = "gcp:compute/forwardingRule:ForwardingRule"
LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


def baseline(**changes: Any) -> S3nsBookingPlatformArgs:
    """The compliant baseline; keyword arguments change one field."""
    args = S3nsBookingPlatformArgs(
        name_prefix="bk-test",
        project_id=PROJECT,
        domain="rdv.exemple.fr",
        certificate=CERT,
        api=S3nsContainerSpec(image="registry.exemple.fr/booking/api:1.0.0"),
        web=S3nsContainerSpec(image="registry.exemple.fr/booking/web:1.0.0", memory_mb=1024),
        service_agents=AGENTS,
    )
    return replace(args, **changes) if changes else args


class Built:
    def __init__(self, monitor: RecordingMonitor) -> None:
        self.states = monitor.registrations

    def of_type(self, typ: str) -> list[Any]:
        return [r for r in self.states if r.type == typ]

    def one(self, typ: str, name_part: str = "") -> dict[str, Any]:
        found = [r for r in self.of_type(typ) if name_part in r.name]
        assert len(found) == 1, f"{typ} *{name_part}*: {[r.name for r in found]}"
        inputs: dict[str, Any] = found[0].inputs
        return inputs

    def key_id(self, domain: str) -> str:
        return f"projects/{PROJECT}/locations/{REGION}/keyRings/booking-keys-ring/cryptoKeys/booking-keys-{domain}"


def build(args: S3nsBookingPlatformArgs) -> Built:
    monitor = RecordingMonitor(OfflineMocks("s3ns-test"))
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks.set_mocks(
        monitor.mocks, project="sovereign-booking", stack="s3ns-test", preview=True, monitor=monitor
    )

    def program() -> None:
        provider = gcp.Provider("s3ns", project=PROJECT, region=REGION, universe_domain=UNIVERSE_DOMAIN)
        S3nsBookingPlatform("booking", args, opts=pulumi.ResourceOptions(providers=[provider]))

    _sync_await(run_pulumi_func(program))
    return Built(monitor)


@pytest.fixture(scope="module")
def built() -> Built:
    return build(baseline())


def test_parts_have_booking_type_tokens(built: Built) -> None:
    types = {r.type for r in built.states if not r.custom}
    for part in (
        "S3nsBookingPlatform",
        "Keys",
        "Network",
        "Database",
        "EncryptedBucket",
        "Secrets",
        "Service",
        "Logs",
    ):
        assert f"booking:s3ns:{part}" in types


def test_every_gcp_resource_goes_through_the_s3ns_provider(built: Built) -> None:
    for r in built.states:
        if r.custom and r.type.startswith("gcp:"):
            assert "pulumi:providers:gcp::s3ns" in r.provider, r.name
            located = r.inputs.get("region") or r.inputs.get("location")
            assert located in (None, REGION, REGION.upper()), (r.name, located)


def test_one_key_per_domain_in_region_rotated_and_software_by_default(built: Built) -> None:
    keys = {r.name: r.inputs for r in built.of_type(KEY)}
    assert set(keys) == {f"booking-keys-{d}" for d in ("database", "documents", "logs", "secrets", "backups")}
    for inputs in keys.values():
        assert inputs["rotationPeriod"] == "7776000s"
        assert inputs["purpose"] == "ENCRYPT_DECRYPT"
        assert inputs["versionTemplate"]["protectionLevel"] == "SOFTWARE"
    assert built.one("gcp:kms/keyRing:KeyRing")["location"] == REGION


def test_each_service_agent_gets_only_its_domain_key(built: Built) -> None:
    grants = {(g.inputs["cryptoKeyId"].rsplit("-", 1)[1], g.inputs["member"]) for g in built.of_type(GRANT)}
    assert {d for d, m in grants if m == f"serviceAccount:{AGENTS.cloud_sql}"} == {"database"}
    assert {d for d, m in grants if "gcp-sa-secretmanager" in m} == {"secrets"}
    assert {d for d, m in grants if m == f"serviceAccount:{AGENTS.cloud_run}"} == {"secrets"}
    assert {d for d, m in grants if "gcp-sa-logging" in m} == {"logs"}
    for grant in built.of_type(GRANT):
        assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def test_database_under_its_key_private_tls_only_backups_in_region(built: Built) -> None:
    db = built.one(DB)
    assert db["encryptionKeyName"] == built.key_id("database")
    settings = db["settings"]
    assert settings["ipConfiguration"]["ipv4Enabled"] is False
    assert settings["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    assert settings["ipConfiguration"]["privateNetwork"]
    assert settings["backupConfiguration"]["location"] == REGION
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert settings["availabilityType"] == "REGIONAL"
    assert db["deletionProtection"] is True


def test_high_availability_off_gives_a_zonal_database() -> None:
    db = build(baseline(db_high_availability=False)).one(DB)
    assert db["settings"]["availabilityType"] == "ZONAL"


def test_buckets_under_their_keys_versioned_private(built: Built) -> None:
    expected = {"documents": "documents", "backups": "backups"}
    for suffix, domain in expected.items():
        bucket = built.one(BUCKET, suffix)
        assert bucket["encryption"]["defaultKmsKeyName"] == built.key_id(domain)
        assert bucket["versioning"]["enabled"] is True
        assert bucket["uniformBucketLevelAccess"] is True
        assert bucket["publicAccessPrevention"] == "enforced"
        assert bucket["location"] == REGION.upper()
    # No usage logs (their grant is not documented in the universe): Data Access audit logs instead.
    assert len(built.of_type(BUCKET)) == 2 and "logging" not in built.one(BUCKET, "documents")
    audit = built.one("gcp:projects/iAMAuditConfig:IAMAuditConfig")
    assert audit["service"] == "storage.googleapis.com"
    assert {c["logType"] for c in audit["auditLogConfigs"]} == {"ADMIN_READ", "DATA_READ", "DATA_WRITE"}
    assert built.one(BUCKET, "backups")["retentionPolicy"]["retentionPeriod"] == str(35 * 86400)


def test_secret_pinned_to_region_under_secrets_key_and_never_plaintext(built: Built) -> None:
    secret = built.one(SECRET)
    assert secret["location"] == REGION
    assert secret["customerManagedEncryption"]["kmsKeyName"] == built.key_id("secrets")
    assert not built.of_type("gcp:secretmanager/secret:Secret")
    assert built.one(VERSION)["secretData"] == {SECRET_SIG_KEY: SECRET_SIG}
    assert "preview-placeholder-password" not in json.dumps([r.inputs for r in built.states])


def test_edge_is_https_tls12_restricted_and_port_80_only_redirects(built: Built) -> None:
    ssl = built.one(SSL)
    assert (ssl["profile"], ssl["minTlsVersion"]) == ("RESTRICTED", "TLS_1_2")
    assert built.one(HTTPS_PROXY)["certificateManagerCertificates"] == [CERT]
    redirect = built.one(URL_MAP, "redirect")
    assert redirect["defaultUrlRedirect"]["httpsRedirect"] is True
    assert "defaultService" not in redirect
    ports = sorted(r.inputs["portRange"] for r in built.of_type(RULE))
    assert ports == ["443", "80"]


def test_containers_reachable_only_through_the_load_balancer(built: Built) -> None:
    for service in built.of_type(RUN):
        assert service.inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
        assert service.inputs["defaultUriDisabled"] is True
        assert service.inputs["template"]["vpcAccess"]["egress"] == "ALL_TRAFFIC"
        # CMEK on the services' image copies, under the stack's secrets key.
        assert service.inputs["template"]["encryptionKey"] == built.key_id("secrets")
    api_env = {e["name"]: e for e in built.one(RUN, "api")["template"]["containers"][0]["envs"]}
    assert "DB_PASSWORD" not in api_env
    assert api_env["DB_PASSWORD_SECRET_NAME"]["value"].endswith("/secrets/booking-secrets-db-password")
    assert api_env["DB_SSLMODE"]["value"] == "verify-ca"
    assert api_env["DB_SSLROOTCERT_PEM"]["value"].startswith("-----BEGIN CERTIFICATE-----")


def test_cloud_armor_rate_limits_each_client_on_every_backend(built: Built) -> None:
    rule = built.one("gcp:compute/regionSecurityPolicyRule:RegionSecurityPolicyRule")
    assert rule["action"] == "throttle"
    assert rule["rateLimitOptions"]["enforceOnKey"] == "IP"
    assert rule["rateLimitOptions"]["rateLimitThreshold"] == {"count": 600, "intervalSec": 60}
    backends = built.of_type("gcp:compute/regionBackendService:RegionBackendService")
    assert len(backends) == 2 and all(b.inputs["securityPolicy"] for b in backends)


def test_apis_enabled_never_disabled_and_waited_for(built: Built) -> None:
    services = built.of_type("gcp:projects/service:Service")
    assert sorted(s.inputs["service"] for s in services) == sorted(universe.apis())
    assert all(s.inputs["disableOnDestroy"] is False for s in services)
    assert not built.of_type("gcp:projects/serviceIdentity:ServiceIdentity")


def test_logs_in_region_under_logs_key(built: Built) -> None:
    bucket = built.one(LOG_BUCKET)
    assert bucket["location"] == REGION
    assert bucket["cmekSettings"]["kmsKeyName"] == built.key_id("logs")
    assert bucket["retentionDays"] == 365


def der_certificate() -> str:
    """A structurally valid stand-in (DER SEQUENCE), generated per run: no certificate is committed."""
    import base64
    import os

    body = os.urandom(120)
    return base64.b64encode(bytes([0x30, 0x81, len(body)]) + body).decode()


def ekm_spec() -> S3nsEkmSpec:
    return S3nsEkmSpec(
        hostname="ekm.ministere.example.fr",
        server_certificate_der_b64=der_certificate(),
        service_directory_service=f"projects/{PROJECT}/locations/{REGION}/namespaces/ekm/services/hsm",
        key_paths={d: f"v0/booking/{d}" for d in DATA_DOMAINS},
    )


def test_external_vpc_keys_live_at_the_ministry_key_manager() -> None:
    built = build(baseline(key_protection_level="EXTERNAL_VPC", ekm=ekm_spec()))
    connection = built.one("gcp:kms/ekmConnection:EkmConnection")
    assert connection["location"] == REGION and connection["keyManagementMode"] == "MANUAL"
    assert connection["serviceResolvers"][0]["hostname"] == "ekm.ministere.example.fr"
    for key in built.of_type(KEY):
        assert key.inputs["versionTemplate"]["protectionLevel"] == "EXTERNAL_VPC"
        assert key.inputs["cryptoKeyBackend"].endswith("/ekmConnections/booking-keys-ekm")
        assert key.inputs["skipInitialVersionCreation"] is True
        assert "rotationPeriod" not in key.inputs
    paths = {
        v.inputs["externalProtectionLevelOptions"]["ekmConnectionKeyPath"]
        for v in built.of_type("gcp:kms/cryptoKeyVersion:CryptoKeyVersion")
    }
    assert paths == {f"v0/booking/{d}" for d in DATA_DOMAINS}


def test_hsm_is_refused_naming_the_field_and_its_source() -> None:
    with pytest.raises(ValueError, match=r"key_protection_level: must be one of .*kms_protection_levels"):
        baseline(key_protection_level="HSM")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"region": "europe-west9"}, "region"),
        ({"certificate": f"projects/{PROJECT}/locations/europe-west9/certificates/rdv"}, "certificate"),
        ({"tls_profile": "COMPATIBLE"}, "tls_profile"),
        ({"tls_min_version": "TLS_1_0"}, "tls_min_version"),
        ({"key_protection_level": "EXTERNAL"}, "key_protection_level"),
        ({"key_protection_level": "EXTERNAL_VPC"}, "ekm"),
        ({"project_id": "booking-test-prj"}, "project_id"),
        ({"service_agents": replace(AGENTS, cloud_sql="sql@example.com")}, "service_agents.cloud_sql"),
        ({"db_max_disk_gb": 50}, "db_max_disk_gb"),
        ({"db_tier": "db-f1-micro"}, "db_tier"),
        ({"log_retention_days": 7}, "log_retention_days"),
    ],
)
def test_args_refuse_unsafe_values_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=rf"\b{field}: must be"):
        baseline(**change)


def test_shipped_stack_previews_with_the_universe_and_region() -> None:
    preview = run_preview("s3ns-secnumcloud")
    providers = [s for s in preview.states if s["type"] == "pulumi:providers:gcp"]
    assert len(providers) == 1
    assert providers[0]["inputs"]["universeDomain"] == UNIVERSE_DOMAIN
    assert providers[0]["inputs"]["region"] == REGION
    assert providers[0]["inputs"]["project"].startswith(universe.project_prefix())
    assert sum(1 for s in preview.states if s["custom"] and s["type"].startswith("gcp:")) >= 45


def test_every_resource_waits_for_the_apis_it_needs() -> None:
    """The APIs are enabled by the stack itself: every other cloud resource depends on them."""
    states = run_preview("s3ns-secnumcloud").states
    apis = {s["urn"] for s in states if s["type"] == "gcp:projects/service:Service"}
    assert len(apis) == len(universe.apis())
    waiting = [
        s["urn"].rsplit("::", 1)[1]
        for s in states
        if s["custom"] and s["type"].startswith("gcp:") and s["type"] != "gcp:projects/service:Service"
        and not apis <= set(s.get("dependencies") or ())
    ]  # fmt: skip
    assert waiting == []
