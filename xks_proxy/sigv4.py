"""SigV4 verification of incoming XKS requests with botocore's signer (spec, Appendix A).

The canonical request and string to sign are computed by :class:`botocore.auth.SigV4Auth` itself, so
the proxy verifies exactly what AWS KMS (or botocore in ``scripts/xks_check.py``) signs. Two things
are specialised: the signed headers are exactly the ones the ``Authorization`` header lists (not
botocore's client-side choice), and the derived signing key is cached per (secret, date, region),
which saves four HMACs per request. The final comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials

from .errors import AuthenticationFailedException

SERVICE = "kms-xks-proxy"
MAX_SKEW_S = 300  # spec: requests more than 5 minutes in the past or future fail authentication
_AMZ_DATE_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([A-Z2-7]{1,64})/(\d{8})/([a-z0-9-]{1,32})/([a-z0-9-]{1,64})/aws4_request,"
    r"\s*SignedHeaders=([a-z0-9;_.-]{1,512}),\s*Signature=([0-9a-f]{64})$"
)


class _Request:
    """The duck-typed subset of ``botocore.awsrequest.AWSRequest`` that SigV4Auth reads."""

    __slots__ = ("body", "context", "headers", "method", "params", "url")

    def __init__(self, method: str, url: str, headers: HTTPHeaders, body: bytes, timestamp: str) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.params: dict[str, str] = {}
        self.context: dict[str, Any] = {"timestamp": timestamp}


class _Verifier(SigV4Auth):
    """botocore's SigV4 computation, with the request's own SignedHeaders and a cached signing key."""

    def __init__(self, credentials: Credentials, region: str) -> None:
        super().__init__(credentials, SERVICE, region)
        self._keys: dict[str, bytes] = {}

    def headers_to_sign(self, request: Any) -> HTTPHeaders:
        headers: HTTPHeaders = request.headers
        return headers

    def signing_key(self, date: str) -> bytes:
        key = self._keys.get(date)
        if key is None:
            botocore_v4: Any = self  # botocore's private helpers, absent from its type stubs
            k_date = botocore_v4._sign(f"AWS4{self.credentials.secret_key}".encode(), date)
            k_region = botocore_v4._sign(k_date, botocore_v4._region_name)
            k_service = botocore_v4._sign(k_region, botocore_v4._service_name)
            key = botocore_v4._sign(k_service, "aws4_request")
            if len(self._keys) > 4:  # a few dates around midnight UTC are enough
                self._keys.clear()
            self._keys[date] = key
        return key

    def signature(self, string_to_sign: str, request: Any) -> str:
        key = self.signing_key(request.context["timestamp"][0:8])
        return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class SigV4Verifier:
    """Verifies requests for one logical key store against its 1-2 active credential sets."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        # access key id -> secret access key
        self._secrets = dict(credentials)
        self._decoy = base64.b64encode(os.urandom(32)).decode()
        self._verifiers: dict[tuple[str, str], _Verifier] = {}

    def verify(  # noqa: PLR0912, PLR0915, PLR0917
        self,
        method: str,
        host: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        now: datetime | None = None,
    ) -> str:
        """Return the access key id that signed the request, or raise AuthenticationFailedException."""
        auth = headers.get("authorization")
        if not auth:
            raise AuthenticationFailedException("missing Authorization header")
        match = _AUTH_RE.match(auth)
        if not match:
            raise AuthenticationFailedException("malformed SigV4 Authorization header")
        akid, date, region, service, signed, signature = match.groups()
        if service != SERVICE:
            raise AuthenticationFailedException(f"credential scope service must be {SERVICE}")
        secret = self._secrets.get(akid)
        unknown = secret is None
        if secret is None:
            # Go on with a throw-away secret so an unknown access key id costs the same work as a
            # known one with a wrong signature (no timing oracle for which ids exist).
            secret = self._decoy
        amz_date = headers.get("x-amz-date", "")
        try:
            # Fixed-width ASCII digits, parsed by slicing: strptime was a visible cost per request.
            if not _AMZ_DATE_RE.match(amz_date):
                raise ValueError
            d = amz_date
            when = datetime(
                int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]), int(d[13:15]), tzinfo=UTC
            )
        except ValueError:
            raise AuthenticationFailedException("missing or malformed X-Amz-Date header") from None
        if amz_date[:8] != date:
            raise AuthenticationFailedException("X-Amz-Date does not match the credential scope date")
        skew = abs(((now or datetime.now(UTC)) - when).total_seconds())
        if skew > MAX_SKEW_S:
            raise AuthenticationFailedException("request time is more than 5 minutes from the proxy's clock")
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names or names != sorted(set(names)):
            raise AuthenticationFailedException(
                "SignedHeaders must be sorted and include host and x-amz-date"
            )
        signed_headers = HTTPHeaders()
        for name in names:
            value = headers.get(name)
            if value is None:
                raise AuthenticationFailedException(f"signed header {name} is missing")
            signed_headers[name] = value
        claimed_sha = headers.get("x-amz-content-sha256")
        if claimed_sha is not None and not hmac.compare_digest(claimed_sha, hashlib.sha256(body).hexdigest()):
            # botocore trusts this header as the body hash; the proxy must not.
            raise AuthenticationFailedException("X-Amz-Content-SHA256 does not match the body")
        vkey = ("" if unknown else akid, region)
        verifier = self._verifiers.get(vkey)
        if verifier is None:
            verifier = _Verifier(Credentials(vkey[0] or "decoy", secret), region)
            if len(self._verifiers) > 64:
                self._verifiers.clear()
            self._verifiers[vkey] = verifier
        url = f"https://{host}{path}"
        parts = urlsplit(url)
        if parts.netloc != host or parts.path != path.split("?", 1)[0] or parts.fragment:
            # botocore signs the URL's parsed parts: they must be exactly the Host and routed path.
            raise AuthenticationFailedException("Host and request target do not form the signed URL")
        request: Any = _Request(method, url, signed_headers, body, amz_date)
        canonical = verifier.canonical_request(request)
        expected = verifier.signature(verifier.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature) or unknown:
            raise AuthenticationFailedException(
                "unknown access key id" if unknown else "signature does not match"
            )
        return akid
