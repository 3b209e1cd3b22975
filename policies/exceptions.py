"""The exceptions register (``policies/exceptions.yaml``), and the one function that applies it.

An exception names a rule (a project rule id, or a checkov check id such as ``CKV_AWS_91`` for a
built-in checkov check; the project's own checkov checks are excepted by their rule id), a resource
(a URN glob: ``*`` matches anything, ``?`` one character),
the justification, the owner accountable for it and an expiry date. While it is valid it turns
a finding into a recorded exception, shown in every report; once expired, the finding fails
again. A malformed register is an error that names the entry and the field: an exception that
cannot be read must never silently pass or fail a stack.

The register is read once per process and file version (path, modification time, size): the
CrossGuard pack asks for it on every rule and every resource. :func:`apply` is what the audit and
the CrossGuard pack both call, so an exception means the same at every enforcement point. To give
an entry a new field, add it to :class:`PolicyException` (unknown fields are refused).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from tooling.cli import BadInputError, read_yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "exceptions.yaml"
_RULE_ID = re.compile(r"^BK-[A-Z]+-\d{3}$")
#: Built-in checkov checks (CKV_AWS_91, CKV2_AWS_28, CKV_GCP_62, ...); not CKV_BK_*, named by rule id.
_CHECKOV_ID = re.compile(r"^CKV2?_(?!BK_)[A-Z0-9]+_\d+$")


class ExceptionsError(ValueError):
    """The exceptions register cannot be used as written."""


def _text(value: Any) -> Any:
    if value is None or value == "":
        raise PydanticCustomError("missing", "missing")
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("register", "must be a non-empty string")
    return value.strip()


def _date(value: Any) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("register", f"{value!r} is not a date (YYYY-MM-DD)") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise PydanticCustomError("register", "must be a date (YYYY-MM-DD)")
    return value


_Text = Annotated[str, BeforeValidator(_text)]


class PolicyException(BaseModel):
    """One entry of the register."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    rule: _Text = Field(description="the rule id, e.g. BK-ENC-004")
    resource: _Text = Field(description="URN pattern: * matches anything, ? one character")
    justification: _Text = Field(description="why the rule cannot be met, and what compensates")
    owner: _Text = Field(description="who answers for it")
    expires: Annotated[dt.date, BeforeValidator(_date)] = Field(
        description="YYYY-MM-DD; after it the finding fails"
    )

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, rule: str, info: ValidationInfo) -> str:
        if not (_RULE_ID.match(rule) or _CHECKOV_ID.match(rule)):
            raise PydanticCustomError(
                "register",
                f"{rule!r} is not a rule id like BK-ENC-001 nor a built-in checkov check id like CKV_AWS_91 "
                "(the project's checkov checks CKV_BK_* are excepted by their rule id)",
            )
        known = (info.context or {}).get("known_rules")
        if known is not None and _RULE_ID.match(rule) and rule not in known:
            raise PydanticCustomError("register", f"{rule} does not exist")
        return rule

    @field_validator("resource")
    @classmethod
    def _urn_pattern(cls, resource: str) -> str:
        if not resource.startswith("urn:pulumi:"):
            raise PydanticCustomError("register", "must be a URN pattern starting with 'urn:pulumi:'")
        return resource

    def matches(self, rule_id: str, urn: str) -> bool:
        return rule_id == self.rule and fnmatch.fnmatchcase(urn, self.resource)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


class _Register(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    exceptions: list[PolicyException] = []


def _messages(error: ValidationError) -> list[str]:
    allowed = ", ".join(PolicyException.model_fields)
    found = []
    for item in error.errors(include_input=False):
        loc = list(item["loc"])
        where = "".join(
            f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
            for i, part in enumerate(loc[:2])
        )
        field = str(loc[2]) if len(loc) > 2 else ""
        if item["type"] == "missing":
            found.append(f"{where}: missing {field or str(loc[-1])}")
        elif item["type"] == "extra_forbidden" and len(loc) > 2:
            found.append(f"{where}: unknown field(s) [{field!r}] (allowed: {allowed})")
        elif item["type"] == "extra_forbidden":
            found.append(f"unknown top-level key(s) [{str(loc[0])!r}]; only 'exceptions' is allowed")
        elif item["type"] in ("model_type", "model_attributes_type", "dict_type") and len(loc) == 2:
            found.append(f"{where}: must be a mapping with {allowed}")
        elif field:
            found.append(f"{where}: {field} {item['msg']}")
        else:
            found.append(f"{where or 'register'}: {item['msg']}")
    return found


def parse(document: Any, source: str, known_rules: Iterable[str] | None = None) -> list[PolicyException]:
    """The entries of a register document; every problem listed, each naming its entry and field."""
    if document is None:
        return []
    if not isinstance(document, dict):
        raise ExceptionsError(f"{source}: must be a mapping with an 'exceptions' list")
    context = {"known_rules": frozenset(known_rules) if known_rules is not None else None}
    try:
        return list(_Register.model_validate(document, context=context).exceptions)
    except ValidationError as error:
        raise ExceptionsError(f"{source}: " + "; ".join(_messages(error))) from None


@lru_cache(maxsize=16)
def _load(
    path: Path, version: tuple[int, int], known_rules: frozenset[str] | None
) -> tuple[PolicyException, ...]:
    """``version`` (modification time, size) keys the cache: an edited register is read again."""
    try:
        document = read_yaml(path, "exceptions register")
    except BadInputError as error:
        raise ExceptionsError(str(error)) from error
    return tuple(parse(document, str(path), known_rules))


def load(path: Path | None = None, known_rules: Iterable[str] | None = None) -> list[PolicyException]:
    """The register at ``path`` (default: policies/exceptions.yaml), read once per file version.

    The default register may be absent (no exception); a register named by the user must exist.
    """
    named = path is not None
    path = (path or DEFAULT_PATH).resolve()
    try:
        status = path.stat()
    except FileNotFoundError:
        if named:
            raise ExceptionsError(f"exceptions register {path}: no such file") from None
        return []
    except OSError as error:
        raise ExceptionsError(f"{path}: cannot be read ({error.strerror})") from error
    known = frozenset(known_rules) if known_rules is not None else None
    return list(_load(path, (status.st_mtime_ns, status.st_size), known))


def is_checkov_check(rule_id: str) -> bool:
    """Whether an entry names a built-in checkov check (applied on the checkov path only)."""
    return bool(_CHECKOV_ID.match(rule_id))


def find(exceptions: Sequence[PolicyException], rule_id: str, urn: str) -> PolicyException | None:
    """The matching exception that expires last (a renewed exception wins over its expired past)."""
    matching = [e for e in exceptions if e.matches(rule_id, urn)]
    return max(matching, key=lambda e: e.expires) if matching else None


@dataclass(frozen=True)
class Decision:
    """What the register makes of one finding."""

    #: The matching exception, valid or expired (None: no exception names this finding).
    exception: PolicyException | None
    #: True when a valid exception turns the finding into a recorded exception.
    excepted: bool
    #: Why an exception that names the finding no longer applies (it has expired); empty otherwise.
    note: str = ""

    def annotate(self, message: str) -> str:
        """The finding's message, with the expired exception named."""
        return f"{message} ({self.note})" if self.note else message


def apply(exceptions: Sequence[PolicyException], rule_id: str, urn: str, today: dt.date) -> Decision:
    """The one place an exception silences a finding: the audit, the CrossGuard pack and checkov's triage."""
    exception = find(exceptions, rule_id, urn) if urn else None
    if exception is None:
        return Decision(None, excepted=False)
    if exception.expired(today):
        note = f"exception owned by {exception.owner} expired on {exception.expires.isoformat()}"
        return Decision(exception, excepted=False, note=note)
    return Decision(exception, excepted=True)
