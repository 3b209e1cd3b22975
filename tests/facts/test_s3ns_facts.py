"""data/facts/s3ns.yaml: every capability of the S3NS universe rests on a dated source, or is refused.

Each case writes a copy of the file with one row broken and checks that the loader refuses it,
naming the row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from facts import s3ns
from facts.providers import FactsFileError


def _copy(tmp_path: Path, change: Any) -> Path:
    document = yaml.safe_load(s3ns.S3NS_FILE.read_text(encoding="utf-8"))
    change(document["capabilities"])
    path = tmp_path / "s3ns.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_shipped_file_loads_and_every_row_is_sourced_or_refused() -> None:
    rows = s3ns.load()
    for name, row in rows.items():
        assert row.sources or row.not_found, name
        if row.not_found:
            assert row.value == s3ns.REFUSED, name
    assert s3ns.universe_domain() == "s3nsapis.fr"
    assert "HSM" not in s3ns.key_protection_levels()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["kms_protection_levels"].update(sources=[]),
            "kms_protection_levels: Value error, names no source",
        ),
        (
            lambda c: c["ssl_policy"].update(sources=["nowhere"]),
            "capabilities.ssl_policy.sources: source 'nowhere'",
        ),
        (
            lambda c: c["bucket_access_logs"].update(value=True),
            "bucket_access_logs: Value error, a row with not_found",
        ),
        (
            lambda c: c["apis"]["value"].append({"api": "bigquery.googleapis.com"}),
            "apis.value[9]: names no source",
        ),
        (lambda c: c["universe_domain"].update(says=""), "universe_domain: Value error, says nothing"),
        (lambda c: c["project_id"].update(extra=1), "project_id.extra"),
    ],
)
def test_a_row_without_a_dated_source_is_refused(tmp_path: Path, change: Any, message: str) -> None:
    path = _copy(tmp_path, change)
    with pytest.raises(FactsFileError, match=r"s3ns\.yaml: capabilities") as caught:
        s3ns.load(path)
    assert message in str(caught.value)


def test_a_source_in_both_files_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(s3ns.S3NS_FILE.read_text(encoding="utf-8"))
    document["sources"]["s3ns-projects"] = dict(next(iter(document["sources"].values())))
    path = tmp_path / "s3ns.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(FactsFileError, match="s3ns-projects also in"):
        s3ns.load(path)


def test_an_undated_source_is_refused(tmp_path: Path) -> None:
    sources = yaml.safe_load(s3ns.SOURCES_FILE.read_text(encoding="utf-8"))
    sources["sources"]["s3ns-projects"]["retrieved"] = "recently"
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(sources), encoding="utf-8")
    with pytest.raises(FactsFileError, match="source 's3ns-projects' has no YYYY-MM-DD retrieval date"):
        s3ns.load(s3ns.S3NS_FILE, path)
