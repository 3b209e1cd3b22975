"""Conformance with the XKS Proxy API specification (aws/aws-kms-xksproxy-api-spec, v1), walked table by table.

Every case runs over real HTTPS with botocore SigV4 signatures against a proxy on a SoftHSM2 token. The
tables below are the spec's, transcribed: the four operations, the key states the custodian can put a
key in, and the error table (error name, HTTP status, triggering condition). Each row is one test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.credentials import Credentials

from tests.xks_proxy.xks_helpers import (
    KEY,
    KEY_DEC_ONLY,
    KEY_DISABLED,
    KEY_ENC_ONLY,
    KEY_NOT_ALLOWED,
    RunningProxy,
    make_setup,
    request_metadata,
    start_proxy,
)
from xks_proxy.config import load_hsm_config
from xks_proxy.keys import KeyCustodian

KEY_NO_USAGE = "key-no-usage"
KEY_DESTROYED = "key-destroyed"
KEY_MISSING = "key-absent"  # allowed for the key store, never created in the HSM
ACCOUNT = "111122223333"  # the account request_metadata() signs as


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def meta(op: str) -> dict[str, Any]:
    return {"requestMetadata": request_metadata(op)}


def enc(plaintext: bytes = b"data key", aad: bytes | None = b"ctx", cdiv: bool = False) -> dict[str, Any]:
    p: dict[str, Any] = {
        **meta("GenerateDataKey"),
        "plaintext": b64(plaintext),
        "encryptionAlgorithm": "AES_GCM",
    }
    if aad is not None:
        p["additionalAuthenticatedData"] = b64(aad)
    if cdiv:
        p["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256"
    return p


def dec(e: dict[str, Any], aad: bytes | None = b"ctx", metadata: bytes | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {
        **meta("Decrypt"),
        "encryptionAlgorithm": "AES_GCM",
        **{k: e[k] for k in ("ciphertext", "initializationVector", "authenticationTag")},
    }
    if aad is not None:
        p["additionalAuthenticatedData"] = b64(aad)
    if metadata is not None:
        p["ciphertextMetadata"] = b64(metadata)
    return p


def health() -> dict[str, Any]:
    return {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "KmsHealthCheck"}}


def spec_error(r: Any, status: int, name: str) -> None:
    """An error as the spec defines it: the status, a JSON body naming it, a short printable message."""
    assert (r.status, r.body.get("errorName")) == (status, name), r.body
    assert set(r.body) <= {"errorName", "errorMessage"}
    message = r.body.get("errorMessage", "")
    assert len(message) < 512 and all(0x20 <= ord(c) <= 0x7E for c in message)


@pytest.fixture(scope="module")
def conformance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    """One proxy for the module (state-changing cases use their own): every key state on one token."""
    tmp = tmp_path_factory.mktemp("conformance")
    setup = make_setup(tmp, hsm_overrides={"key_cache_ttl_s": 0})
    cfg = yaml.safe_load(setup.config.read_text())
    cfg["keystores"][0]["allowed_key_ids"] += [KEY_NO_USAGE, KEY_DESTROYED]
    setup.config.write_text(yaml.safe_dump(cfg))
    custodian = KeyCustodian(load_hsm_config(setup.config))
    try:
        custodian.create(KEY_NO_USAGE, encrypt=False, decrypt=False)
        custodian.create(KEY_DESTROYED)
        custodian.destroy(KEY_DESTROYED)
    finally:
        custodian.close()
    proxy = start_proxy(setup.config, setup)
    yield proxy
    proxy.stop()


def custodian_cli(proxy: RunningProxy, *args: str) -> None:
    """A custodian command while the proxy runs: its own process, as on a real host (one PKCS#11
    library per process; finalizing it here would pull it from under the in-process proxy)."""
    out = subprocess.run(
        [sys.executable, "-m", "xks_proxy", "keys", *args, "--config", str(proxy.setup.config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


# ----------------------------------------------------------------------------------- operations


def test_get_key_metadata_response(conformance: RunningProxy) -> None:
    # kmsKeyArn is absent when the call comes from CreateKey (spec, GetKeyMetadata).
    body = {"requestMetadata": request_metadata("CreateKey", with_key_arn=False)}
    r = conformance.client().call("metadata", body, KEY)
    assert (r.status, r.body) == (
        200,
        {"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"},
    )


@pytest.mark.parametrize("size", [0, 1, 4300])
@pytest.mark.parametrize("aad", [None, b"", b"a" * 8192], ids=["no-aad", "empty-aad", "max-aad"])
def test_encrypt_and_decrypt_responses(conformance: RunningProxy, size: int, aad: bytes | None) -> None:
    client = conformance.client()
    plaintext = bytes(i % 251 for i in range(size))
    e = client.call("encrypt", enc(plaintext, aad, cdiv=True), KEY)
    assert e.status == 200
    assert set(e.body) <= {
        "ciphertext",
        "ciphertextMetadata",
        "initializationVector",
        "authenticationTag",
        "ciphertextDataIntegrityValue",
    }
    iv, ct, tag = (
        base64.b64decode(e.body[k]) for k in ("initializationVector", "ciphertext", "authenticationTag")
    )
    assert len(iv) in (12, 16) and len(ct) == size and len(tag) == 16
    metadata = base64.b64decode(e.body.get("ciphertextMetadata", ""))
    assert len(metadata) <= 20
    # Appendix C: CDIV = SHA-256(AAD || ciphertextMetadata || IV || ciphertext || tag).
    expected = hashlib.sha256((aad or b"") + metadata + iv + ct + tag).digest()
    assert base64.b64decode(e.body["ciphertextDataIntegrityValue"]) == expected
    d = client.call("decrypt", dec(e.body, aad, metadata or None), KEY)
    assert (d.status, d.body) == (200, {"plaintext": b64(plaintext)})


def test_cdiv_only_when_asked(conformance: RunningProxy) -> None:
    e = conformance.client().call("encrypt", enc(cdiv=False), KEY)
    assert e.status == 200 and "ciphertextDataIntegrityValue" not in e.body


def test_get_health_status_response(conformance: RunningProxy) -> None:
    for op in (
        "KmsHealthCheck",
        "CreateCustomKeyStore",
        "ConnectCustomKeyStore",
        "UpdateCustomKeyStore",
        "SomeFutureOp",
    ):
        body = {"requestMetadata": {"kmsRequestId": "opaque, not a UUID", "kmsOperation": op}}
        r = conformance.client().call("health", body)
        assert r.status == 200, op
    assert isinstance(r.body["xksProxyFleetSize"], int) and r.body["xksProxyFleetSize"] >= 1
    for name in ("xksProxyVendor", "xksProxyModel", "ekmVendor"):
        assert isinstance(r.body[name], str) and r.body[name]
    assert 1 <= len(r.body["ekmFleetDetails"]) <= 10
    for entry in r.body["ekmFleetDetails"]:
        assert (
            entry["healthStatus"] in ("ACTIVE", "DEGRADED", "UNAVAILABLE") and entry["id"] and entry["model"]
        )


def test_unknown_kms_operations_and_fields_are_not_rejected(conformance: RunningProxy) -> None:
    p = enc()
    p["requestMetadata"].update(
        kmsOperation="BulkEncrypt", kmsViaService="ebs", awsSourceVpc="vpc-1", awsSourceVpce="vpce-1"
    )
    assert conformance.client().call("encrypt", p, KEY).status == 200


def test_2048_character_arns_are_supported(conformance: RunningProxy) -> None:
    p = enc()
    arn = f"arn:aws:iam::{ACCOUNT}:role/"
    p["requestMetadata"]["awsPrincipalArn"] = arn + "r" * (2048 - len(arn))
    assert conformance.client().call("encrypt", p, KEY).status == 200


# ----------------------------------------------------------------------------------- key states
# state -> (GetKeyMetadata answer or error, Encrypt, Decrypt); 200 or (status, errorName).

KEY_STATES: dict[str, tuple[Any, Any, Any]] = {
    KEY: ((["ENCRYPT", "DECRYPT"], "ENABLED"), 200, 200),
    KEY_ENC_ONLY: ((["ENCRYPT"], "ENABLED"), 200, (400, "InvalidKeyUsageException")),
    KEY_DEC_ONLY: ((["DECRYPT"], "ENABLED"), (400, "InvalidKeyUsageException"), 200),
    KEY_NO_USAGE: (([], "ENABLED"), (400, "InvalidKeyUsageException"), (400, "InvalidKeyUsageException")),
    KEY_DISABLED: (
        (["ENCRYPT", "DECRYPT"], "DISABLED"),
        (400, "InvalidStateException"),
        (400, "InvalidStateException"),
    ),
    KEY_MISSING: (
        (404, "KeyNotFoundException"),
        (404, "KeyNotFoundException"),
        (404, "KeyNotFoundException"),
    ),
    KEY_DESTROYED: (
        (404, "KeyNotFoundException"),
        (404, "KeyNotFoundException"),
        (404, "KeyNotFoundException"),
    ),
    KEY_NOT_ALLOWED: (
        (404, "KeyNotFoundException"),
        (404, "KeyNotFoundException"),
        (404, "KeyNotFoundException"),
    ),
}


@pytest.mark.parametrize("key_id", list(KEY_STATES))
def test_key_state(conformance: RunningProxy, key_id: str) -> None:
    want_meta, want_enc, want_dec = KEY_STATES[key_id]
    client = conformance.client()
    r = client.call("metadata", meta("DescribeKey"), key_id)
    if isinstance(want_meta[0], int):
        spec_error(r, *want_meta)
    else:
        assert (r.status, r.body["keySpec"], r.body["keyUsage"], r.body["keyStatus"]) == (
            200,
            "AES_256",
            *want_meta,
        )
    r = client.call("encrypt", enc(), key_id)
    if want_enc == 200:
        assert r.status == 200, r.body
    else:
        spec_error(r, *want_enc)
    # A genuine ciphertext under this key where decrypt must succeed (made for the decrypt-only key by
    # allowing encrypt for a moment; key_cache_ttl_s is 0 here); KEY's otherwise: state, usage and
    # existence are decided before any decryption.
    owner = key_id if key_id in (KEY, KEY_ENC_ONLY, KEY_DEC_ONLY) else KEY
    if key_id == KEY_DEC_ONLY:
        custodian_cli(conformance, "usage", key_id, "--usage", "encrypt,decrypt")
    try:
        ciphertext = client.call("encrypt", enc(), owner).body
    finally:
        if key_id == KEY_DEC_ONLY:
            custodian_cli(conformance, "usage", key_id, "--usage", "decrypt")
    r = client.call("decrypt", dec(ciphertext), key_id)
    if want_dec == 200:
        assert r.status == 200 and r.body == {"plaintext": b64(b"data key")}
    else:
        spec_error(r, *want_dec)


def test_not_allowed_and_missing_keys_are_indistinguishable(conformance: RunningProxy) -> None:
    client = conformance.client()
    a = client.call("metadata", meta("DescribeKey"), KEY_NOT_ALLOWED)
    b = client.call("metadata", meta("DescribeKey"), KEY_MISSING)
    assert (a.status, a.body) == (b.status, b.body)


def test_cdiv_on_a_key_that_may_not_decrypt_is_invalid_key_usage(conformance: RunningProxy) -> None:
    # KMS reads a CDIV as a promise that a later decrypt succeeds (spec, Encrypt and Appendix C).
    spec_error(
        conformance.client().call("encrypt", enc(cdiv=True), KEY_ENC_ONLY), 400, "InvalidKeyUsageException"
    )


# ----------------------------------------------------------------------------------- AAD and ciphertextMetadata


def test_aad_is_bound(conformance: RunningProxy) -> None:
    client = conformance.client()
    e = client.call("encrypt", enc(aad=b"project=nile"), KEY).body
    for aad in (b"project=nilf", None, b""):
        spec_error(client.call("decrypt", dec(e, aad), KEY), 400, "InvalidCiphertextException")
    assert client.call("decrypt", dec(e, b"project=nile"), KEY).status == 200


def test_ciphertext_metadata_is_bound_with_lengths(conformance: RunningProxy) -> None:
    """The spec's own example: lengths of AAD and ciphertextMetadata are part of the GCM AAD, so moving
    bytes from one to the other must not decrypt."""
    client = conformance.client()
    e = client.call("encrypt", enc(aad=b"ab"), KEY).body
    metadata = base64.b64decode(e.get("ciphertextMetadata", ""))
    spec_error(client.call("decrypt", dec(e, b"a", metadata + b"b"), KEY), 400, "InvalidCiphertextException")
    spec_error(client.call("decrypt", dec(e, b"ab", metadata + b"x"), KEY), 400, "InvalidCiphertextException")
    e = client.call("encrypt", enc(aad=None), KEY).body
    spec_error(client.call("decrypt", dec(e, None, b"m"), KEY), 400, "InvalidCiphertextException")
    spec_error(client.call("decrypt", dec(e, b"m"), KEY), 400, "InvalidCiphertextException")


# ----------------------------------------------------------------------------------- encryptionAlgorithm


@pytest.mark.parametrize("value", ["AES_CBC", "aes_gcm", "AES_GCM ", "", None, 1, "SYMMETRIC_DEFAULT"])
@pytest.mark.parametrize("operation", ["encrypt", "decrypt"])
def test_encryption_algorithm_must_be_aes_gcm(conformance: RunningProxy, value: Any, operation: str) -> None:
    client = conformance.client()
    e = client.call("encrypt", enc(), KEY).body
    p = enc() if operation == "encrypt" else dec(e)
    if value is None:
        del p["encryptionAlgorithm"]
    else:
        p["encryptionAlgorithm"] = value
    spec_error(client.call(operation, p, KEY), 400, "ValidationException")


# ----------------------------------------------------------------------------------- the error table


@pytest.mark.parametrize("operation", ["metadata", "encrypt", "decrypt"])
@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("requestMetadata"),
        lambda p: p["requestMetadata"].pop("kmsRequestId"),
        lambda p: p["requestMetadata"].pop("kmsOperation"),
        lambda p: p["requestMetadata"].pop("awsPrincipalArn"),
        lambda p: p.update(requestMetadata="not an object"),
    ],
    ids=[
        "no-requestMetadata",
        "no-kmsRequestId",
        "no-kmsOperation",
        "no-awsPrincipalArn",
        "metadata-not-object",
    ],
)
def test_validation_exception(
    conformance: RunningProxy, operation: str, mutate: Callable[[dict[str, Any]], Any]
) -> None:
    client = conformance.client()
    e = client.call("encrypt", enc(), KEY).body
    p = {"metadata": meta("DescribeKey"), "encrypt": enc(), "decrypt": dec(e)}[operation]
    mutate(p)
    spec_error(client.call(operation, p, KEY), 400, "ValidationException")


def test_validation_exception_for_bad_fields(conformance: RunningProxy) -> None:
    client = conformance.client()
    spec_error(client.call("encrypt", {**enc(), "plaintext": "***"}, KEY), 400, "ValidationException")
    spec_error(
        client.call("encrypt", {**enc(), "ciphertextDataIntegrityValueAlgorithm": "MD5"}, KEY),
        400,
        "ValidationException",
    )
    e = client.call("encrypt", enc(), KEY).body
    spec_error(client.call("decrypt", dec(e, metadata=b"m" * 21), KEY), 400, "ValidationException")
    path = f"{conformance.uri_path}/keys/{KEY}/encrypt"
    body = b"{not json"
    spec_error(client.raw("POST", path, body, client.signed_headers(path, body)), 400, "ValidationException")


def test_health_validation_follows_the_required_fields(conformance: RunningProxy) -> None:
    # The proxy's documented reading (docs/xks-proxy.md, GetHealthStatus request validation).
    client = conformance.client()
    spec_error(client.call("health", {}), 400, "ValidationException")
    spec_error(
        client.call("health", {"requestMetadata": {"kmsOperation": "KmsHealthCheck"}}),
        400,
        "ValidationException",
    )


@pytest.mark.parametrize("field", ["ciphertext", "initializationVector", "authenticationTag"])
@pytest.mark.parametrize("how", ["flipped", "missing", "bad-size"])
def test_invalid_ciphertext_exception(conformance: RunningProxy, field: str, how: str) -> None:
    client = conformance.client()
    p = dec(client.call("encrypt", enc(b"secret"), KEY).body)
    if how == "missing":
        del p[field]
    elif how == "bad-size":
        p[field] = b64(b"x" * {"ciphertext": 0, "initializationVector": 11, "authenticationTag": 15}[field])
    else:
        raw = bytearray(base64.b64decode(p[field]))
        raw[0] ^= 1
        p[field] = b64(bytes(raw))
    r = client.call("decrypt", p, KEY)
    spec_error(r, 400, "InvalidCiphertextException")
    assert "secret" not in json.dumps(r.body)


def test_sixteen_byte_iv_is_a_valid_size(conformance: RunningProxy) -> None:
    client = conformance.client()
    p = dec(client.call("encrypt", enc(), KEY).body)
    p["initializationVector"] = b64(b"\0" * 16)  # accepted as input; the wrong IV, so the tag fails
    spec_error(client.call("decrypt", p, KEY), 400, "InvalidCiphertextException")


@pytest.mark.parametrize("operation", ["metadata", "encrypt", "decrypt", "health"])
def test_authentication_failed_exception(conformance: RunningProxy, operation: str) -> None:
    client = conformance.client()
    e = client.call("encrypt", enc(), KEY).body
    payload = {"metadata": meta("DescribeKey"), "encrypt": enc(), "decrypt": dec(e), "health": health()}[
        operation
    ]
    key = None if operation == "health" else KEY
    spec_error(
        client.call(operation, payload, key, secret=b64(b"w" * 32)), 401, "AuthenticationFailedException"
    )
    other = conformance.client()
    other.creds = Credentials("A" * 24, conformance.secret)
    spec_error(other.call(operation, payload, key), 401, "AuthenticationFailedException")
    path = (
        f"{conformance.uri_path}/health" if key is None else f"{conformance.uri_path}/keys/{KEY}/{operation}"
    )
    spec_error(
        client.raw("POST", path, b"{}", {"Content-Type": "application/json"}),
        401,
        "AuthenticationFailedException",
    )


def test_access_denied_exception_on_request_metadata(proxy_factory: Any) -> None:
    proxy = proxy_factory(keystore_overrides={"allowed_aws_accounts": ["123456789012"]})
    client = proxy.client()
    for operation, payload in (("metadata", meta("DescribeKey")), ("encrypt", enc())):
        spec_error(client.call(operation, payload, KEY), 403, "AccessDeniedException")
    assert client.call("health", health()).status == 200  # GetHealthStatus: no secondary authorization


def test_invalid_uri_path_exception(conformance: RunningProxy) -> None:
    client = conformance.client()
    body = json.dumps(health()).encode()
    for path in (
        "/other/kms/xks/v1/health",
        f"{conformance.uri_path}/keys/{KEY}/sign",
        f"{conformance.uri_path}/v2/health",
        "/",
    ):
        spec_error(
            client.raw("POST", path, body, client.signed_headers(path, body)), 404, "InvalidUriPathException"
        )


@pytest.mark.parametrize("key_id", ["", "a*b", "k" * 129], ids=["empty", "bad-char", "129-chars"])
def test_external_key_id_outside_the_spec_alphabet_is_invalid(conformance: RunningProxy, key_id: str) -> None:
    # The spec: 1-128 characters of A-Z a-z 0-9 - . _ ; anything else is an invalid input parameter.
    spec_error(conformance.client().call("metadata", meta("DescribeKey"), key_id), 400, "ValidationException")


def test_get_is_method_not_allowed(conformance: RunningProxy) -> None:
    client = conformance.client()
    for tail in ("health", f"keys/{KEY}/metadata", f"keys/{KEY}/encrypt", f"keys/{KEY}/decrypt"):
        path = f"{conformance.uri_path}/{tail}"
        assert client.raw("GET", path, b"", client.signed_headers(path, b"", method="GET")).status == 405


def test_throttling_exception(proxy_factory: Any) -> None:
    proxy = proxy_factory(keystore_overrides={"rate_limit_rps": 1})
    client = proxy.client()
    answers = [client.call("encrypt", enc(), KEY) for _ in range(5)]
    throttled = [r for r in answers if r.status == 429]
    assert throttled
    spec_error(throttled[0], 429, "ThrottlingException")


def test_unsupported_operation_exception_beyond_the_spec_minimums(conformance: RunningProxy) -> None:
    client = conformance.client()
    spec_error(client.call("encrypt", enc(b"x" * 4301), KEY), 501, "UnsupportedOperationException")
    spec_error(client.call("encrypt", enc(aad=b"x" * 8193), KEY), 501, "UnsupportedOperationException")


def test_dependency_timeout_exception(proxy_factory: Any) -> None:
    proxy = proxy_factory(hsm_overrides={"sessions": 1, "max_queue": 4, "operation_timeout_ms": 100})
    release = threading.Event()
    real = proxy.server.hsm.encrypt

    def slow(*args: Any) -> Any:
        release.wait(10)
        return real(*args)

    proxy.server.hsm.encrypt = slow
    try:
        started = time.monotonic()
        spec_error(proxy.client().call("encrypt", enc(), KEY), 503, "DependencyTimeoutException")
        assert time.monotonic() - started < 5
    finally:
        release.set()


def test_internal_exception(proxy_factory: Any) -> None:
    proxy = proxy_factory()

    def broken(*_args: Any) -> Any:
        raise RuntimeError("the HSM client library failed")

    proxy.server.hsm.encrypt = broken
    r = proxy.client().call("encrypt", enc(), KEY)
    spec_error(r, 500, "InternalException")
    assert "library" not in r.body.get("errorMessage", "")  # no internals leak to KMS's logs


# ----------------------------------------------------------------------------------- transport


@pytest.mark.parametrize(
    ("version", "cipher"),
    [(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES256-GCM-SHA384"), (ssl.TLSVersion.TLSv1_3, None)],
    ids=["tls1.2", "tls1.3"],
)
def test_tls_versions_and_a_required_cipher_suite(
    conformance: RunningProxy, version: ssl.TLSVersion, cipher: str | None
) -> None:
    client = conformance.client()
    assert client.ctx is not None
    client.ctx.minimum_version = client.ctx.maximum_version = version
    if cipher:
        client.ctx.set_ciphers(cipher)
    assert client.call("health", health()).status == 200
    assert client.conn is not None
    sock = client.conn.sock
    assert isinstance(sock, ssl.SSLSocket)
    negotiated = sock.cipher()
    assert negotiated is not None
    assert negotiated[0] in (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    )


def test_responses_are_json(conformance: RunningProxy) -> None:
    client = conformance.client()
    path = f"{conformance.uri_path}/health"
    body = json.dumps(health()).encode()
    conn = client._connection()  # the header is what this test is about
    conn.request("POST", path, body=body, headers=client.signed_headers(path, body))
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200 and (resp.getheader("Content-Type") or "").startswith("application/json")
    client.close()


def test_destroyed_key_stays_not_found_after_recreation_with_other_material(tmp_path: Path) -> None:
    """Crypto-shredding: a new key under the same id is new key material; old ciphertext is invalid."""
    setup = make_setup(tmp_path, hsm_overrides={"key_cache_ttl_s": 0})
    proxy = start_proxy(setup.config, setup)
    try:
        client = proxy.client()
        e = client.call("encrypt", enc(), KEY).body
        custodian_cli(proxy, "destroy", KEY, "--yes")
        spec_error(client.call("decrypt", dec(e), KEY), 404, "KeyNotFoundException")
        custodian_cli(proxy, "create", KEY)
        spec_error(client.call("decrypt", dec(e), KEY), 400, "InvalidCiphertextException")
    finally:
        proxy.stop()
