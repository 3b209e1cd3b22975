"""ScalewayBookingPlatform under mocks: a compliant baseline, then one change per case."""

from __future__ import annotations

import json

import pytest

from tests.scaleway.scw_harness import FAKE_PASSWORD, Built, baseline, build, resolve

KEY = "scaleway:keymanager/key:Key"
DB = "scaleway:databases/instance:Instance"
BUCKET = "scaleway:object/bucket:Bucket"
SSE = "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
POLICY = "scaleway:object/bucketPolicy:BucketPolicy"
LB = "scaleway:loadbalancers/loadBalancer:LoadBalancer"
IAM_POLICY = "scaleway:iam/policy:Policy"
RECORD = "scaleway:domain/record:Record"
DOMAIN = "scaleway:containers/domain:Domain"
CONTAINER = "scaleway:containers/container:Container"
SECRET = "scaleway:secrets/secret:Secret"
VERSION = "scaleway:secrets/version:Version"


@pytest.fixture(scope="module")
def built() -> Built:
    return build()


def test_parts_have_booking_type_tokens(built: Built) -> None:
    types = {r.typ for r in built.recorder.resources if not r.custom}
    assert "booking:scaleway:ScalewayBookingPlatform" in types
    for part in (
        "Network",
        "Keys",
        "ApiIdentity",
        "Database",
        "Secrets",
        "Documents",
        "Service",
        "Observability",
    ):
        assert f"booking:scaleway:{part}" in types


def test_every_scaleway_resource_uses_the_explicit_fr_par_provider(built: Built) -> None:
    for r in built.recorder.resources:
        if r.custom and r.typ.startswith("scaleway:"):
            assert "pulumi:providers:scaleway::scaleway-fr-par" in r.provider, r.name
            region = r.inputs.get("region")
            zone = r.inputs.get("zone")
            assert region in (None, "fr-par"), r.name
            assert zone in (None, "fr-par-1"), r.name


def test_regional_data_stores_name_fr_par_explicitly(built: Built) -> None:
    for typ in (KEY, DB, BUCKET, SSE, POLICY, SECRET, CONTAINER):
        for r in built.recorder.of_type(typ):
            assert r.inputs["region"] == "fr-par", r.name
    # No zonal resource: the load balancer is gone (containers accept no private ingress).
    assert not built.recorder.of_type(LB)


def test_keys_are_aes_256_gcm_rotated_and_protected(built: Built) -> None:
    keys = built.recorder.of_type(KEY)
    assert len(keys) == 3
    for key in keys:
        assert key.inputs["usage"] == "symmetric_encryption"
        assert key.inputs["algorithm"] == "aes_256_gcm"
        assert key.inputs["rotationPolicy"]["rotationPeriod"] == "2160h"
        assert key.inputs["unprotected"] is False
        assert key.inputs["protectionLevel"] == "hsm"


def test_database_encrypted_private_only_backed_up_in_region(built: Built) -> None:
    db = built.recorder.one(DB)
    assert db["encryptionAtRest"] is True
    assert db["privateNetwork"]["pnId"]
    assert "loadBalancer" not in db, "a load_balancer block would give the database a public endpoint"
    assert db["backupSameRegion"] is True
    assert db["disableBackup"] is False
    assert db["backupScheduleRetention"] == 35
    assert db["isHaCluster"] is True


def test_database_records_no_customer_key_exception(built: Built) -> None:
    assert "database-volume" in built.platform.no_customer_key
    assert "cockpit-logs" in built.platform.no_customer_key


def test_db_password_is_a_pulumi_secret_stored_in_secret_manager(built: Built) -> None:
    value, is_secret = resolve(built.platform.secrets.db_password)
    assert value == FAKE_PASSWORD and is_secret
    stored = built.recorder.of_type(SECRET)
    assert len(stored) == 2  # the administrator's (break-glass) and the application's own role
    for entry in stored:
        assert entry.inputs["type"] == "database_credentials"
        assert entry.inputs["keyId"], "secrets are encrypted under our own Key Manager key"
        assert entry.inputs["protected"] is True
    admin = next(v for v in built.recorder.of_type(VERSION) if v.name.endswith("db-credentials-v1"))
    data = admin.inputs["data"]
    # On the wire a secret is an envelope {<sig key>: <secret sig>, "value": ...}: never plain text.
    assert isinstance(data, dict) and "1b47061264138c4ac30d75fd1eb44270" in data.values()
    assert json.loads(data["value"])["password"] == FAKE_PASSWORD
    assert isinstance(built.recorder.one(DB)["password"], dict), "the DB password reaches the API as a secret"


def test_bucket_sse_kms_with_our_key_and_versioned(built: Built) -> None:
    rule = built.recorder.one(SSE)["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule["sseAlgorithm"] == "aws:kms"
    key_ids = {resolve(v)[0] for v in built.platform.keys.key_ids.values()}
    assert rule["kmsMasterKeyId"] in key_ids
    bucket = built.recorder.one(BUCKET)
    assert bucket["versioning"]["enabled"] is True
    assert bucket["forceDestroy"] is False
    assert "lifecycleRules" not in bucket, "Scaleway HDS guidance: no lifecycle rule on a health bucket"
    assert built.recorder.one("scaleway:object/bucketAcl:BucketAcl")["acl"] == "private"


def test_bucket_policy_denies_plain_http(built: Built) -> None:
    document = json.loads(built.recorder.one(POLICY)["policy"])
    deny = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Principal"] == "*"
    for allow in (s for s in document["Statement"] if s["Effect"] == "Allow"):
        assert allow["Principal"] != "*"
        assert allow["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}


def test_containers_serve_https_on_their_own_endpoints_with_custom_domains(built: Built) -> None:
    containers = built.recorder.of_type(CONTAINER)
    assert len(containers) == 2
    for c in containers:
        assert c.inputs["httpOption"] == "redirected"
        assert c.inputs["privateNetworkId"], "egress to PostgreSQL stays on the Private Network"
        assert "enablePrivateEndpoint" not in c.inputs and "enableDefaultPublicEndpoint" not in c.inputs
    api = next(c for c in containers if c.name.endswith("-api"))
    assert api.inputs["minScale"] == 2 and api.inputs["maxScale"] == 10
    assert not built.recorder.of_type("scaleway:loadbalancers/backend:Backend")
    domains = {d.inputs["hostname"] for d in built.recorder.of_type(DOMAIN)}
    assert domains == {"rdv.exemple.fr", "api.rdv.exemple.fr"}
    records = {r.inputs["name"]: r.inputs for r in built.recorder.of_type(RECORD)}
    assert set(records) == {"rdv", "api.rdv"}
    assert records["rdv"]["type"] == "CNAME"
    assert records["rdv"]["data"] == "booking-service-web.functions.fnc.fr-par.scw.cloud."


def test_no_reserved_environment_name_and_the_app_reads_its_own_role(built: Built) -> None:
    api = next(c for c in built.recorder.of_type(CONTAINER) if c.name.endswith("-api"))
    names = [
        *api.inputs["environmentVariables"],
        *(t.split(":", 1)[1] for t in api.inputs["tags"] if t.startswith("secret-env:")),
    ]
    assert names and not [n for n in names if n.startswith("SCW_") or n == "PORT"]
    env = api.inputs["environmentVariables"]
    assert env["DATABASE_USER"] == "booking_app" and env["DATABASE_SSLMODE"] == "verify-full"
    assert "DATABASE_CA_PEM" in names and "DATABASE_PASSWORD" not in names
    # A PEM is longer than the 1000 characters a plain variable holds: it travels as a secret one.
    assert "DATABASE_CA_PEM" not in env
    user = built.recorder.one("scaleway:databases/user:User")
    assert user["name"] == "booking_app" and user["isAdmin"] is False
    assert built.recorder.one("scaleway:databases/privilege:Privilege")["permission"] == "readwrite"


def test_api_identity_holds_exactly_what_its_uses_need(built: Built) -> None:
    from facts.scaleway import permissions_for

    (rule,) = built.recorder.one(IAM_POLICY)["rules"]
    assert sorted(rule["permissionSetNames"]) == sorted(
        permissions_for(("documents-read-write", "envelope-encryption", "secret-read"))
    )
    assert {"KeyManagerKeyEncrypt", "KeyManagerKeyDecrypt", "SecretManagerSecretAccess"} <= set(
        rule["permissionSetNames"]
    )
    assert rule["projectIds"] == ["11111111-2222-4333-8444-555555555555"]
    assert built.recorder.one("scaleway:iam/apiKey:ApiKey")["expiresAt"] == "2027-06-30T00:00:00Z"


def test_bucket_policy_keeps_the_deployer_and_comes_last(built: Built) -> None:
    document = json.loads(built.recorder.one(POLICY)["policy"])
    deployer = [s for s in document["Statement"] if s.get("Sid") == "DeployerKeepsBucketConfiguration"]
    assert deployer and deployer[0]["Principal"] == {"SCW": ["user_id:99999999-8888-4777-8666-555555555555"]}
    assert "s3:GetObject" not in deployer[0]["Action"], "the deployer manages the bucket, not the documents"


def test_cockpit_sources_for_logs_and_metrics(built: Built) -> None:
    sources = {
        s.inputs["type"]: s.inputs for s in built.recorder.of_type("scaleway:observability/source:Source")
    }
    assert set(sources) == {"logs", "metrics"}
    assert sources["logs"]["retentionDays"] == 365


# -- one change per case -------------------------------------------------------------------------


def test_flip_dns_elsewhere_binds_no_domain_until_the_deployer_says_the_cname_exists() -> None:
    first = build(baseline(dns_zone=None))
    assert not first.recorder.of_type(DOMAIN) and not first.recorder.of_type(RECORD)
    second = build(baseline(dns_zone=None, external_dns_ready=True))
    assert len(second.recorder.of_type(DOMAIN)) == 2 and not second.recorder.of_type(RECORD)


def test_flip_log_retention_to_cockpits_maximum() -> None:
    built = build(baseline(log_retention_days=1825))
    logs = [
        s
        for s in built.recorder.of_type("scaleway:observability/source:Source")
        if s.inputs["type"] == "logs"
    ]
    assert logs[0].inputs["retentionDays"] == 1825


@pytest.mark.parametrize("reserved", ["SCW_DEFAULT_REGION", "scw_secret_key", "PORT"])
def test_a_reserved_environment_name_stops_the_build(reserved: str) -> None:
    from components.scaleway.service import refuse_reserved_environment

    with pytest.raises(ValueError, match=rf"\['{reserved}'\] are reserved"):
        refuse_reserved_environment("x", ["BOOKING_REGION", reserved])
    refuse_reserved_environment("x", ["BOOKING_REGION", "DATABASE_PORT"])


def test_flip_key_rotation_days() -> None:
    built = build(baseline(key_rotation_days=30))
    assert {k.inputs["rotationPolicy"]["rotationPeriod"] for k in built.recorder.of_type(KEY)} == {"720h"}


def test_flip_versioning_off() -> None:
    built = build(baseline(documents_versioning=False))
    assert built.recorder.one(BUCKET)["versioning"]["enabled"] is False


def test_flip_project_id_reaches_resources() -> None:
    project = "11111111-2222-3333-4444-555555555555"
    built = build(baseline(project_id=project))
    assert built.recorder.one(DB)["projectId"] == project
    assert built.recorder.one(BUCKET)["projectId"] == project


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("region", "nl-ams"),
        ("deployer_principal", "someone"),
        ("api_key_expires_at", ""),
        ("api_key_expires_at", "2027-06-30"),
        ("dns_zone", "autre-domaine.fr"),
        ("key_protection_level", "software"),
        ("log_retention_days", 1826),
        ("db_app_user", "booking_admin"),
        ("db_encryption_at_rest", False),
        ("backup_same_region", False),
        ("backup_retention_days", 90),
        ("key_rotation_days", 0),
        ("domain", "Not A Domain"),
        ("project_id", "not-a-uuid"),
        ("project_id", ""),
        ("private_cidr", "8.8.8.0/24"),
        ("documents_admin_principals", ("everyone",)),
    ],
)
def test_bad_value_is_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"\b{field}: must be"):
        baseline(**{field: value})


def test_bad_container_size_names_the_container() -> None:
    from components.scaleway import ScalewayContainerSpec

    with pytest.raises(ValueError, match=r"api\.max_scale: must be"):
        baseline(api=ScalewayContainerSpec(image="rg.fr-par.scw.cloud/b/api:1", min_scale=5, max_scale=2))


def test_offline_preview_of_the_stack_file_builds() -> None:
    from stacks.offline import run_preview

    preview = run_preview("scaleway-paris")
    types = [s["type"] for s in preview.states]
    assert "booking:scaleway:ScalewayBookingPlatform" in types
    providers = [s for s in preview.states if s["type"] == "pulumi:providers:scaleway"]
    assert providers and all(p["inputs"]["region"] == "fr-par" for p in providers)


def test_preview_orders_what_scaleway_needs_ordered() -> None:
    """Each domain binding waits for its CNAME (the certificate is issued in the same run); the bucket
    policy waits for the ACL and the encryption settings (it would lock them out)."""
    from stacks.offline import run_preview

    states = {s["urn"].rsplit("::", 1)[-1]: s for s in run_preview("scaleway-paris").states}
    for label in ("web", "api"):
        deps = states[f"booking-service-{label}-domain"].get("dependencies", [])
        assert any(d.endswith(f"::booking-service-{label}-cname") for d in deps), deps
    deps = states["booking-documents-policy"].get("dependencies", [])
    assert any(d.endswith("::booking-documents-acl") for d in deps)
    assert any(d.endswith("::booking-documents-sse") for d in deps)
