"""The value checks of the stack config models, each with the message the stack author reads.

A failed check raises a :class:`~pydantic_core.PydanticCustomError` of type ``booking`` whose message
is shown as is, after the key (``booking:xks.uriEndpoint: must start with https:// (got ...)``);
``at`` names a sub-key, for checks across several keys. Config values arrive as strings from the
stack file's top level and as JSON numbers inside objects: integers accept both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationInfo
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from facts import xks as xks_facts


def problem(message: str, at: str = "") -> PydanticCustomError:
    """A validation problem in this module's words; ``at`` names a sub-key (cross-field checks)."""
    return PydanticCustomError("booking", "{message}", {"message": message, "at": at})


def integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise problem(f"must be an integer between {low} and {high}, got a boolean")
        try:
            number = int(value)
            if isinstance(value, float) and value != number:
                raise ValueError
        except (TypeError, ValueError):
            raise problem(f"must be an integer between {low} and {high} (got {value!r})") from None
        if not low <= number <= high:
            raise problem(f"must be between {low} and {high} (got {number})")
        return number

    check.__doc__ = f"an integer from {low} to {high}"
    return check


def text(pattern: re.Pattern[str], describe: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise problem(f"must be a string, got {type(value).__name__}")
        if not pattern.match(value):
            raise problem(f"must be {describe} (got {value!r})")
        return value

    check.__doc__ = describe
    return check


def one_of(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise problem(f"must be a string, got {type(value).__name__}")
        if value not in allowed:
            raise problem(f"must be one of {', '.join(allowed)} (got {value!r})")
        return value

    check.__doc__ = " or ".join(allowed)
    return check


def xks_endpoint(endpoint: Any) -> str:
    """https://<fully qualified name>, port 443, nothing else (AWS KMS XksProxyUriEndpoint)."""
    if not isinstance(endpoint, str):
        raise problem("must be a string such as https://xks.example.fr")
    split = urlsplit(endpoint)
    try:
        port = split.port
    except ValueError:
        port = -1
    if split.scheme != "https":
        raise problem(f"must start with https:// (got {endpoint!r})")
    if port not in (None, 443):
        raise problem(f"must use port 443, AWS KMS connects to no other (got {port})")
    if split.path not in ("", "/") or split.query or split.fragment or split.username:
        raise problem("must be only https://<host>; the path goes in uriPath")
    if not xks_facts.ENDPOINT_HOST.match(split.hostname or ""):
        raise problem(f"must name a fully qualified DNS name, not {split.hostname!r}")
    return endpoint


def xks_uri_path(uri_path: Any) -> str:
    if not isinstance(uri_path, str) or len(uri_path) not in xks_facts.URI_PATH_LENGTH:
        raise problem(
            f"must be {xks_facts.URI_PATH_LENGTH.start} to {xks_facts.URI_PATH_LENGTH.stop - 1} characters"
        )
    if not xks_facts.URI_PATH.match(uri_path):
        raise problem(f"must use only [a-zA-Z0-9/_-] and end with /kms/xks/v<version> (got {uri_path!r})")
    return uri_path


def secret(namespace: str, pattern: re.Pattern[str], describe: str) -> Callable[[Any, ValidationInfo], str]:
    """A credential: a Pulumi secret (plaintext refused) matching ``pattern``, never echoed."""

    def check(value: Any, info: ValidationInfo) -> str:
        key = f"{namespace}:{info.field_name and to_camel(info.field_name)}"
        if not isinstance(value, str) or not value:
            raise problem(f"is required: set it with `pulumi config set --secret {key} <value>` ({describe})")
        if key not in (info.context or {}).get("secret_keys", frozenset()):
            # Refuse rather than wrap: the plaintext is already in the stack file and would reach the state.
            raise problem(
                f"is stored in plaintext; remove it and set it with `pulumi config set --secret {key} <value>`"
            )
        if not pattern.match(value):
            # Never echo a secret value back, not even in an error message.
            raise problem(f"must be {describe} (the value given does not match; it is not shown)")
        return value

    check.__doc__ = f"secret: {describe}"
    return check


def raise_all(problems: list[tuple[str, str]]) -> None:
    """Cross-field problems, all at once: the formatter turns each into its own line."""
    if problems:
        raise PydanticCustomError("booking", "{message}", {"message": "", "at": "", "problems": problems})


def parse_mapping(value: Any) -> Any:
    """Objects arrive from the engine as JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise problem("must be a YAML mapping") from None
    if not isinstance(value, dict):
        raise problem(f"must be a YAML mapping, got {type(value).__name__}")
    return value
