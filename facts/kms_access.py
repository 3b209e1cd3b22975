"""Who may use an AWS KMS key, read from ``data/facts/kms_access.yaml`` (sourced rows, read once).

Rule BK-ACCESS-001 reads these: the principal that means everyone, how an ARN or id names an
account, and that grants give use of a key beside its policy. A row without its source (url,
retrieved, says) is refused when the file loads: a constraint nobody read is never assumed.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from facts.resources import data_dir, read_model

KMS_ACCESS_FILE: Final = data_dir() / "facts" / "kms_access.yaml"
#: The rows the rule needs; a file missing one is refused.
REQUIRED: Final = (
    "everyone",
    "account-principal",
    "account-id",
    "grants",
    "service-grantee",
    "restricting-conditions",
)


class KmsAccessFileError(ValueError):
    """The file is missing, malformed or has an unsourced row: the message names the file and the key."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(pattern=r"^https://")
    read: str = Field(min_length=1)
    retrieved: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    says: str = Field(min_length=20)


class Constraint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Any
    meaning: str = Field(min_length=1)
    source: Source


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    constraints: dict[str, Constraint]


@cache
def load(path: Path = KMS_ACCESS_FILE) -> dict[str, Constraint]:
    rows = read_model(path, _File, KmsAccessFileError).constraints
    missing = [name for name in REQUIRED if name not in rows]
    if missing:
        raise KmsAccessFileError(f"{path}: constraints: missing row(s) {', '.join(missing)}")
    return rows


def everyone() -> str:
    return str(load()["everyone"].value)


def account_of(principal: str) -> str | None:
    """The account an IAM principal ARN or a bare account id names; None when it names none."""
    if re.match(str(load()["account-id"].value), principal):
        return principal
    match = re.match(str(load()["account-principal"].value), principal)
    return match.group("account") if match else None


def is_service_principal(principal: str) -> bool:
    return bool(re.search(str(load()["service-grantee"].value), principal))


def restricting_conditions() -> tuple[str, ...]:
    return tuple(str(v) for v in load()["restricting-conditions"].value or ())
