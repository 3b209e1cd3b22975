"""scripts/bench_failover.py runs briefly end to end and the surviving zone serves (no timing asserted)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scripts import bench_failover


@pytest.mark.skipif(
    shutil.which("haproxy") is None or shutil.which("softhsm2-util") is None,
    reason="haproxy or softhsm2 missing",
)
def test_failover_script_runs_and_the_survivor_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "failover.json"
    argv = ["--duration", "4", "--kill-after", "1.5", "--rate", "40", "--clients", "2", "--json", str(out)]
    assert bench_failover.main(argv) == 0
    result = json.loads(out.read_text())
    assert result["survivor_served"] is True
    assert result["requests"] > 0 and result["window_requests"] > 0
    printed = capsys.readouterr().out
    assert "machine load" in printed and "survivor served: yes" in printed


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_failover.main(["--duration", "2", "--kill-after", "3"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
