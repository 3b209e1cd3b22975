"""The four XKS Proxy API v1 operations: routing, authentication, validation, HSM calls, errors.

Order of checks, chosen so that an unauthenticated caller learns nothing about keys:
URI path (InvalidUriPathException) -> method (405) -> SigV4 (AuthenticationFailedException) ->
body (ValidationException) -> key allow-list (KeyNotFoundException, the same answer as a key missing
from the HSM) -> authorization on request metadata (AccessDeniedException) -> key (KeyNotFound/
InvalidState/InvalidKeyUsage) -> HSM (InvalidCiphertext, DependencyTimeout, Throttling, Internal).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from . import PRODUCT, __version__
from .budget import BudgetExhausted
from .config import KEY_ID_RE, KeyStore, ProxyConfig
from .errors import (
    AccessDeniedException,
    DependencyTimeoutException,
    InternalException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    InvalidStateException,
    InvalidUriPathException,
    KeyNotFoundException,
    MethodNotAllowed,
    ThrottlingException,
    UnsupportedOperationException,
    ValidationException,
    XksError,
)
from .fleet import FleetState
from .guard import SampledLog
from .hsm import BadCiphertext, HsmUnavailable, KeyInfo, KeyMissing, KeyRefused, KeyUsageRefused, Pkcs11Hsm
from .metrics import Metrics
from .sigv4 import SigV4Verifier

access_log = logging.getLogger("xks_proxy.access")
log = logging.getLogger("xks_proxy")

MAX_PLAINTEXT = 4300  # spec: the proxy MUST handle up to 4300 bytes; this proxy supports exactly that
MAX_AAD = 8192  # spec: up to 8192 bytes of AAD
MAX_CIPHERTEXT_METADATA = 20
MAX_METADATA_FIELD = 2048  # spec: ARNs up to 2048 characters
_API_ROOT = "/kms/xks/v1/"
_ARN_ACCOUNT_RE = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12}):")
_JSON = {"separators": (",", ":")}
_KEY_NOT_FOUND = "no external key with this externalKeyId"
MAX_JSON_BYTES = 48 * 1024  # the largest legal request (4,300 B + 8 KiB AAD in Base64, metadata) is ~33 KiB
_TOO_DEEP = object()
MAX_JSON_DEPTH = 8  # legal requests nest 2 levels ({"requestMetadata": {...}})
# RFC 9110 Host: a DNS name or IPv4 address, or a bracketed IPv6 literal, and an optional port. Anything
# else ('#', '/', '?', '@', spaces) would change the URL the signature is checked against.
_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$"
)


def _valid_host(host: str) -> bool:
    """A host name or IPv4 address, or a bracketed IPv6 literal that is one, with an optional port.

    The pattern alone admits any bracketed run of hex digits, dots and colons ("[1.2.3.4]"), which the
    URL parser behind the signature then refuses with an exception: checked here, it is a 400.
    """
    if not _HOST_RE.match(host):
        return False
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1 : host.index("]")])
        except ValueError:
            return False
    return True


_LOGGED_METADATA = (
    "kmsRequestId",
    "kmsOperation",
    "awsPrincipalArn",
    "kmsKeyArn",
    "kmsViaService",
    "awsSourceVpc",
    "awsSourceVpce",
)


@dataclass
class Request:
    method: str
    target: str  # path and query as received
    headers: dict[str, str]
    body: bytes
    peer: str


@dataclass
class Outcome:
    status: int
    body: bytes
    keystore: str = "-"
    operation: str = "unknown"
    error: str = ""
    authenticated: bool = False  # SigV4 passed: the connection is KMS's (see guard.py)
    log_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Store:
    cfg: KeyStore
    verifier: SigV4Verifier


def _b64(value: Any, name: str, error: type[XksError] = ValidationException) -> bytes:
    if not isinstance(value, str):
        raise error(f"{name} must be a Base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{name} is not valid Base64") from None


def json_depth_over(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests arrays/objects deeper than ``limit`` (level by level, no recursion)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, dict | list):
                    deeper.append(child)
        level = deeper
    return False


def _refusal(exc: KeyRefused) -> XksError:
    if exc.kind == "not_aes_256":
        return KeyNotFoundException("the key with this externalKeyId is not an AES-256 key")
    if exc.kind == "unprotected":
        log.error("key_not_protected", extra={"fields": {"key": str(exc)}})
        return InvalidStateException("the external key is extractable or not sensitive; refusing to use it")
    if exc.kind == "disabled":
        return InvalidStateException("the external key is disabled in the HSM")
    if exc.kind == "cdiv":
        # A CDIV tells KMS the ciphertext was verified by decrypting it: impossible on a key that
        # may not decrypt, and a later Decrypt would fail anyway.
        return InvalidKeyUsageException(
            "a ciphertextDataIntegrityValue needs a verification decrypt; the key does not allow decrypt"
        )
    return InvalidKeyUsageException("the external key does not allow this operation")


def _hsm_aad(aad: bytes, ciphertext_metadata: bytes) -> bytes:
    # Spec, Encrypt: 2-byte big-endian AAD length || AAD || 1-byte metadata length || metadata.
    return (
        len(aad).to_bytes(2, "big") + aad + len(ciphertext_metadata).to_bytes(1, "big") + ciphertext_metadata
    )


class HealthMonitor:
    """Runs the deep probe periodically; the health API answers from this (never older than 1 minute)."""

    def __init__(self, hsm: Pkcs11Hsm, interval: float, degraded_latency: float, metrics: Metrics) -> None:
        self.hsm = hsm
        self.interval = interval
        self.degraded_latency = degraded_latency
        self.metrics = metrics
        self.status = "UNAVAILABLE"
        self.checked_at = 0.0
        self.reason = "not probed yet"
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def probe_now(self) -> str:
        start = time.monotonic()
        try:
            await self.hsm.submit(self.hsm.probe)
        except XksError as exc:
            status, reason = "UNAVAILABLE", exc.error_name
        except HsmUnavailable as exc:
            status, reason = "UNAVAILABLE", str(exc)
        except Exception as exc:
            status, reason = "UNAVAILABLE", type(exc).__name__
        else:
            elapsed = time.monotonic() - start
            slow = elapsed > self.degraded_latency
            # DEGRADED: the HSM serves traffic but slowly, or the last operation overran its deadline.
            status = "DEGRADED" if slow or self.hsm.stalled else "ACTIVE"
            reason = f"probe {elapsed * 1000:.1f} ms" if slow else ""
        if status != self.status:
            level = logging.INFO if status == "ACTIVE" else logging.WARNING
            log.log(
                level,
                "hsm_health_changed",
                extra={"fields": {"from": self.status, "to": status, "reason": reason}},
            )
        self.status, self.reason, self.checked_at = status, reason, time.monotonic()
        self.metrics.hsm_health = status
        return status

    async def _loop(self) -> None:
        while True:
            await self.probe_now()
            await asyncio.sleep(self.interval)


class XksApi:
    def __init__(
        self, cfg: ProxyConfig, hsm: Pkcs11Hsm, metrics: Metrics, fleet: FleetState | None = None
    ) -> None:
        self.cfg = cfg
        self.fleet = fleet or FleetState(1)
        self.hsm = hsm
        self.metrics = metrics
        self.health = HealthMonitor(hsm, cfg.hsm.health_interval_s, cfg.hsm.degraded_latency_s, metrics)
        self.stores: dict[str, _Store] = {}
        self.rejections = SampledLog()
        self.reload_keystores(cfg)

    def reload_keystores(self, cfg: ProxyConfig) -> None:
        """Swap key stores (credentials, allowed keys) in place: rotation without restart or disconnect."""
        self.stores = {
            ks.path_prefix: _Store(
                ks, SigV4Verifier({c.access_key_id: c.secret_access_key for c in ks.credentials})
            )
            for ks in cfg.keystores
        }
        self.cfg = cfg

    # ------------------------------------------------------------------ entry point

    async def handle(self, req: Request) -> Outcome:
        start = time.monotonic()
        out = Outcome(500, b"")
        try:
            out = await self._handle(req, out)
        except XksError as exc:
            out.status, out.body, out.error = exc.status, exc.body(), exc.error_name
            out.log_fields["errorMessage"] = getattr(exc, "reason", exc.message)
        except Exception:
            log.exception("unhandled_error")
            exc2 = InternalException("internal error")
            out.status, out.body, out.error = exc2.status, exc2.body(), exc2.error_name
        elapsed = time.monotonic() - start
        self.metrics.observe(out.keystore, out.operation, out.status, out.error, elapsed)
        fields = out.log_fields
        fields.update(
            keystore=out.keystore,
            operation=out.operation,
            status=out.status,
            ms=round(elapsed * 1000, 3),
            peer=req.peer,
        )
        if out.error:
            fields["errorName"] = out.error
        if out.authenticated:
            access_log.info("request", extra={"fields": fields})
        else:
            # Unauthenticated traffic is anyone's: counted in metrics, logged a few lines a second.
            self.rejections.warning("request_rejected", **fields)
        return out

    async def _handle(self, req: Request, out: Outcome) -> Outcome:  # noqa: PLR0912, PLR0915
        if not req.target.startswith("/") or "#" in req.target:
            # The signed path is the routed path: no fragment, no absolute form.
            raise InvalidUriPathException("the request target must be an absolute path without '#'")
        path = req.target.split("?", 1)[0]
        idx = path.find(_API_ROOT)
        if idx < 0:
            raise InvalidUriPathException("the URI path is not an XKS API v1 path")
        store = self.stores.get(path[:idx])
        if store is None:
            raise InvalidUriPathException("no key store is configured at this URI path prefix")
        out.keystore = store.cfg.name
        rest = path[idx + len(_API_ROOT) :]
        key_id = ""
        if rest == "health":
            operation = "health"
        else:
            parts = rest.split("/")
            if len(parts) != 3 or parts[0] != "keys" or parts[2] not in ("metadata", "encrypt", "decrypt"):
                raise InvalidUriPathException("the URI path is not an XKS API v1 operation")
            key_id, operation = parts[1], parts[2]
        out.operation = operation
        if req.method != "POST":
            raise MethodNotAllowed(f"{req.method} is not allowed; XKS API operations are POST")
        host = req.headers.get("host", "")
        if not _valid_host(host):
            raise ValidationException("the Host header must be a host name or address, with an optional port")
        akid = store.verifier.verify(req.method, host, req.target, req.headers, req.body)
        out.authenticated = True
        out.log_fields["accessKeyId"] = akid
        media = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise ValidationException("Content-Type must be application/json")
        if len(req.body) > MAX_JSON_BYTES:
            raise ValidationException(f"the request body exceeds {MAX_JSON_BYTES} bytes")
        try:
            body = json.loads(req.body)
        except RecursionError:
            # CPython's parser stops a deep document with RecursionError (no crash): refused as deep.
            body = _TOO_DEEP
        except (ValueError, UnicodeDecodeError):
            body = None
        if body is _TOO_DEEP or json_depth_over(body):
            raise ValidationException(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
        if not isinstance(body, dict):
            raise ValidationException("the request body must be a JSON object")
        meta = body.get("requestMetadata")
        if isinstance(meta, dict):
            for name in _LOGGED_METADATA:
                value = meta.get(name)
                if isinstance(value, str):
                    out.log_fields[name] = value[:MAX_METADATA_FIELD]
        self._rate_limit(store)
        self._check_metadata(meta, operation)
        if operation == "health":
            out.status, out.body = 200, await self._health()
            return out
        assert isinstance(meta, dict)
        if not KEY_ID_RE.match(key_id):
            raise ValidationException("externalKeyId must be 1-128 characters of A-Z a-z 0-9 . - _")
        out.log_fields["keyId"] = key_id
        self._authorize(store.cfg, key_id, meta)
        if operation == "metadata":
            info = await self._key_info(key_id)
            out.status, out.body = 200, self._metadata_body(info)
        elif operation == "encrypt":
            out.status, out.body = 200, await self._encrypt(key_id, body)
        else:
            out.status, out.body = 200, await self._decrypt(key_id, body)
        return out

    # ------------------------------------------------------------------ checks

    def _rate_limit(self, store: _Store) -> None:
        rate = store.cfg.rate_limit_rps
        if rate is None:
            return
        # Token bucket with one second of burst (spec: independent quotas per path prefix MAY apply),
        # shared by every worker: the quota is the proxy's, whatever the worker count.
        if not self.fleet.take_token("ks:" + store.cfg.path_prefix, rate, rate):
            raise ThrottlingException(f"key store {store.cfg.name} is over its {rate:g} requests/s quota")

    @staticmethod
    def _check_metadata(meta: Any, operation: str) -> None:
        if not isinstance(meta, dict):
            raise ValidationException("requestMetadata is required and must be an object")
        # GetHealthStatus: kmsRequestId and kmsOperation are REQUIRED by the spec (see docs/xks-proxy.md,
        # "GetHealthStatus request validation", for why a request without them is refused).
        required = ["kmsOperation", "kmsRequestId"]
        if operation != "health":
            required.append("awsPrincipalArn")
        if operation not in ("health", "metadata"):
            required.append("kmsKeyArn")  # optional only for GetKeyMetadata (absent during CreateKey)
        for name in required:
            if not isinstance(meta.get(name), str) or not meta[name]:
                raise ValidationException(f"requestMetadata.{name} is required and must be a string")
        for name, value in meta.items():
            if isinstance(value, str) and len(value) > MAX_METADATA_FIELD:
                raise ValidationException(
                    f"requestMetadata.{name[:64]} exceeds {MAX_METADATA_FIELD} characters"
                )

    def _authorize(self, store: KeyStore, key_id: str, meta: dict[str, Any]) -> None:
        if key_id not in store.allowed_key_ids:
            # Decided before touching the HSM, and answered exactly like a key missing from the HSM:
            # a key store never learns whether other keys exist (spec: an unknown key is
            # KeyNotFoundException; AccessDenied is for requests refused on their metadata).
            raise KeyNotFoundException(_KEY_NOT_FOUND)
        if store.allowed_aws_accounts:
            for name in ("kmsKeyArn", "awsPrincipalArn"):
                value = meta.get(name)
                if not isinstance(value, str):
                    continue
                m = _ARN_ACCOUNT_RE.match(value)
                if value != "AWS Internal" and not value.endswith(".amazonaws.com"):  # noqa: SIM102
                    if m is None or m.group(1) not in store.allowed_aws_accounts:
                        raise AccessDeniedException(
                            f"requestMetadata.{name} is not in an allowed AWS account"
                        )

    # ------------------------------------------------------------------ HSM calls

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return await self.hsm.submit(fn, *args)
        except KeyMissing:
            raise KeyNotFoundException(_KEY_NOT_FOUND) from None
        except KeyRefused as exc:
            raise _refusal(exc) from None
        except BudgetExhausted as exc:
            log.error(
                "gcm_budget_exhausted",
                extra={"fields": {"keyId": exc.key_id, "leasedInvocations": exc.leased, "limit": exc.limit}},
            )
            raise InvalidStateException(
                "the external key has used its GCM invocation budget (NIST SP 800-38D); "
                "encrypt under a new key, decryption still works"
            ) from None
        except HsmUnavailable as exc:
            log.warning("hsm_unavailable", extra={"fields": {"reason": str(exc)}})
            raise InternalException("the HSM is not available") from None
        except (XksError, BadCiphertext, KeyUsageRefused):
            raise
        except Exception as exc:
            log.error("hsm_error", extra={"fields": {"error": type(exc).__name__, "detail": str(exc)[:200]}})
            raise InternalException("the HSM failed the operation") from None

    async def _key_info(self, key_id: str) -> KeyInfo:
        info: KeyInfo = await self._call(self.hsm.key_info, key_id)
        if not info.is_aes_256:
            raise KeyNotFoundException("the key with this externalKeyId is not an AES-256 key")
        return info

    @staticmethod
    def _metadata_body(info: KeyInfo) -> bytes:
        # Usage and state are independent: a disabled key still reports what it may do once enabled.
        usage = []
        if info.can_encrypt:
            usage.append("ENCRYPT")
        if info.can_decrypt:
            usage.append("DECRYPT")
        status = "ENABLED" if info.enabled else "DISABLED"
        return json.dumps({"keySpec": "AES_256", "keyUsage": usage, "keyStatus": status}, **_JSON).encode()  # type: ignore[arg-type]

    async def _encrypt(self, key_id: str, body: dict[str, Any]) -> bytes:
        if body.get("encryptionAlgorithm") != "AES_GCM":
            raise ValidationException("encryptionAlgorithm is required and must be AES_GCM")
        if "plaintext" not in body:
            raise ValidationException("plaintext is required")
        plaintext = _b64(body["plaintext"], "plaintext")
        if len(plaintext) > MAX_PLAINTEXT:
            raise UnsupportedOperationException(f"plaintext over {MAX_PLAINTEXT} bytes is not supported")
        aad = (
            _b64(body["additionalAuthenticatedData"], "additionalAuthenticatedData")
            if body.get("additionalAuthenticatedData") is not None
            else b""
        )
        if len(aad) > MAX_AAD:
            raise UnsupportedOperationException(
                f"additionalAuthenticatedData over {MAX_AAD} bytes is not supported"
            )
        cdiv_alg = body.get("ciphertextDataIntegrityValueAlgorithm")
        if cdiv_alg is not None and cdiv_alg != "SHA_256":
            raise ValidationException("ciphertextDataIntegrityValueAlgorithm must be SHA_256")
        try:
            iv, ct, tag = await self._call(
                self.hsm.encrypt, key_id, plaintext, _hsm_aad(aad, b""), cdiv_alg is not None
            )
        except KeyUsageRefused:
            raise InvalidKeyUsageException("the HSM refused to encrypt with this key") from None
        resp = {
            "authenticationTag": base64.b64encode(tag).decode(),
            "ciphertext": base64.b64encode(ct).decode(),
            "initializationVector": base64.b64encode(iv).decode(),
        }
        if cdiv_alg is not None:
            # Spec, Appendix C: SHA-256 over AAD || ciphertextMetadata ("" here) || IV || ciphertext || tag.
            digest = hashlib.sha256(aad + iv + ct + tag).digest()
            resp["ciphertextDataIntegrityValue"] = base64.b64encode(digest).decode()
        return json.dumps(resp, separators=(",", ":")).encode()

    async def _decrypt(self, key_id: str, body: dict[str, Any]) -> bytes:
        if body.get("encryptionAlgorithm") != "AES_GCM":
            raise ValidationException("encryptionAlgorithm is required and must be AES_GCM")
        for name in ("ciphertext", "initializationVector", "authenticationTag"):
            if name not in body:
                raise InvalidCiphertextException(f"{name} is required")
        ct = _b64(body["ciphertext"], "ciphertext", InvalidCiphertextException)
        if len(ct) > MAX_PLAINTEXT:
            raise UnsupportedOperationException(f"ciphertext over {MAX_PLAINTEXT} bytes is not supported")
        iv = _b64(body["initializationVector"], "initializationVector", InvalidCiphertextException)
        if len(iv) not in (12, 16):
            raise InvalidCiphertextException("initializationVector must be 12 or 16 bytes")
        tag = _b64(body["authenticationTag"], "authenticationTag", InvalidCiphertextException)
        if len(tag) != 16:
            raise InvalidCiphertextException("authenticationTag must be 16 bytes")
        aad = b""
        if body.get("additionalAuthenticatedData") is not None:
            aad = _b64(body["additionalAuthenticatedData"], "additionalAuthenticatedData")
            if len(aad) > MAX_AAD:
                raise UnsupportedOperationException(
                    f"additionalAuthenticatedData over {MAX_AAD} bytes is not supported"
                )
        metadata = b""
        if body.get("ciphertextMetadata") is not None:
            metadata = _b64(body["ciphertextMetadata"], "ciphertextMetadata", InvalidCiphertextException)
            if len(metadata) > MAX_CIPHERTEXT_METADATA:
                raise ValidationException(
                    f"ciphertextMetadata must not exceed {MAX_CIPHERTEXT_METADATA} bytes"
                )
        try:
            plaintext = await self._call(self.hsm.decrypt, key_id, iv, ct, tag, _hsm_aad(aad, metadata))
        except BadCiphertext:
            raise InvalidCiphertextException(
                "the ciphertext, IV, tag, additional authenticated data or ciphertextMetadata is invalid"
            ) from None
        except KeyUsageRefused:
            raise InvalidKeyUsageException("the HSM refused to decrypt with this key") from None
        return b'{"plaintext":"' + base64.b64encode(plaintext) + b'"}'

    async def _health(self) -> bytes:
        if time.monotonic() - self.health.checked_at > min(self.cfg.hsm.health_interval_s * 2, 55.0):
            await self.health.probe_now()
        token = self.hsm.token_info
        model = f"{token.model} (token {token.label})" if token else "unknown"
        detail = {
            "id": (token.serial if token and token.serial else "hsm-1"),
            "model": model,
            "healthStatus": self.health.status,
        }
        return json.dumps(
            {
                "xksProxyFleetSize": self.cfg.fleet_size,
                "xksProxyVendor": self.cfg.vendor,
                "xksProxyModel": f"{PRODUCT} {__version__}",
                "ekmVendor": token.manufacturer if token else "unknown",
                "ekmFleetDetails": [detail],
            },
            separators=(",", ":"),
        ).encode()


__all__ = ["DependencyTimeoutException", "HealthMonitor", "Outcome", "Request", "XksApi"]
