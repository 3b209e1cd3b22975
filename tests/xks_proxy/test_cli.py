"""The custodian and dev-setup command line: argument orders, refusal of a tracked target, exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xks_proxy.__main__ import main
from xks_proxy.devsetup import UnsafeTargetError, dev_setup, refuse_tracked_target

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def git_repo(path: Path, ignore: str = "") -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if ignore:
        (path / ".gitignore").write_text(ignore)
    return path


@needs_git
def test_dev_setup_refuses_a_tracked_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = git_repo(tmp_path / "repo")
    assert main(["dev-setup", str(repo / "keys")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not ignored" in err and err.count("\n") == 1
    assert not (repo / "keys").exists()  # nothing created


@needs_git
def test_dev_setup_accepts_an_ignored_directory_and_one_outside_any_work_tree(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", ".xks-dev/\n")
    refuse_tracked_target((repo / ".xks-dev").resolve())  # ignored: no exception
    refuse_tracked_target((tmp_path / "elsewhere" / "dev").resolve())  # not a work tree
    with pytest.raises(UnsafeTargetError, match="not ignored"):
        refuse_tracked_target((repo / "xks-dev").resolve())  # a near miss is not ignored


@pytest.mark.skipif(shutil.which("softhsm2-util") is None, reason="softhsm2 not installed")
@pytest.mark.parametrize("order", ["after", "before", "top-level"])
def test_keys_list_accepts_config_in_any_position(tmp_path: Path, order: str) -> None:
    setup = dev_setup(tmp_path / "dev", ("alpha-key",), port=0, metrics_port=0)
    cfg = str(setup.config)
    argv = {
        "after": ["keys", "list", "--config", cfg],
        "before": ["keys", "--config", cfg, "list"],
        "top-level": ["--config", cfg, "keys", "list"],
    }[order]
    out = subprocess.run(
        [sys.executable, "-m", "xks_proxy", *argv], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "alpha-key" in out.stdout and "ENABLED" in out.stdout


def test_keys_without_config_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "list"]) == 2
    assert "--config is required" in capsys.readouterr().err
