# ruff: noqa: PLR0912 - table-like rule logic reads better whole
"""The exceptions register (``policies/exceptions.yaml``).

An exception names a rule (a project rule id, or a checkov check id such as ``CKV_AWS_91`` for a
built-in checkov check; the project's own checkov checks are excepted by their rule id), a resource (a URN glob: ``*`` matches anything, ``?`` one character),
the justification, the owner accountable for it and an expiry date. While it is valid it turns
a finding into a recorded exception, shown in every report; once expired, the finding fails
again. A malformed register is an error that names the entry and the field: an exception that
cannot be read must never silently pass or fail a stack.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "exceptions.yaml"
_RULE_ID = re.compile(r"^BK-[A-Z]+-\d{3}$")
#: Built-in checkov checks (CKV_AWS_91, CKV2_AWS_28, CKV_GCP_62, ...); not CKV_BK_*, named by rule id.
_CHECKOV_ID = re.compile(r"^CKV2?_(?!BK_)[A-Z0-9]+_\d+$")
_FIELDS = ("rule", "resource", "justification", "owner", "expires")


class ExceptionsError(ValueError):
    """The exceptions register cannot be used as written."""


@dataclass(frozen=True)
class PolicyException:
    rule: str
    resource: str
    justification: str
    owner: str
    expires: dt.date

    def matches(self, rule_id: str, urn: str) -> bool:
        return rule_id == self.rule and fnmatch.fnmatchcase(urn, self.resource)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


def parse(document: Any, source: str, known_rules: Iterable[str] | None = None) -> list[PolicyException]:
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("exceptions", []), list):
        raise ExceptionsError(f"{source}: must be a mapping with an 'exceptions' list")
    extra = set(document) - {"exceptions"}
    if extra:
        raise ExceptionsError(
            f"{source}: unknown top-level key(s) {sorted(extra)}; only 'exceptions' is allowed"
        )
    known = set(known_rules) if known_rules is not None else None
    found = []
    for index, entry in enumerate(document.get("exceptions") or []):
        where = f"{source}: exceptions[{index}]"
        if not isinstance(entry, dict):
            raise ExceptionsError(f"{where}: must be a mapping with {', '.join(_FIELDS)}")
        missing = [f for f in _FIELDS if entry.get(f) in (None, "")]
        if missing:
            raise ExceptionsError(f"{where}: missing {', '.join(missing)}")
        unknown = set(entry) - set(_FIELDS)
        if unknown:
            raise ExceptionsError(
                f"{where}: unknown field(s) {sorted(unknown)} (allowed: {', '.join(_FIELDS)})"
            )
        rule = entry["rule"]
        if not isinstance(rule, str) or not (_RULE_ID.match(rule) or _CHECKOV_ID.match(rule)):
            raise ExceptionsError(
                f"{where}: rule {rule!r} is not a rule id like BK-ENC-001 nor a built-in checkov check id "
                "like CKV_AWS_91 (the project's checkov checks CKV_BK_* are excepted by their rule id)"
            )
        if known is not None and _RULE_ID.match(rule) and rule not in known:
            raise ExceptionsError(f"{where}: rule {rule} does not exist")
        for name in ("resource", "justification", "owner"):
            if not isinstance(entry[name], str) or not entry[name].strip():
                raise ExceptionsError(f"{where}: {name} must be a non-empty string")
        if not entry["resource"].startswith("urn:pulumi:"):
            raise ExceptionsError(f"{where}: resource must be a URN pattern starting with 'urn:pulumi:'")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError as error:
                raise ExceptionsError(f"{where}: expires {expires!r} is not a date (YYYY-MM-DD)") from error
        if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
            raise ExceptionsError(f"{where}: expires must be a date (YYYY-MM-DD)")
        found.append(
            PolicyException(
                rule, entry["resource"], entry["justification"].strip(), entry["owner"].strip(), expires
            )
        )
    return found


def load(path: Path | None = None, known_rules: Iterable[str] | None = None) -> list[PolicyException]:
    path = path or DEFAULT_PATH
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ExceptionsError(f"{path}: not valid YAML: {error}") from error
    return parse(document, str(path), known_rules)


def is_checkov_check(rule_id: str) -> bool:
    """Whether an entry names a built-in checkov check (applied on the checkov path only)."""
    return bool(_CHECKOV_ID.match(rule_id))


def find(exceptions: Sequence[PolicyException], rule_id: str, urn: str) -> PolicyException | None:
    """The matching exception that expires last (a renewed exception wins over its expired past)."""
    matching = [e for e in exceptions if e.matches(rule_id, urn)]
    return max(matching, key=lambda e: e.expires) if matching else None
