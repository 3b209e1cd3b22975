"""The exceptions register: read once per file version, applied by one function everywhere."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from policies import exceptions

ENTRY = """exceptions:
  - rule: BK-ENC-004
    resource: "urn:pulumi:*::*::*scaleway:databases/instance:Instance::*"
    justification: no customer key offered
    owner: security@example.fr
    expires: {expires}
"""
URN = "urn:pulumi:s::p::booking:scaleway:Database$scaleway:databases/instance:Instance::db"


def _write(path: Path, expires: str) -> None:
    path.write_text(ENTRY.format(expires=expires))


def test_register_is_read_once_per_file_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "exceptions.yaml"
    _write(path, "2027-06-30")
    reads = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        if self == path.resolve():
            reads.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    first = exceptions.load(path)
    for _ in range(50):
        assert exceptions.load(path) == first
    assert len(reads) == 1
    # An edited register (new size and modification time) is read again, not served stale.
    _write(path, "2028-01-31")
    os.utime(path, ns=(1, 1))
    assert exceptions.load(path)[0].expires == dt.date(2028, 1, 31)
    assert len(reads) == 2


def test_apply_excepts_until_expiry_then_fails_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    _write(path, "2027-06-30")
    register = exceptions.load(path)
    valid = exceptions.apply(register, "BK-ENC-004", URN, dt.date(2027, 6, 30))
    assert valid.excepted and valid.exception is not None and valid.note == ""
    expired = exceptions.apply(register, "BK-ENC-004", URN, dt.date(2027, 7, 1))
    assert not expired.excepted and "expired on 2027-06-30" in expired.note
    assert exceptions.apply(register, "BK-ENC-002", URN, dt.date(2027, 1, 1)).exception is None
    assert exceptions.apply(register, "BK-ENC-004", "", dt.date(2027, 1, 1)).exception is None


def test_every_problem_of_the_register_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(
        "exceptions:\n"
        "  - {rule: ENC4, resource: 'urn:pulumi:*', justification: j, owner: o, expires: 2027-01-01}\n"
        "  - {rule: BK-ENC-004, resource: db, owner: o, expires: soon}\n"
    )
    with pytest.raises(exceptions.ExceptionsError) as error:
        exceptions.load(path)
    message = str(error.value)
    assert "exceptions[0]: rule 'ENC4' is not a rule id" in message
    assert "exceptions[1]: resource must be a URN pattern" in message
    assert "exceptions[1]: missing justification" in message
    assert "exceptions[1]: expires 'soon' is not a date" in message
