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
FRONTEND = "scaleway:loadbalancers/frontend:Frontend"
LB = "scaleway:loadbalancers/loadBalancer:LoadBalancer"
CONTAINER = "scaleway:containers/container:Container"
SECRET = "scaleway:secrets/secret:Secret"
VERSION = "scaleway:secrets/version:Version"


@pytest.fixture(scope="module")
def built() -> Built:
    return build()


def test_parts_have_booking_type_tokens(built: Built) -> None:
    types = {r.typ for r in built.recorder.resources if not r.custom}
    assert "booking:scaleway:ScalewayBookingPlatform" in types
    for part in ("Network", "Keys", "Database", "Secrets", "Documents", "Service", "Observability"):
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
    assert built.recorder.one(LB)["zone"] == "fr-par-1"


def test_keys_are_aes_256_gcm_rotated_and_protected(built: Built) -> None:
    keys = built.recorder.of_type(KEY)
    assert len(keys) == 3
    for key in keys:
        assert key.inputs["usage"] == "symmetric_encryption"
        assert key.inputs["algorithm"] == "aes_256_gcm"
        assert key.inputs["rotationPolicy"]["rotationPeriod"] == "2160h"
        assert key.inputs["unprotected"] is False


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
    value, secret = resolve(built.platform.secrets.db_password)
    assert value == FAKE_PASSWORD and secret
    secret_inputs = built.recorder.one(SECRET)
    assert secret_inputs["type"] == "database_credentials"
    assert secret_inputs["keyId"], "secrets are encrypted under our own Key Manager key"
    assert secret_inputs["protected"] is True
    data = built.recorder.one(VERSION)["data"]
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


def test_lb_https_frontend_and_http_redirect(built: Built) -> None:
    frontends = {f.inputs["inboundPort"]: f.inputs for f in built.recorder.of_type(FRONTEND)}
    assert set(frontends) == {443, 80}
    assert frontends[443]["certificateIds"]
    redirect = frontends[80]["acls"][0]["action"]
    assert redirect["type"] == "redirect"
    assert redirect["redirects"][0] == {"type": "scheme", "target": "https", "code": 301}
    assert built.recorder.one(LB)["sslCompatibilityLevel"] == "ssl_compatibility_level_modern"


def test_containers_only_reachable_through_the_private_network(built: Built) -> None:
    containers = built.recorder.of_type(CONTAINER)
    assert len(containers) == 2
    for c in containers:
        assert c.inputs["enableDefaultPublicEndpoint"] is False
        assert c.inputs["enablePrivateEndpoint"] is True
        assert c.inputs["privateNetworkId"]
        assert c.inputs["httpOption"] == "redirected"
    api = next(c for c in containers if c.name.endswith("-api"))
    assert api.inputs["minScale"] == 2 and api.inputs["maxScale"] == 10
    for backend in built.recorder.of_type("scaleway:loadbalancers/backend:Backend"):
        assert backend.inputs["sslBridging"] is True
        assert backend.inputs["serverIps"] == ["172.16.32.20"]


def test_cockpit_sources_for_logs_and_metrics(built: Built) -> None:
    sources = {
        s.inputs["type"]: s.inputs for s in built.recorder.of_type("scaleway:observability/source:Source")
    }
    assert set(sources) == {"logs", "metrics"}
    assert sources["logs"]["retentionDays"] == 31


# -- one change per case -------------------------------------------------------------------------


def test_flip_tls_policy_to_intermediate() -> None:
    built = build(baseline(tls_policy="ssl_compatibility_level_intermediate"))
    assert built.recorder.one(LB)["sslCompatibilityLevel"] == "ssl_compatibility_level_intermediate"


def test_flip_http_redirect_off_closes_port_80() -> None:
    built = build(baseline(http_redirect=False))
    assert [f.inputs["inboundPort"] for f in built.recorder.of_type(FRONTEND)] == [443]


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
        ("zone", "nl-ams-1"),
        ("db_encryption_at_rest", False),
        ("backup_same_region", False),
        ("backup_retention_days", 90),
        ("tls_policy", "ssl_compatibility_level_old"),
        ("key_rotation_days", 0),
        ("domain", "Not A Domain"),
        ("project_id", "not-a-uuid"),
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
