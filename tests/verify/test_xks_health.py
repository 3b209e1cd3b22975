"""The optional XKS proxy health check: a SigV4-signed GetHealthStatus, judged by BK-LIVE-003."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from policies.audit import audit_stack
from policies.inputs.live import xks_health
from policies.model import Resource, Stack

STORE = Resource(
    type="aws:kms/customKeyStore:CustomKeyStore",
    name="booking-xks-paris",
    urn="urn:pulumi:live::sovereign-booking::aws:kms/customKeyStore:CustomKeyStore::eu-west-3/booking-xks-paris",
    properties={
        "customKeyStoreType": "EXTERNAL_KEY_STORE",
        "xksProxyUriEndpoint": "https://xks.booking.example.fr",
        "xksProxyUriPath": "/kms/xks/v1",
    },
    provider="aws",
    region="eu-west-3",
)


class _Answer:
    def __init__(self, body: dict[str, Any]) -> None:
        self._body = json.dumps(body).encode()

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *_: Any) -> None:
        return None


def _credential(tmp_path: Path) -> xks_health.ProxyCredential:
    path = tmp_path / "creds.json"
    path.write_text(
        json.dumps(
            {
                "XksProxyUriPath": "/kms/xks/v1",
                "XksProxyAuthenticationCredential": {
                    "AccessKeyId": "BKXKSACCESSKEYID0001",
                    "RawSecretAccessKey": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA",
                },
            }
        )
    )
    credential = xks_health.load_credential(path, {})
    assert credential is not None
    return credential


@pytest.mark.parametrize(
    ("fleet", "passes"),
    [
        ([{"id": "hsm-1", "model": "SoftHSMv2", "healthStatus": "ACTIVE"}], True),
        ([{"id": "hsm-1", "model": "SoftHSMv2", "healthStatus": "DEGRADED"}], False),
    ],
)
def test_signed_health_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fleet: list[Any], passes: bool
) -> None:
    sent: list[Any] = []

    def urlopen(request: Any, **_: Any) -> _Answer:
        sent.append(request)
        return _Answer(
            {"xksProxyFleetSize": 1, "xksProxyVendor": "sovereign-booking", "ekmFleetDetails": fleet}
        )

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    stack = xks_health.check_stores(Stack("live", [STORE]), _credential(tmp_path), lambda _: None)
    [request] = sent
    assert request.full_url == "https://xks.booking.example.fr/kms/xks/v1/health"
    assert request.get_method() == "POST"
    authorization = request.get_header("Authorization")
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=BKXKSACCESSKEYID0001/")
    assert "/eu-west-3/kms/aws4_request" in authorization
    result = audit_stack(stack)
    live_003 = [f for f in result.findings if f.rule_id == "BK-LIVE-003"]
    assert (not live_003) is passes


def test_unreachable_proxy_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def urlopen(request: Any, **_: Any) -> _Answer:
        raise OSError("connection refused")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    stack = xks_health.check_stores(Stack("live", [STORE]), _credential(tmp_path), lambda _: None)
    [finding] = [f for f in audit_stack(stack).findings if f.rule_id == "BK-LIVE-003"]
    assert "connection refused" in finding.message


def test_no_credential_no_check() -> None:
    assert xks_health.load_credential(None, {}) is None
    assert not [f for f in audit_stack(Stack("live", [STORE])).findings if f.rule_id == "BK-LIVE-003"]


def test_the_health_check_keeps_what_the_read_could_not_read(tmp_path: Path) -> None:
    """The checked stack keeps the read's gaps and kind: BK-LIVE-004 still fails, live rules still apply."""
    from policies.model import Gap

    gap = Gap("aws", "eu-west-3", "KMS keys", "kms:ListKeys", "access denied (AccessDeniedException)")
    read = Stack("live", [], gaps=(gap,), kind="live")  # no store: no call to a proxy
    checked = xks_health.check_stores(read, _credential(tmp_path), lambda _: None)
    assert checked.gaps == (gap,) and checked.kind == "live"
    assert [f.rule_id for f in audit_stack(checked).failed if f.rule_id == "BK-LIVE-004"] == ["BK-LIVE-004"]
