"""docs/deploy-aws.md: every test a step names exists, and the blocks marked `docs-test: run` run.

The marked blocks need no cloud account: the offline preview, the audit and the scripts' help. The
other blocks need an AWS account or the Pulumi CLI and are marked `docs-test: skip` with the reason.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy-aws.md"
TESTED_BY = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def _blocks() -> list[tuple[str, list[str]]]:
    """(marker, commands) of every shell block; the marker is the docs-test comment above it."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.strip() == "```sh":
            marker = lines[index - 1] if index and lines[index - 1].startswith("<!-- docs-test:") else ""
            end = lines.index("```", index + 1)
            commands, current = [], ""
            for raw in lines[index + 1 : end]:
                text = raw.split("  #")[0].rstrip()
                current += text.rstrip("\\").rstrip() + " " if text.endswith("\\") else text
                if not text.endswith("\\"):
                    if current.strip():
                        commands.append(current.strip())
                    current = ""
            found.append((marker, commands))
    return found


def test_every_step_names_a_test_that_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    assert len(sections) >= 8
    for section in sections:
        title = section.splitlines()[0]
        named = TESTED_BY.findall(section)
        assert named, f"section {title!r} names no test"
        for path, function in named:
            source = (ROOT / path).read_text(encoding="utf-8")
            if function:
                assert f"def {function}(" in source, f"{title}: {path}::{function} does not exist"


def test_every_shell_block_is_run_or_says_why_not() -> None:
    for marker, commands in _blocks():
        assert marker.startswith(("<!-- docs-test: run", "<!-- docs-test: skip: ")) or not any(
            c.startswith(("uv ", "pulumi ", "aws ")) for c in commands
        ), (marker, commands)


@pytest.mark.parametrize(
    "command",
    [c for marker, commands in _blocks() if marker.startswith("<!-- docs-test: run") for c in commands],
)
def test_documented_offline_command_runs(command: str) -> None:
    completed = subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
