"""French text of the exceptions register's justifications, matched to the English text it translates.

Each translation carries the digest of the English justification it was written from: a register entry
whose English text has changed since no longer matches, so the French report never shows a stale
translation; it then says the justification is as written in the register (in English)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reporting.facts import DATA_DIR, FactsError

PATH = DATA_DIR / "facts" / "exceptions_fr.yaml"


class Translation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: str = Field(min_length=1)
    en_sha256: str = Field(pattern=r"^[0-9a-f]{16}$")
    fr: str = Field(min_length=1)


class TranslationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    justifications: tuple[Translation, ...]


def digest(english: str) -> str:
    """The first 16 hex digits of the sha256 of the text with its whitespace collapsed."""
    return hashlib.sha256(" ".join(english.split()).encode("utf-8")).hexdigest()[:16]


def load(path: Path = PATH) -> dict[tuple[str, str], str]:
    """(rule, digest of the English text) -> French text; a malformed file stops with one line."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FactsError(f"{path}: cannot read ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise FactsError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from error
    try:
        parsed = TranslationsFile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise FactsError(f"{path}: {where}: {first['msg']}") from error
    table: dict[tuple[str, str], str] = {}
    for entry in parsed.justifications:
        key = (entry.rule, entry.en_sha256)
        if key in table:
            raise FactsError(f"{path}: justifications: {entry.rule} {entry.en_sha256} translated twice")
        table[key] = " ".join(entry.fr.split())
    return table


@functools.cache
def _shipped() -> dict[tuple[str, str], str]:
    return load()


def french(rule: str, english: str, table: dict[tuple[str, str], str] | None = None) -> str | None:
    """The French text for this rule's justification, or None when none matches the English as it is."""
    return (_shipped() if table is None else table).get((rule, digest(english)))
