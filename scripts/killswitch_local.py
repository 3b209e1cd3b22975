"""Local kill-switch drill: a real XKS proxy on SoftHSM2, and a SIMULATION of AWS KMS's side of XKS.

The simulated KMS follows the XKS Proxy API specification (aws/aws-kms-xksproxy-api-spec): every
GenerateDataKey becomes an XKS Encrypt of a fresh 256-bit data key carrying ``requestMetadata``
(principal, KMS key ARN, KMS operation and request id, calling service), an AAD, and a request for a
SHA-256 ciphertext data integrity value that it checks as KMS does; every Decrypt becomes an XKS
Decrypt with the same AAD. KMS's real AAD format is internal to AWS; the simulation binds the KMS key
ARN and the encryption context, which is what the spec says the real ciphertext is bound to. The
simulated KMS caches no plaintext data key, so each read reaches the proxy (real AWS services may
cache: see data/facts/cached_data_keys.yaml).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scripts.xks_check import XksClient
from xks_proxy.devsetup import dev_setup, random_access_key_id, random_secret

KEY_ID = "booking-records-2026"
KEY_ARN = "arn:aws:kms:eu-west-3:111122223333:key/0d5e1f8c-2b3a-4c5d-8e9f-a0b1c2d3e4f5"
PRINCIPAL = "arn:aws:iam::111122223333:role/booking-api"
WAIT_S = 30.0
#: The proxy's key-state cache (hsm.key_cache_ttl_s, its default): an HSM-side switch is refused by the
#: HSM at once, but the proxy names the reason from its cached key state until the cache expires.
KEY_CACHE_S = 2.0

#: What KMS returns to its caller for each XKS outcome, for cryptographic operations (spec, "Error
#: codes", KMS considerations table).
KMS_SEES: dict[str, tuple[str, str]] = {
    "InvalidStateException": (
        "KMSInvalidStateException",
        "The external key associated with this KMS key in an external key store is not enabled in the "
        "external key manager.",
    ),
    "AuthenticationFailedException": (
        "KMSInvalidStateException",
        "The external key store proxy rejected the request because it could not authenticate AWS KMS.",
    ),
    "KeyNotFoundException": (
        "KMSInvalidStateException",
        "The external key associated with this KMS key in an external key store was not found in its "
        "external key manager.",
    ),
    "InvalidCiphertextException": (
        "KMSInvalidStateException",
        "The external key store proxy rejected the request because the specified ciphertext or "
        "encryption context is corrupted, missing, or otherwise invalid.",
    ),
    "InvalidKeyUsageException": (
        "KMSInvalidStateException",
        "The external key associated with this KMS key in an external key store does not support the "
        "requested operation.",
    ),
    "InternalException": (
        "KMSInvalidStateException",
        "The external key store proxy rejected the request because it cannot communicate with the "
        "external key manager.",
    ),
    "no response": (
        "KMSInvalidStateException (XksProxyUriUnreachableException for key store operations)",
        "AWS KMS cannot communicate with the external key store proxy. This might be a transient "
        "network issue.",
    ),
}


class DrillError(RuntimeError):
    """The drill could not run (proxy would not start, SoftHSM missing); the message says why."""


@dataclass
class Outcome:
    """One XKS call as KMS would see it: a JSON error from the proxy, no response at all, or success."""

    ok: bool
    status: int | None = None
    error_name: str | None = None
    error_message: str | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "ok" if self.ok else (self.error_name or "no response")

    def as_json(self) -> dict[str, Any]:
        kms = KMS_SEES.get(self.error_name or "", ("?", "?"))
        return {
            "httpStatus": self.status,
            "errorName": self.error_name,
            "errorMessage": self.error_message,
            "kmsException": kms[0],
            "kmsMessage": kms[1],
        }


class SimulatedKms:
    """SIMULATION of AWS KMS's side of XKS for one external key (see the module docstring)."""

    def __init__(self, endpoint: str, uri_path: str, akid: str, secret: str, ca_file: str) -> None:
        self.client = XksClient(endpoint, uri_path, akid, secret, ca_file=ca_file, timeout=5.0)

    @staticmethod
    def _aad(context: dict[str, str]) -> bytes:
        return json.dumps({"kmsKeyArn": KEY_ARN, "encryptionContext": context}, sort_keys=True).encode()

    def _call(self, operation: str, kms_operation: str, extra: dict[str, Any]) -> Outcome:
        payload = {
            "requestMetadata": {
                "awsPrincipalArn": PRINCIPAL,
                "kmsKeyArn": KEY_ARN,
                "kmsOperation": kms_operation,
                "kmsRequestId": str(uuid.uuid4()),
                "kmsViaService": "rds",
            },
            **extra,
        }
        try:
            r = self.client.call(operation, payload, KEY_ID)
        except OSError as exc:
            self.client.close()  # connection refused, reset or closed during TLS: KMS gets no XKS answer
            return Outcome(False, error_name="no response", error_message=type(exc).__name__)
        if r.status == 200:
            return Outcome(True, 200, body=r.body)
        return Outcome(False, r.status, r.body.get("errorName"), r.body.get("errorMessage"))

    def generate_data_key(self, context: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        data_key = secrets.token_bytes(32)
        aad = self._aad(context)
        out = self._call(
            "encrypt",
            "GenerateDataKey",
            {
                "plaintext": base64.b64encode(data_key).decode(),
                "encryptionAlgorithm": "AES_GCM",
                "additionalAuthenticatedData": base64.b64encode(aad).decode(),
                "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
            },
        )
        if not out.ok:
            raise DrillError(f"GenerateDataKey failed before any switch: {out.label}")
        b = out.body
        parts = [base64.b64decode(b.get(k, "")) for k in ("ciphertextMetadata", "initializationVector")]
        ct, tag = base64.b64decode(b["ciphertext"]), base64.b64decode(b["authenticationTag"])
        cdiv = hashlib.sha256(aad + parts[0] + parts[1] + ct + tag).digest()
        if base64.b64decode(b["ciphertextDataIntegrityValue"]) != cdiv:
            raise DrillError("the proxy's ciphertext data integrity value does not match (KMS would refuse)")
        blob = {k: b[k] for k in ("ciphertext", "initializationVector", "authenticationTag")}
        if "ciphertextMetadata" in b:
            blob["ciphertextMetadata"] = b["ciphertextMetadata"]
        return data_key, blob

    def decrypt(self, blob: dict[str, str], context: dict[str, str]) -> tuple[bytes | None, Outcome]:
        aad = base64.b64encode(self._aad(context)).decode()
        out = self._call(
            "decrypt",
            "Decrypt",
            {**blob, "encryptionAlgorithm": "AES_GCM", "additionalAuthenticatedData": aad},
        )
        return (base64.b64decode(out.body["plaintext"]) if out.ok else None), out


@dataclass
class Record:
    record_id: str
    context: dict[str, str]
    wrapped_key: dict[str, str]
    nonce: bytes
    ciphertext: bytes
    digest: str


def synthetic_bookings(count: int) -> list[dict[str, str]]:
    centres = ("Centre de vaccination Paris 15", "Hôpital Nord Marseille", "Maison de santé Lille-Sud")
    return [
        {
            "booking": f"BK-{i:05d}",
            "patient": f"synthetic-patient-{i:05d}",  # synthetic: no real person
            "centre": centres[i % len(centres)],
            "slot": f"2026-12-{1 + i % 28:02d}T{8 + i % 10:02d}:30:00+01:00",
            "act": "vaccination",
        }
        for i in range(count)
    ]


def encrypt_records(kms: SimulatedKms, bookings: list[dict[str, str]]) -> list[Record]:
    records = []
    for booking in bookings:
        context = {"service": "booking", "record": booking["booking"]}
        data_key, wrapped = kms.generate_data_key(context)
        plaintext = json.dumps(booking, sort_keys=True).encode()
        nonce = os.urandom(12)
        ct = AESGCM(data_key).encrypt(nonce, plaintext, booking["booking"].encode())
        records.append(
            Record(booking["booking"], context, wrapped, nonce, ct, hashlib.sha256(plaintext).hexdigest())
        )
        del data_key  # as KMS callers do: only the wrapped key is kept
    return records


def read_record(kms: SimulatedKms, record: Record) -> Outcome:
    data_key, out = kms.decrypt(record.wrapped_key, record.context)
    if data_key is None:
        return out
    plaintext = AESGCM(data_key).decrypt(record.nonce, record.ciphertext, record.record_id.encode())
    if hashlib.sha256(plaintext).hexdigest() != record.digest:
        return Outcome(False, error_name="wrong plaintext")
    return out


def readable(kms: SimulatedKms, records: list[Record], seen: set[str] | None = None) -> int:
    """How many records read back correctly; the XKS answers to the others are added to ``seen``."""
    count = 0
    for record in records:
        out = read_record(kms, record)
        count += out.ok
        if not out.ok and seen is not None:
            seen.add(f"{out.status or '-'} {out.label}")
    return count


def wait_for(probe: Callable[[], Outcome], want_ok: bool) -> tuple[float | None, Outcome]:
    """Milliseconds until the probe's success equals ``want_ok`` (None if never within WAIT_S)."""
    start = time.perf_counter()
    out = probe()
    while out.ok != want_ok:
        if time.perf_counter() - start > WAIT_S:
            return None, out
        time.sleep(0.005)
        out = probe()
    return round((time.perf_counter() - start) * 1000, 1), out


class Proxy:
    """``python -m xks_proxy --config FILE`` as its own process (the switch (b) stops it for real)."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [sys.executable, "-m", "xks_proxy", "--config", str(self.config)], stdout=log, stderr=log
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def reload(self) -> None:
        if self.proc is None:
            raise DrillError("reload: the proxy is not running")
        self.proc.send_signal(signal.SIGHUP)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def custodian(config: Path, *args: str) -> None:
    """Run a documented custodian command exactly as the custodian would."""
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "xks_proxy", "keys", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0:
        raise DrillError(f"custodian command 'keys {' '.join(args)}' failed: {out.stderr.strip()[:300]}")


def _switch(  # noqa: PLR0917
    sid: str,
    name: str,
    action: str,
    do: Callable[[], None],
    undo: Callable[[], None] | None,
    undo_action: str,
    kms: SimulatedKms,
    records: list[Record],
    config: Path,
    settle_s: float = 0.0,
) -> dict[str, Any]:
    def probe() -> Outcome:
        return read_record(kms, records[0])

    seen: set[str] = set()  # every XKS answer other than success, transient ones included
    do()
    effect_ms, first = wait_for(probe, want_ok=False)
    readable(kms, records, seen)
    time.sleep(settle_s)  # past the proxy's key-state cache: the answer KMS gets from then on
    after = readable(kms, records, seen)
    steady = probe()
    result: dict[str, Any] = {
        "id": sid,
        "name": name,
        "action": action,
        "timeToEffectMs": effect_ms,
        "xksError": steady.as_json() if not steady.ok else None,
        "firstXksError": first.as_json() if not first.ok else None,
        "readableAfter": after,
        "reversible": undo is not None,
        "undoAction": undo_action,
    }
    if undo is not None:
        undo()
        restore_ms, _ = wait_for(probe, want_ok=True)
        readable(kms, records, seen)
        time.sleep(settle_s)
        result["timeToRestoreMs"] = restore_ms
        result["readableAfterUndo"] = readable(kms, records, seen)
        result["ok"] = effect_ms is not None and after == 0 and result["readableAfterUndo"] == len(records)
    else:
        custodian(config, "create", KEY_ID)
        time.sleep(settle_s)
        out = probe()
        result.update(
            undoAction="re-create a key with the same id (keys create)",
            afterUndoAttempt=out.as_json() if not out.ok else None,
            readableAfterUndo=readable(kms, records, seen),
        )
        result["ok"] = effect_ms is not None and after == 0 and result["readableAfterUndo"] == 0
    result["xksAnswersSeen"] = sorted(seen)
    return result


def run_local(work: Path, count: int, key_cache_s: float = KEY_CACHE_S) -> dict[str, Any]:
    port, metrics = free_port(), free_port()
    try:
        setup = dev_setup(
            work / "dev", (KEY_ID,), path_prefix="/keystores/drill", port=port, metrics_port=metrics
        )
    except RuntimeError as exc:
        raise DrillError(str(exc)) from None
    config = setup.config
    doc = yaml.safe_load(config.read_text())
    doc["hsm"]["key_cache_ttl_s"] = key_cache_s
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    creds = json.loads(setup.credentials.read_text())
    akid = creds["XksProxyAuthenticationCredential"]["AccessKeyId"]
    secret = creds["XksProxyAuthenticationCredential"]["RawSecretAccessKey"]
    kms = SimulatedKms(
        f"https://localhost:{port}", creds["XksProxyUriPath"], akid, secret, str(setup.ca_cert)
    )
    proxy = Proxy(config, work / "proxy.log")
    original = config.read_text()

    def up() -> None:
        proxy.start()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                if (
                    kms.client.call(
                        "health",
                        {"requestMetadata": {"kmsRequestId": "drill", "kmsOperation": "KmsHealthCheck"}},
                    ).status
                    == 200
                ):
                    return
            except OSError:
                kms.client.close()
            time.sleep(0.05)
        tail = (work / "proxy.log").read_text(errors="replace")[-300:]
        raise DrillError(f"the proxy did not start on port {port}: {tail}")

    def revoke() -> None:
        doc = yaml.safe_load(original)
        fresh = random_access_key_id()
        (config.parent / "sigv4-replacement").write_text(random_secret())
        doc["keystores"][0]["credentials"] = [
            {"access_key_id": fresh, "secret_access_key_file": "sigv4-replacement"}
        ]
        config.write_text(yaml.safe_dump(doc, sort_keys=False))
        proxy.reload()

    def restore() -> None:
        config.write_text(original)
        proxy.reload()

    up()
    try:
        bookings = synthetic_bookings(count)
        records = encrypt_records(kms, bookings)
        baseline = readable(kms, records)
        if baseline != len(records):
            raise DrillError(f"only {baseline}/{len(records)} records readable before any switch")
        switches = [
            _switch(
                "a",
                "custodian disables the key in the HSM",
                f"python -m xks_proxy keys disable {KEY_ID} --config FILE",
                lambda: custodian(config, "disable", KEY_ID),
                lambda: custodian(config, "enable", KEY_ID),
                f"python -m xks_proxy keys enable {KEY_ID} --config FILE",
                kms,
                records,
                config,
                key_cache_s + 0.5,
            ),
            _switch(
                "b1",
                "proxy credential revoked",
                "SigV4 credential replaced in the proxy config, SIGHUP",
                revoke,
                restore,
                "original credential restored, SIGHUP",
                kms,
                records,
                config,
            ),
            _switch(
                "b2",
                "proxy stopped (no KMS traffic reaches the HSM)",
                "SIGTERM to the proxy process",
                proxy.stop,
                up,
                "proxy started again",
                kms,
                records,
                config,
            ),
            _switch(
                "c",
                "key destroyed in the HSM (crypto-shredding)",
                f"python -m xks_proxy keys destroy {KEY_ID} --yes --config FILE",
                lambda: custodian(config, "destroy", KEY_ID, "--yes"),
                None,
                "",
                kms,
                records,
                config,
                key_cache_s + 0.5,
            ),
        ]
    finally:
        proxy.stop()
        kms.client.close()
    return {
        "mode": "local",
        "simulation": "AWS KMS's side is SIMULATED (XKS API as specified); the proxy, HSM token and switches are real",
        "keyId": KEY_ID,
        "proxyKeyCacheS": key_cache_s,
        "records": len(records),
        "readableBefore": baseline,
        "switches": switches,
        "ok": all(s["ok"] for s in switches),
    }
