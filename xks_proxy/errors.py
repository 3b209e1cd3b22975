# ruff: noqa: N818 - exception names are the XKS specification's errorName values
"""The error vocabulary of the XKS Proxy API v1 ("Error codes" table of the specification).

Every failure leaves the proxy as ``{"errorName": ..., "errorMessage": ...}`` with the HTTP status the
specification assigns to that name. Messages are fixed, printable ASCII and shorter than 512 characters
(spec requirement); they never echo plaintext, key material or secrets.
"""

from __future__ import annotations

import json
from typing import ClassVar

_MAX_MESSAGE = 511


class XksError(Exception):
    """Base class: one subclass per ``errorName`` of the specification."""

    status: ClassVar[int] = 500
    error_name: ClassVar[str] = "InternalException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # Printable ASCII only, < 512 characters (spec, "Error codes").
        cleaned = "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in message)
        self.message = cleaned[:_MAX_MESSAGE]

    def body(self) -> bytes:
        return json.dumps({"errorName": self.error_name, "errorMessage": self.message}).encode()


class ValidationException(XksError):
    status = 400
    error_name = "ValidationException"


class InvalidStateException(XksError):
    status = 400
    error_name = "InvalidStateException"


class InvalidCiphertextException(XksError):
    status = 400
    error_name = "InvalidCiphertextException"


class InvalidKeyUsageException(XksError):
    status = 400
    error_name = "InvalidKeyUsageException"


class AuthenticationFailedException(XksError):
    """Every authentication failure answers the same message; the precise reason is only logged.

    Telling "unknown access key id" from "signature does not match" would let a caller probe which
    access key ids exist.
    """

    status = 401
    error_name = "AuthenticationFailedException"
    MESSAGE = "the request could not be authenticated"

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


class AccessDeniedException(XksError):
    status = 403
    error_name = "AccessDeniedException"


class KeyNotFoundException(XksError):
    status = 404
    error_name = "KeyNotFoundException"


class InvalidUriPathException(XksError):
    status = 404
    error_name = "InvalidUriPathException"


class MethodNotAllowed(XksError):
    """GET (or any non-POST) on an API URI: the spec mandates 405 Method Not Allowed."""

    status = 405
    error_name = "ValidationException"


class ThrottlingException(XksError):
    status = 429
    error_name = "ThrottlingException"


class UnsupportedOperationException(XksError):
    status = 501
    error_name = "UnsupportedOperationException"


class DependencyTimeoutException(XksError):
    status = 503
    error_name = "DependencyTimeoutException"


class InternalException(XksError):
    status = 500
    error_name = "InternalException"
