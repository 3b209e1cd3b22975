"""Every XKS API operation and error path, over real HTTPS with botocore-signed requests."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import ssl
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from pkcs11 import Attribute, ObjectClass

from tests.xks_proxy.xks_helpers import (
    KEY,
    KEY_DEC_ONLY,
    KEY_DISABLED,
    KEY_ENC_ONLY,
    RunningProxy,
    request_metadata,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encrypt_payload(
    plaintext: bytes = b"data key bytes", aad: bytes | None = b"ctx", cdiv: bool = True
) -> dict[str, Any]:
    p: dict[str, Any] = {
        "requestMetadata": request_metadata("Encrypt"),
        "plaintext": b64(plaintext),
        "encryptionAlgorithm": "AES_GCM",
    }
    if aad is not None:
        p["additionalAuthenticatedData"] = b64(aad)
    if cdiv:
        p["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256"
    return p


def decrypt_payload(enc: dict[str, Any], aad: bytes | None = b"ctx") -> dict[str, Any]:
    p: dict[str, Any] = {
        "requestMetadata": request_metadata("Decrypt"),
        "encryptionAlgorithm": "AES_GCM",
        "ciphertext": enc["ciphertext"],
        "initializationVector": enc["initializationVector"],
        "authenticationTag": enc["authenticationTag"],
    }
    if aad is not None:
        p["additionalAuthenticatedData"] = b64(aad)
    return p


def health_payload() -> dict[str, Any]:
    return {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "KmsHealthCheck"}}


def wait_for(predicate: Any, what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never became true: {what}")


# ------------------------------------------------------------------------------------- happy paths


def test_health_reports_fleet_and_active_hsm(proxy: RunningProxy) -> None:
    r = proxy.client().call("health", health_payload())
    assert r.status == 200
    assert r.body["xksProxyFleetSize"] == 1
    assert r.body["xksProxyVendor"] and r.body["xksProxyModel"] and r.body["ekmVendor"]
    (detail,) = r.body["ekmFleetDetails"]
    assert detail["healthStatus"] == "ACTIVE"
    assert detail["id"] and detail["model"]


def test_metadata_of_enabled_key(proxy: RunningProxy) -> None:
    meta = request_metadata("CreateKey", with_key_arn=False)  # kmsKeyArn is absent during CreateKey
    r = proxy.client().call("metadata", {"requestMetadata": meta}, KEY)
    assert (r.status, r.body) == (
        200,
        {"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"},
    )


@pytest.mark.parametrize(
    ("key", "usage", "status"),
    [
        (KEY_ENC_ONLY, ["ENCRYPT"], "ENABLED"),
        (KEY_DEC_ONLY, ["DECRYPT"], "ENABLED"),
        (KEY_DISABLED, ["ENCRYPT", "DECRYPT"], "DISABLED"),  # state and usage are independent
    ],
)
def test_metadata_reflects_usage_and_status_in_the_hsm(
    proxy: RunningProxy, key: str, usage: list[str], status: str
) -> None:
    r = proxy.client().call("metadata", {"requestMetadata": request_metadata("DescribeKey")}, key)
    assert r.status == 200
    assert r.body["keyUsage"] == usage
    assert r.body["keyStatus"] == status


@pytest.mark.parametrize("size", [0, 1, 64, 4300])
def test_encrypt_decrypt_round_trip_with_cdiv(proxy: RunningProxy, size: int) -> None:
    client = proxy.client()
    plaintext = bytes(range(256)) * (size // 256) + bytes(size % 256)
    aad = b"A" * 8192  # the spec's maximum AAD
    r = client.call("encrypt", encrypt_payload(plaintext, aad), KEY)
    assert r.status == 200, r.body
    iv = base64.b64decode(r.body["initializationVector"])
    ct = base64.b64decode(r.body["ciphertext"])
    tag = base64.b64decode(r.body["authenticationTag"])
    assert (len(iv), len(ct), len(tag)) == (12, size, 16)
    assert r.body["ciphertextDataIntegrityValue"] == b64(hashlib.sha256(aad + iv + ct + tag).digest())
    d = client.call("decrypt", decrypt_payload(r.body, aad), KEY)
    assert (d.status, d.body) == (200, {"plaintext": b64(plaintext)})


def test_encrypt_without_optional_fields(proxy: RunningProxy) -> None:
    client = proxy.client()
    r = client.call("encrypt", encrypt_payload(aad=None, cdiv=False), KEY)
    assert r.status == 200
    assert "ciphertextDataIntegrityValue" not in r.body and "ciphertextMetadata" not in r.body
    assert client.call("decrypt", decrypt_payload(r.body, aad=None), KEY).status == 200


def test_ivs_are_fresh(proxy: RunningProxy) -> None:
    client = proxy.client()
    ivs = {client.call("encrypt", encrypt_payload(), KEY).body["initializationVector"] for _ in range(20)}
    assert len(ivs) == 20


def test_encrypt_only_and_decrypt_only_keys(proxy: RunningProxy) -> None:
    client = proxy.client()
    enc = client.call("encrypt", encrypt_payload(cdiv=False), KEY_ENC_ONLY)
    assert enc.status == 200
    r = client.call("decrypt", decrypt_payload(enc.body), KEY_ENC_ONLY)
    assert (r.status, r.body["errorName"]) == (400, "InvalidKeyUsageException")
    r = client.call("encrypt", encrypt_payload(), KEY_DEC_ONLY)
    assert (r.status, r.body["errorName"]) == (400, "InvalidKeyUsageException")


def test_disabled_key_is_invalid_state(proxy: RunningProxy) -> None:
    client = proxy.client()
    r = client.call("encrypt", encrypt_payload(), KEY_DISABLED)
    assert (r.status, r.body["errorName"]) == (400, "InvalidStateException")


def test_cdiv_on_a_key_that_cannot_decrypt_is_invalid_key_usage(proxy: RunningProxy) -> None:
    r = proxy.client().call("encrypt", encrypt_payload(cdiv=True), KEY_ENC_ONLY)
    assert (r.status, r.body["errorName"]) == (400, "InvalidKeyUsageException")
    assert "ciphertextDataIntegrityValue" not in r.body


def _keys(proxy: RunningProxy, *args: str) -> str:
    """A custodian command, as the custodian runs it: another process (never C_Finalize under the proxy)."""
    done = subprocess.run(
        [sys.executable, "-m", "xks_proxy", "keys", "--config", str(proxy.setup.config), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_state_is_kept_apart_from_usage(proxy_factory: Any) -> None:
    proxy = proxy_factory(hsm_overrides={"key_cache_ttl_s": 0})
    client = proxy.client()
    # No usage at all, enabled: InvalidKeyUsage (the key exists and is enabled).
    assert _keys(proxy, "usage", KEY, "--usage", "encrypt") == f"{KEY}: ENABLED usage=ENCRYPT"
    r = client.call(
        "decrypt", decrypt_payload(client.call("encrypt", encrypt_payload(cdiv=False), KEY).body), KEY
    )
    assert (r.status, r.body["errorName"]) == (400, "InvalidKeyUsageException")
    # Encrypt-only, then disabled: InvalidState for both operations, usage still reported.
    assert _keys(proxy, "disable", KEY) == f"{KEY}: DISABLED usage=ENCRYPT"
    assert _keys(proxy, "show", KEY) == f"{KEY}: DISABLED usage=ENCRYPT"
    bogus = {
        "ciphertext": b64(b"x"),
        "initializationVector": b64(b"i" * 12),
        "authenticationTag": b64(b"t" * 16),
    }
    for op, payload in (("encrypt", encrypt_payload(cdiv=False)), ("decrypt", decrypt_payload(bogus))):
        r = client.call(op, payload, KEY)
        assert (r.status, r.body["errorName"]) == (400, "InvalidStateException"), op
    meta = client.call("metadata", {"requestMetadata": request_metadata("DescribeKey")}, KEY).body
    assert (meta["keyStatus"], meta["keyUsage"]) == ("DISABLED", ["ENCRYPT"])
    # Enable restores the usage the key had.
    assert _keys(proxy, "enable", KEY) == f"{KEY}: ENABLED usage=ENCRYPT"
    assert client.call("encrypt", encrypt_payload(cdiv=False), KEY).status == 200
    assert _keys(proxy, "destroy", KEY, "--yes") == f"{KEY}: DESTROYED"
    r = client.call("encrypt", encrypt_payload(cdiv=False), KEY)
    assert (r.status, r.body["errorName"]) == (404, "KeyNotFoundException")


def test_destroyed_key_is_key_not_found_every_time_without_a_library_reset(proxy_factory: Any) -> None:
    # A long key cache: every HSM thread keeps its handle for the key when the custodian destroys it
    # from another process. Each request must still answer the spec's KeyNotFoundException, and the
    # other keys keep working with no reconnect (a reset would stall them and answer InternalException).
    proxy = proxy_factory(hsm_overrides={"key_cache_ttl_s": 300})
    client = proxy.client()
    blobs = [client.call("encrypt", encrypt_payload(cdiv=True), KEY).body for _ in range(12)]
    for blob in blobs:  # warm the handle cache of every HSM thread for encrypt and decrypt
        assert client.call("decrypt", decrypt_payload(blob), KEY).status == 200
    assert _keys(proxy, "destroy", KEY, "--yes") == f"{KEY}: DESTROYED"
    for blob in blobs:
        for op, payload in (("encrypt", encrypt_payload(cdiv=False)), ("decrypt", decrypt_payload(blob))):
            r = client.call(op, payload, KEY)
            assert (r.status, r.body["errorName"]) == (404, "KeyNotFoundException"), op
        assert client.call("encrypt", encrypt_payload(cdiv=False), KEY_ENC_ONLY).status == 200
    assert "hsm_connection_error" not in proxy.logs.getvalue()
    # A key re-created under the same id is another key: the old ciphertext is not readable with it.
    _keys(proxy, "create", KEY)
    r = client.call("decrypt", decrypt_payload(blobs[0]), KEY)
    assert (r.status, r.body["errorName"]) == (400, "InvalidCiphertextException")


def test_no_usage_key_and_hsm_enforced_disable(tmp_path: Any) -> None:
    from tests.xks_proxy.xks_helpers import make_setup
    from xks_proxy.config import load_hsm_config
    from xks_proxy.keys import KeyCustodian

    setup = make_setup(tmp_path)
    custodian = KeyCustodian(load_hsm_config(setup.config))
    try:
        assert custodian.set_usage(KEY, False, False).line() == f"{KEY}: ENABLED usage=-"
        custodian.set_usage(KEY, True, True)
        assert custodian.disable(KEY).line() == f"{KEY}: DISABLED usage=ENCRYPT,DECRYPT"
        # The HSM itself refuses the disabled key, whatever the proxy does.
        hsm_key = custodian.session.get_key(object_class=ObjectClass.SECRET_KEY, label=KEY)
        assert (hsm_key[Attribute.ENCRYPT], hsm_key[Attribute.DECRYPT]) == (False, False)
        assert custodian.enable(KEY).line() == f"{KEY}: ENABLED usage=ENCRYPT,DECRYPT"
    finally:
        custodian.close()


# ------------------------------------------------------------------------------------- ciphertext errors


@pytest.mark.parametrize(
    "field", ["ciphertext", "initializationVector", "authenticationTag", "aad", "metadata"]
)
def test_tampering_is_invalid_ciphertext(proxy: RunningProxy, field: str) -> None:
    client = proxy.client()
    enc = client.call("encrypt", encrypt_payload(b"secret data"), KEY).body
    payload = decrypt_payload(enc)
    if field == "aad":
        payload["additionalAuthenticatedData"] = b64(b"other")
    elif field == "metadata":
        payload["ciphertextMetadata"] = b64(b"v1")  # metadata is bound into the GCM AAD
    else:
        raw = bytearray(base64.b64decode(payload[field]))
        raw[0] ^= 1
        payload[field] = b64(bytes(raw))
    r = client.call("decrypt", payload, KEY)
    assert (r.status, r.body["errorName"]) == (400, "InvalidCiphertextException")
    assert "secret data" not in json.dumps(r.body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("initializationVector", b64(b"x" * 11)),
        ("authenticationTag", b64(b"x" * 15)),
        ("ciphertext", "not base64!"),
    ],
)
def test_malformed_crypto_fields_are_invalid_ciphertext(proxy: RunningProxy, field: str, value: str) -> None:
    client = proxy.client()
    enc = client.call("encrypt", encrypt_payload(), KEY).body
    r = client.call("decrypt", {**decrypt_payload(enc), field: value}, KEY)
    assert (r.status, r.body["errorName"]) == (400, "InvalidCiphertextException")


def test_sixteen_byte_iv_is_accepted_as_input(proxy: RunningProxy) -> None:
    client = proxy.client()
    enc = client.call("encrypt", encrypt_payload(), KEY).body
    r = client.call("decrypt", {**decrypt_payload(enc), "initializationVector": b64(b"\x00" * 16)}, KEY)
    assert r.body["errorName"] == "InvalidCiphertextException"  # a valid size, the wrong IV


# ------------------------------------------------------------------------------------- limits and validation


def test_limits(proxy: RunningProxy) -> None:
    client = proxy.client()
    r = client.call("encrypt", encrypt_payload(b"x" * 4301), KEY)
    assert (r.status, r.body["errorName"]) == (501, "UnsupportedOperationException")
    r = client.call("encrypt", encrypt_payload(aad=b"x" * 8193), KEY)
    assert (r.status, r.body["errorName"]) == (501, "UnsupportedOperationException")
    enc = client.call("encrypt", encrypt_payload(), KEY).body
    r = client.call("decrypt", {**decrypt_payload(enc), "ciphertextMetadata": b64(b"m" * 21)}, KEY)
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")
    meta = request_metadata("Encrypt")
    meta["awsPrincipalArn"] = "arn:aws:iam::111122223333:role/" + "r" * 2100
    r = client.call("encrypt", {**encrypt_payload(), "requestMetadata": meta}, KEY)
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("requestMetadata"),
        lambda p: p["requestMetadata"].pop("kmsRequestId"),
        lambda p: p["requestMetadata"].pop("kmsKeyArn"),
        lambda p: p.pop("plaintext"),
        lambda p: p.update(plaintext="***"),
        lambda p: p.update(encryptionAlgorithm="AES_CBC"),
        lambda p: p.update(ciphertextDataIntegrityValueAlgorithm="MD5"),
    ],
    ids=[
        "no-metadata",
        "no-request-id",
        "no-key-arn",
        "no-plaintext",
        "bad-base64",
        "algorithm",
        "cdiv-algorithm",
    ],
)
def test_validation_errors(proxy: RunningProxy, mutate: Any) -> None:
    payload = encrypt_payload()
    mutate(payload)
    r = proxy.client().call("encrypt", payload, KEY)
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")
    assert set(r.body) == {"errorName", "errorMessage"} and len(r.body["errorMessage"]) < 512


def test_unknown_kms_operation_is_not_rejected(proxy: RunningProxy) -> None:
    payload = encrypt_payload()
    payload["requestMetadata"]["kmsOperation"] = "BulkEncryptFromTheFuture"
    payload["requestMetadata"]["someFutureField"] = "x"
    assert proxy.client().call("encrypt", payload, KEY).status == 200


def test_unknown_key_and_not_allowed_key(proxy: RunningProxy) -> None:
    client = proxy.client()
    r = client.call("metadata", {"requestMetadata": request_metadata("DescribeKey")}, "key-absent")
    assert (r.status, r.body["errorName"]) == (404, "KeyNotFoundException")
    absent = r.body
    r = client.call("metadata", {"requestMetadata": request_metadata("DescribeKey")}, "key-not-allowed")
    # Outside the allow-list: the same answer as a missing key, so nothing leaks about other keys.
    assert (r.status, r.body) == (404, absent)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"{}",
        b'{"requestMetadata":{"kmsOperation":"KmsHealthCheck"}}',
        b'{"requestMetadata":{"kmsRequestId":"r-1"}}',
        b'{"requestMetadata":"x"}',
    ],
    ids=["empty", "not-json", "array", "no-metadata", "no-request-id", "no-operation", "metadata-string"],
)
def test_health_requires_request_metadata(proxy: RunningProxy, body: bytes) -> None:
    client = proxy.client()
    path = f"{proxy.uri_path}/health"
    r = client.raw("POST", path, body, client.signed_headers(path, body))
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")


def test_uri_paths_and_methods(proxy: RunningProxy) -> None:
    client = proxy.client()
    body = json.dumps(health_payload()).encode()
    for path in ("/other/kms/xks/v1/health", f"{proxy.uri_path}/keys/{KEY}/sign", "/nothing"):
        r = client.raw("POST", path, body, client.signed_headers(path, body))
        assert (r.status, r.body["errorName"]) == (404, "InvalidUriPathException"), path
    path = f"{proxy.uri_path}/keys/{KEY}/metadata"
    r = client.raw("GET", path, b"", client.signed_headers(path, b"", method="GET"))
    assert r.status == 405
    r = client.raw("GET", f"{proxy.uri_path}/health", b"", {})
    assert r.status == 405


# ------------------------------------------------------------------------------------- authentication


def test_bad_signature_missing_auth_and_unknown_key_id(proxy: RunningProxy) -> None:
    client = proxy.client()
    r = client.call("health", health_payload(), secret=b64(b"w" * 32))
    assert (r.status, r.body["errorName"]) == (401, "AuthenticationFailedException")
    path = f"{proxy.uri_path}/health"
    r = client.raw("POST", path, b"{}", {"Content-Type": "application/json"})
    assert (r.status, r.body["errorName"]) == (401, "AuthenticationFailedException")
    other = proxy.client()
    other.creds = Credentials("AAAAAAAAAAAAAAAAAAAAAAAA", proxy.secret)
    assert other.call("health", health_payload()).status == 401


def test_body_is_covered_by_the_signature(proxy: RunningProxy) -> None:
    client = proxy.client()
    path = f"{proxy.uri_path}/keys/{KEY}/encrypt"
    body = json.dumps(encrypt_payload(b"one")).encode()
    headers = client.signed_headers(path, body)
    other = json.dumps(encrypt_payload(b"two")).encode()
    r = client.raw("POST", path, other, headers)
    assert r.status == 401
    headers["X-Amz-Content-SHA256"] = hashlib.sha256(other).hexdigest()  # an unsigned claim
    assert client.raw("POST", path, other, headers).status == 401


def test_wrong_service_name_is_rejected(proxy: RunningProxy) -> None:
    client = proxy.client()
    path = f"{proxy.uri_path}/health"
    body = json.dumps(health_payload()).encode()
    req = AWSRequest(
        method="POST", url=f"https://{client.netloc}{path}", data=body, headers={"Host": client.netloc}
    )
    SigV4Auth(client.creds, "kms", "eu-west-3").add_auth(req)
    assert client.raw("POST", path, body, dict(req.headers.items())).status == 401


@pytest.mark.parametrize(
    ("offset", "status"),
    [(timedelta(minutes=-6), 401), (timedelta(minutes=6), 401), (timedelta(minutes=-4), 200)],
)
def test_clock_skew_window(proxy: RunningProxy, offset: timedelta, status: int) -> None:
    client = proxy.client()
    with mock.patch(
        "botocore.auth.get_current_datetime", return_value=datetime.now(UTC).replace(tzinfo=None) + offset
    ):
        r = client.call("health", health_payload())
    assert r.status == status


def test_two_credentials_during_rotation_and_reload(proxy: RunningProxy, tmp_path: Any) -> None:
    import yaml

    from xks_proxy.devsetup import random_access_key_id, random_secret

    new_akid, new_secret = random_access_key_id(), random_secret()
    (proxy.setup.directory / "sigv4-secret-new").write_text(new_secret)
    cfg = yaml.safe_load(proxy.setup.config.read_text())
    creds = cfg["keystores"][0]["credentials"]
    creds.append({"access_key_id": new_akid, "secret_access_key_file": "sigv4-secret-new"})
    proxy.setup.config.write_text(yaml.safe_dump(cfg))
    old_client, new_client = proxy.client(), proxy.client()
    new_client.creds = Credentials(new_akid, new_secret)
    assert new_client.call("health", health_payload()).status == 401  # not active yet
    proxy.loop.call_soon_threadsafe(proxy.server.reload)  # what SIGHUP does
    wait_for(lambda: new_client.call("health", health_payload()).status == 200, "new credential accepted")
    assert old_client.call("health", health_payload()).status == 200  # both accepted at once
    cfg["keystores"][0]["credentials"] = [creds[1]]
    proxy.setup.config.write_text(yaml.safe_dump(cfg))
    proxy.loop.call_soon_threadsafe(proxy.server.reload)
    wait_for(lambda: old_client.call("health", health_payload()).status == 401, "old credential retired")
    assert new_client.call("health", health_payload()).status == 200


# ------------------------------------------------------------------------------------- TLS


def test_tls_1_1_is_refused(proxy: RunningProxy) -> None:
    ctx = ssl.create_default_context(cafile=str(proxy.setup.ca_cert))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    conn = http.client.HTTPSConnection("localhost", proxy.server.port, context=ctx, timeout=5)
    with pytest.raises((ssl.SSLError, OSError)):
        conn.request("POST", f"{proxy.uri_path}/health", body=b"{}")


def test_mtls_requires_the_kms_client_certificate(proxy_factory: Any) -> None:
    proxy = proxy_factory(mtls=True)
    with_cert = proxy.client(client_cert=(str(proxy.setup.client_cert), str(proxy.setup.client_key)))
    assert with_cert.call("health", health_payload()).status == 200
    without = proxy.client()
    with pytest.raises((ssl.SSLError, OSError, http.client.HTTPException)):
        without.call("health", health_payload())


# ------------------------------------------------------------------------------------- throttling, HSM loss


def test_key_store_quota_gives_throttling(proxy_factory: Any) -> None:
    proxy = proxy_factory(keystore_overrides={"rate_limit_rps": 1})
    client = proxy.client()
    statuses = [client.call("health", health_payload()) for _ in range(5)]
    throttled = [r for r in statuses if r.status == 429]
    assert throttled and throttled[0].body["errorName"] == "ThrottlingException"


def test_full_hsm_queue_gives_throttling_not_timeouts(proxy_factory: Any) -> None:
    import threading

    # The health probe shares the bounded queue (it measures the path requests take): one probe at
    # start, then none for 55 s, so the two slots are the two requests' and nothing else's.
    proxy = proxy_factory(
        hsm_overrides={"sessions": 1, "max_queue": 2, "operation_timeout_ms": 20000, "health_interval_s": 55}
    )
    hsm = proxy.server.hsm
    wait_for(lambda: proxy.server.api.health.checked_at > 0 and hsm.outstanding == 0, "first health probe")
    gate = threading.Event()
    real = hsm.encrypt

    def slow_encrypt(*args: Any) -> Any:
        gate.wait(20)
        return real(*args)

    hsm.encrypt = slow_encrypt
    results: list[int] = []
    workers = [
        threading.Thread(
            target=lambda: results.append(proxy.client().call("encrypt", encrypt_payload(), KEY).status)
        )
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    wait_for(lambda: hsm.outstanding >= 2, "two HSM operations queued")
    r = proxy.client().call("encrypt", encrypt_payload(), KEY)
    assert (r.status, r.body["errorName"]) == (429, "ThrottlingException")
    gate.set()
    for w in workers:
        w.join(30)
    assert results == [200, 200]


def test_hung_hsm_gives_dependency_timeout_then_recovers(proxy_factory: Any) -> None:
    import threading

    proxy = proxy_factory(hsm_overrides={"sessions": 2, "max_queue": 4, "operation_timeout_ms": 100})
    hsm = proxy.server.hsm
    plugged = threading.Event()
    real_encrypt, real_probe = hsm.encrypt, hsm.probe

    def hang(real: Any) -> Any:
        def call(*args: Any) -> Any:
            plugged.wait(60)
            return real(*args)

        return call

    hsm.encrypt, hsm.probe = hang(real_encrypt), hang(real_probe)
    client = proxy.client()
    r = client.call("encrypt", encrypt_payload(), KEY)
    assert (r.status, r.body["errorName"]) == (503, "DependencyTimeoutException")
    wait_for(
        lambda: (
            client.call("health", health_payload()).body["ekmFleetDetails"][0]["healthStatus"]
            == "UNAVAILABLE"
        ),
        "health UNAVAILABLE",
    )
    for _ in range(6):  # the queue fills with hung calls: still a fast DependencyTimeout, not a hang
        r = client.call("encrypt", encrypt_payload(), KEY)
        assert r.body["errorName"] == "DependencyTimeoutException"
    plugged.set()
    wait_for(
        lambda: (
            client.call("health", health_payload()).body["ekmFleetDetails"][0]["healthStatus"] == "ACTIVE"
        ),
        "health ACTIVE again",
    )
    assert client.call("encrypt", encrypt_payload(), KEY).status == 200


def test_token_loss_and_recovery(proxy_factory: Any) -> None:
    proxy = proxy_factory(hsm_overrides={"key_cache_ttl_s": 0})
    tokens = proxy.setup.directory / "tokens"
    hidden = proxy.setup.directory / "tokens-away"
    client = proxy.client()
    assert client.call("encrypt", encrypt_payload(), KEY).status == 200
    tokens.rename(hidden)  # the HSM's storage disappears
    try:
        r = client.call("encrypt", encrypt_payload(), KEY)
        assert r.status in (500, 503) and r.body["errorName"] in (
            "InternalException",
            "DependencyTimeoutException",
        )
        wait_for(
            lambda: (
                client.call("health", health_payload()).body["ekmFleetDetails"][0]["healthStatus"]
                == "UNAVAILABLE"
            ),
            "health UNAVAILABLE",
        )
    finally:
        hidden.rename(tokens)
    wait_for(lambda: client.call("encrypt", encrypt_payload(), KEY).status == 200, "encrypt works again")
    wait_for(
        lambda: (
            client.call("health", health_payload()).body["ekmFleetDetails"][0]["healthStatus"] == "ACTIVE"
        ),
        "health ACTIVE again",
    )


# ------------------------------------------------------------------------------------- logs and metrics


def test_logs_carry_request_ids_and_no_secrets(proxy: RunningProxy) -> None:
    client = proxy.client()
    plaintext = b"PLAINTEXT-MARKER-0123456789"
    payload = encrypt_payload(plaintext, aad=b"AAD-MARKER")
    enc = client.call("encrypt", payload, KEY).body
    dec = client.call("decrypt", decrypt_payload(enc, aad=b"AAD-MARKER"), KEY)
    assert dec.status == 200
    client.call("health", health_payload(), secret=b64(b"z" * 32))
    logs = proxy.logs.getvalue()
    assert payload["requestMetadata"]["kmsRequestId"] in logs
    pin = (proxy.setup.directory / "hsm-pin").read_text().strip()
    for secret in (
        plaintext.decode(),
        b64(plaintext),
        dec.body["plaintext"],
        enc["ciphertext"],
        proxy.secret,
        pin,
        "AAD-MARKER",
        b64(b"AAD-MARKER"),
    ):
        assert secret not in logs
    for line in logs.splitlines():
        json.loads(line)  # structured: every line is JSON


def test_metrics_on_separate_port(proxy: RunningProxy) -> None:
    proxy.client().call("health", health_payload())
    conn = http.client.HTTPConnection("127.0.0.1", proxy.server.metrics_port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    assert 'xks_requests_total{keystore="dev",operation="health",status="200",error=""}' in text
    assert "xks_hsm_health 2" in text
    conn = http.client.HTTPConnection("127.0.0.1", proxy.server.metrics_port, timeout=5)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    assert proxy.server.metrics_port != proxy.server.port
