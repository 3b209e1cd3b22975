"""The entry point: bad input is one line and exit 2, checked before the long work; writes are atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import compare
from tooling.cli import atomic_write_bytes


@pytest.fixture
def no_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if the (slow) previews start: bad input must be refused before them."""

    def boom(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("preview started before the input was checked")

    monkeypatch.setattr("stacks.offline.run_preview", boom)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("compare: error: ")
    assert "Traceback" not in err
    return err


def test_unknown_language(capsys: pytest.CaptureFixture[str], no_previews: None) -> None:
    assert compare.main(["--lang", "de"]) == 2
    assert "--lang" in one_line_error(capsys)


def test_output_path_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_previews: None) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert compare.main(["--out", str(target)]) == 2
    assert f"--out {target}: is a file, an output folder is expected" in one_line_error(capsys)


def test_missing_weights_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_previews: None) -> None:
    assert compare.main(["--weights", str(tmp_path / "none.yaml"), "--out", str(tmp_path)]) == 2
    assert "--weights" in one_line_error(capsys)


def test_negative_load(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_previews: None) -> None:
    assert compare.main(["--appointments-per-month", "-1", "--out", str(tmp_path)]) == 2
    assert "--appointments-per-month" in one_line_error(capsys)


def test_unknown_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_previews: None) -> None:
    assert compare.main(["--stacks", "nope", "--out", str(tmp_path)]) == 2
    assert "--stacks: unknown stack(s) nope" in one_line_error(capsys)


def test_bad_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_previews: None) -> None:
    data = tmp_path / "data"
    (data / "facts").mkdir(parents=True)
    (data / "facts" / "sources.yaml").write_text("sources: [1]\n")
    assert compare.main(["--data", str(data), "--out", str(tmp_path / "out")]) == 2
    assert "sources.yaml" in one_line_error(capsys)


def test_writes_html_atomically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert compare.main(["--stacks", "scaleway-paris", "--lang", "fr", "--no-pdf", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["compare.fr.html", "summary.fr.html"]
    assert "option B (scaleway-paris)" in capsys.readouterr().out
    assert 'lang="fr"' in (out / "compare.fr.html").read_text(encoding="utf-8")


def test_write_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    atomic_write_bytes(target, b"first")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
