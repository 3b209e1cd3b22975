"""scripts/preview_diff.py: two sets of previews compared by URN and inputs."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import preview_diff

URN = "urn:pulumi:s::p::aws:s3/bucket:Bucket::docs"


def _write(folder: Path, inputs: dict[str, object], urn: str = URN) -> None:
    folder.mkdir(exist_ok=True)
    state = {
        "urn": urn,
        "type": "aws:s3/bucket:Bucket",
        "custom": True,
        "inputs": inputs,
        "parent": "",
        "provider": "",
    }
    (folder / "s.json").write_text(
        json.dumps({"config": {"aws:region": "eu-west-3"}, "steps": [{"newState": state}]})
    )


def test_identical_previews_pass(tmp_path: Path) -> None:
    _write(tmp_path / "a", {"bucket": "docs"})
    _write(tmp_path / "b", {"bucket": "docs"})
    assert preview_diff.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0


def test_a_changed_input_or_urn_is_reported(tmp_path: Path) -> None:
    _write(tmp_path / "a", {"bucket": "docs"})
    _write(tmp_path / "b", {"bucket": "docs", "forceDestroy": True})
    compared, found = preview_diff.compare(tmp_path / "a", tmp_path / "b")
    assert compared == 1 and len(found) == 1 and "inputs differs" in found[0]
    _write(tmp_path / "c", {"bucket": "docs"}, urn=URN + "2")
    _, found = preview_diff.compare(tmp_path / "a", tmp_path / "c")
    assert found == [f"s: {URN} only before", f"s: {URN}2 only after"]
    assert preview_diff.main([str(tmp_path / "a"), str(tmp_path / "c")]) == 1


def test_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    assert preview_diff.main([str(tmp_path / "none"), str(tmp_path / "none")]) == 2
