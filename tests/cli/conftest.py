"""Helpers for the entry-point contract tests: run a script's main() and check what a user sees."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def script(name: str) -> Any:
    """scripts/<name>.py loaded from its path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass
class Outcome:
    code: int
    err: str


def run_main(module: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    try:
        code = int(module.main(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    return Outcome(code, capsys.readouterr().err)


def assert_refused(outcome: Outcome, expected: str, *, code: int = 2) -> None:
    """Exit code, one line naming the field or path, and no traceback."""
    assert outcome.code == code, outcome.err
    lines = [line for line in outcome.err.splitlines() if line.strip()]
    errors = [line for line in lines if ": error:" in line or ": internal error:" in line]
    assert len(errors) == 1, outcome.err
    assert expected in errors[0], errors[0]
    assert "Traceback" not in outcome.err


def left_behind(folder: Path) -> list[str]:
    """Files under ``folder`` (none may be left by a refused run, temporaries included)."""
    return (
        sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        if folder.exists()
        else []
    )


def bad_stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """A stacks/ folder holding one stack file ``Pulumi.bad.yaml`` with ``text``."""
    from stacks import offline

    folder = tmp_path / "stacks"
    folder.mkdir()
    (folder / "Pulumi.bad.yaml").write_text(text)
    monkeypatch.setattr(offline, "STACKS_DIR", folder)
    return folder / "Pulumi.bad.yaml"
