"""Live audit of a Scaleway project: recorded API answers (real HTTP on 127.0.0.1) and moto for Object Storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scaleway import Client

from policies.audit import audit_stack
from policies.exceptions import PolicyException, load
from policies.inputs.live.errors import CredentialError, UnknownRegionError
from policies.inputs.live.guard import ReadOnlyViolationError
from policies.inputs.live.scaleway import ScalewayReader, read_only_api
from policies.inputs.live.scaleway_inventory import UNREAD
from tests.verify.conftest import admin, verify_module
from tests.verify.scaleway_api import (
    ACCESS_KEY,
    KEY_ID,
    PROJECT,
    SECRET_KEY,
    RecordedScaleway,
    compliant_routes,
    database,
    error,
    key,
    listing,
    server,
)

BUCKET = "booking-documents-fr-par"


@pytest.fixture
def scw(aws: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Routes to edit before reading, and the moto URL standing in for s3.fr-par.scw.cloud."""
    s3 = admin("s3", "us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ID}}
            ]
        },
    )
    yield compliant_routes(("fr-par", "nl-ams", "pl-waw")), aws


def read(
    routes: dict[str, Any], s3_url: str, regions: list[str], **kwargs: Any
) -> tuple[ScalewayReader, Any]:
    with RecordedScaleway(routes) as server:
        client = Client(
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            default_project_id=PROJECT,
            default_region="fr-par",
            api_url=server.url,
        )
        reader = ScalewayReader(
            client, PROJECT, s3_endpoints={"fr-par": s3_url}, sleep=lambda _: None, **kwargs
        )
        stack = reader.read(regions)
        reader.requests = server.requests  # type: ignore[attr-defined]
    return reader, stack


def failed(result: Any, rule_id: str) -> list[Any]:
    return [f for f in result.findings if f.rule_id == rule_id and f.status == "failed"]


def test_compliant_project_passes_with_the_recorded_database_exception(
    scw: tuple[dict[str, Any], str],
) -> None:
    routes, s3_url = scw
    reader, stack = read(routes, s3_url, ["fr-par"])
    db = stack.of_type("scaleway:databases/instance:Instance")[0]
    assert db.get("encryptionAtRest") is True and db.get("privateNetwork")
    [k] = stack.of_type("scaleway:keymanager/key:Key")
    assert k.get("usage") == "symmetric_encryption" and k.region == "fr-par" and k.get("state") == "enabled"
    sse = stack.of_type(
        "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )[0]
    assert sse.get("rules", 0, "applyServerSideEncryptionByDefault", "kmsMasterKeyId") == KEY_ID
    result = audit_stack(stack)
    assert result.passed, [f.message for f in result.failed]
    # No customer key for the managed database: Scaleway's limit, a recorded exception (policies/exceptions.yaml).
    assert [f.rule_id for f in result.excepted] == ["BK-ENC-004"]
    assert all(method == "GET" for method, _ in reader.requests)  # type: ignore[attr-defined]
    # The products not read in detail were listed, in every zone of the region, and held nothing.
    paths = {path for _, path in reader.requests}  # type: ignore[attr-defined]
    assert {f"/instance/v1/zones/fr-par-{n}/servers" for n in (1, 2, 3)} <= paths
    assert "/secret-manager/v1beta1/regions/fr-par/secrets" in paths and not reader.coverage.gaps
    assert not stack.of_type(UNREAD) and not reader.coverage.not_read


def test_database_without_encryption_at_rest(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/rdb/v1/regions/fr-par/instances"] = listing(
        "instances", [database(encryption={"enabled": False})]
    )
    _, stack = read(routes, s3_url, ["fr-par"])
    [finding] = failed(audit_stack(stack), "BK-ENC-002")
    assert "encryptionAtRest is not true" in finding.message


def test_database_with_public_endpoint(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    public = {"id": "1", "ip": "51.159.0.10", "port": 5432, "name": None, "load_balancer": {}}
    routes["/rdb/v1/regions/fr-par/instances"] = listing("instances", [database(endpoints=[public])])
    _, stack = read(routes, s3_url, ["fr-par"])
    messages = [f.message for f in failed(audit_stack(stack), "BK-EXP-002")]
    assert any("public endpoint" in m for m in messages) and any("private network" in m for m in messages)


def test_key_and_database_outside_fr_par(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/key-manager/v1alpha1/regions/nl-ams/keys"] = listing("keys", [key("nl-ams", name="copy")])
    routes["/rdb/v1/regions/pl-waw/instances"] = listing("instances", [database("pl-waw", name="replica-pl")])
    _, stack = read(routes, s3_url, ["fr-par", "nl-ams", "pl-waw"])
    result = audit_stack(stack)
    outside = {f.resource_urn.rsplit("::", 1)[-1] for f in failed(result, "BK-REGION-001")}
    assert outside == {"nl-ams/copy", "pl-waw/replica-pl"}
    assert any("nl-ams" in f.message for f in failed(result, "BK-KEY-003"))


def test_key_disabled(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/key-manager/v1alpha1/regions/fr-par/keys"] = listing("keys", [key(state="disabled")])
    _, stack = read(routes, s3_url, ["fr-par"])
    [finding] = failed(audit_stack(stack), "BK-LIVE-002")
    assert "disabled" in finding.message


def test_key_scheduled_for_deletion(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/key-manager/v1alpha1/regions/fr-par/keys"] = listing("keys", [])
    pending = key(deletion_requested_at="2026-11-20T08:00:00Z")
    routes["/key-manager/v1alpha1/regions/fr-par/keys#scheduled_for_deletion"] = listing("keys", [pending])
    _, stack = read(routes, s3_url, ["fr-par"])
    [finding] = failed(audit_stack(stack), "BK-LIVE-002")
    assert "scheduled_for_deletion" in finding.message


def test_denied_permission_names_the_permission_set_and_the_rest_is_read(
    scw: tuple[dict[str, Any], str],
) -> None:
    routes, s3_url = scw
    routes["/key-manager/v1alpha1/regions/fr-par/keys"] = error(
        403, "insufficient permissions", "permissions_denied"
    )
    reader, stack = read(routes, s3_url, ["fr-par"])
    [gap] = reader.coverage.gaps
    assert gap.permission == "KeyManagerReadOnly" and gap.what == "Key Manager keys"
    assert stack.of_type("scaleway:databases/instance:Instance")
    assert any("KeyManagerReadOnly" in f.message for f in failed(audit_stack(stack), "BK-LIVE-004"))


SERVER_ID = server()["id"]


def test_an_unread_product_resource_fails_naming_its_type_and_id(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/instance/v1/zones/fr-par-2/servers"] = listing("servers", [server("fr-par-2")])
    reader, stack = read(routes, s3_url, ["fr-par"])
    result = audit_stack(stack)
    [finding] = failed(result, "BK-LIVE-005")
    assert finding.message.startswith(f"instance:server fr-par-2/{SERVER_ID} in fr-par was seen but not read")
    assert not result.passed and [f.rule_id for f in result.failed] == ["BK-LIVE-005"]
    assert reader.coverage.not_read == [f"instance:server fr-par-2/{SERVER_ID}"]


def test_an_exception_covers_an_unread_resource(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/instance/v1/zones/fr-par-1/servers"] = listing("servers", [server()])
    _, stack = read(routes, s3_url, ["fr-par"])
    [unread] = stack.of_type(UNREAD)
    register = [
        *load(),  # the project's register (the database's BK-ENC-004 exception)
        PolicyException(
            rule="BK-LIVE-005",
            resource=unread.urn,
            justification="debug server being decommissioned; holds no data",
            owner="platform-security@booking.example.fr",
            expires=dt.date(2099, 1, 1),
        ),
    ]
    result = audit_stack(stack, exceptions=register)
    assert result.passed, [f.message for f in result.failed]
    assert sorted(f.rule_id for f in result.excepted) == ["BK-ENC-004", "BK-LIVE-005"]


def test_a_secret_pending_deletion_outside_fr_par_is_unread_and_outside(
    scw: tuple[dict[str, Any], str],
) -> None:
    routes, s3_url = scw
    secret = {"id": "4b3a2918-0f1e-4d2c-8b3a-291807f6e5d4", "name": "old-db-password", "region": "nl-ams"}
    routes["/secret-manager/v1beta1/regions/nl-ams/secrets#scheduled_for_deletion"] = listing(
        "secrets", [secret]
    )
    _, stack = read(routes, s3_url, ["fr-par", "nl-ams"])
    result = audit_stack(stack)
    [finding] = failed(result, "BK-LIVE-005")
    assert finding.message.startswith(f"secret:secret nl-ams/{secret['id']} in nl-ams")
    assert [f.resource_urn for f in failed(result, "BK-REGION-001")] == [finding.resource_urn]


@pytest.mark.parametrize(
    ("route", "answer", "permission"),
    [
        ("/redis/v1/zones/fr-par-1/clusters", error(403, "insufficient permissions", "permissions_denied"),
         "RedisReadOnly"),
        ("/block/v1alpha1/zones/fr-par-3/volumes", error(500, "internal error", "internal"), ""),
        ("/containers/v1beta1/regions/fr-par/namespaces", None, ""),  # 404: the call failed
    ],
)  # fmt: skip
def test_a_failing_list_call_is_a_gap_never_a_pass(
    scw: tuple[dict[str, Any], str], route: str, answer: Any, permission: str
) -> None:
    routes, s3_url = scw
    if answer is None:
        del routes[route]
    else:
        routes[route] = answer
    reader, stack = read(routes, s3_url, ["fr-par"])
    [gap] = reader.coverage.gaps
    assert gap.region == "fr-par" and gap.permission == permission
    result = audit_stack(stack)
    assert [f.rule_id for f in result.failed] == ["BK-LIVE-004"]  # the rest passes, but not the gap


def test_cli_failing_list_call_makes_the_audit_incomplete(
    scw: tuple[dict[str, Any], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    routes, s3_url = scw
    routes["/functions/v1beta1/regions/fr-par/namespaces"] = error(500, "internal error", "internal")
    code, output = run_cli(routes, s3_url, monkeypatch, tmp_path, capsys)
    assert code == 3, output
    assert "INCOMPLETE" in output and "Serverless Functions namespaces not checked" in output


def test_cli_unread_resource_fails(
    scw: tuple[dict[str, Any], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    routes, s3_url = scw
    routes["/instance/v1/zones/fr-par-1/servers"] = listing("servers", [server()])
    code, output = run_cli(routes, s3_url, monkeypatch, tmp_path, capsys)
    assert code == 1, output
    assert "BK-LIVE-005" in output and "FAIL" in output


def test_throttling_is_retried_with_backoff(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    answer = routes["/rdb/v1/regions/fr-par/instances"]
    throttled = error(429, "rate limit exceeded", "too_many_requests")
    routes["/rdb/v1/regions/fr-par/instances"] = [throttled, throttled, answer]
    reader, stack = read(routes, s3_url, ["fr-par"])
    assert reader.coverage.retries == 2 and not reader.coverage.gaps
    assert stack.of_type("scaleway:databases/instance:Instance")


def test_invalid_credentials_stop_the_run(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    routes["/rdb/v1/regions/fr-par/instances"] = error(
        401, "authentication is denied", "denied_authentication"
    )
    with pytest.raises(CredentialError, match="rejected the credentials"):
        read(routes, s3_url, ["fr-par"])


def test_unknown_region(scw: tuple[dict[str, Any], str]) -> None:
    routes, s3_url = scw
    with pytest.raises(UnknownRegionError, match="fr-lyo"):
        read(routes, s3_url, ["fr-lyo"])


def test_sdk_writes_are_refused_before_any_request(scw: tuple[dict[str, Any], str]) -> None:
    from scaleway.key_manager.v1alpha1 import KeyManagerV1Alpha1API
    from scaleway.rdb.v1 import RdbV1API

    routes, _ = scw
    with RecordedScaleway(routes) as server:
        client = Client(
            access_key=ACCESS_KEY, secret_key=SECRET_KEY, default_region="fr-par", api_url=server.url
        )
        keys = read_only_api(KeyManagerV1Alpha1API(client))
        rdb = read_only_api(RdbV1API(client))
        with pytest.raises(ReadOnlyViolationError):
            keys.delete_key(key_id=KEY_ID)
        with pytest.raises(ReadOnlyViolationError):
            keys.disable_key(key_id=KEY_ID)
        with pytest.raises(ReadOnlyViolationError):
            rdb.delete_instance(instance_id="5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        assert server.requests == []


def run_cli(
    routes: dict[str, Any], s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> tuple[int, str]:
    with RecordedScaleway(routes) as server:
        for name, value in {
            "SCW_ACCESS_KEY": ACCESS_KEY,
            "SCW_SECRET_KEY": SECRET_KEY,
            "SCW_API_URL": server.url,
            "SCW_DEFAULT_REGION": "fr-par",
            "SCW_CONFIG_PATH": str(tmp_path / "none.yaml"),
        }.items():
            monkeypatch.setenv(name, value)
        args = [
            "--target",
            "scaleway",
            "--project-id",
            PROJECT,
            "--regions",
            "fr-par",
            "--out",
            str(tmp_path),
        ]
        code = verify_module().main([*args, "--s3-endpoint-url", s3_url, "--quiet"])
    return code, capsys.readouterr().out


def test_cli_compliant_project(
    scw: tuple[dict[str, Any], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    routes, s3_url = scw
    code, output = run_cli(routes, s3_url, monkeypatch, tmp_path, capsys)
    assert code == 0, output
    assert "live-scaleway-11111111: PASS" in output and "EXCEPTED BK-ENC-004" in output
    assert (tmp_path / "results.sarif").is_file()


def test_cli_missing_scaleway_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    for name in ("SCW_ACCESS_KEY", "SCW_SECRET_KEY", "SCW_DEFAULT_PROJECT_ID", "SCW_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCW_CONFIG_PATH", str(tmp_path / "none.yaml"))
    code = verify_module().main(["--target", "scaleway", "--out", str(tmp_path), "--quiet"])
    assert code == 2
    assert "no Scaleway credentials found" in capsys.readouterr().err
