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


def test_systemd_watchdog_pings_only_while_the_ops_port_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server
    import socket
    import threading

    from xks_proxy.__main__ import start_systemd_watchdog

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # 0.2 s: pings every 0.1 s

    class Healthz(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)  # even "HSM unavailable" proves the loop is alive
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    ops = http.server.HTTPServer(("127.0.0.1", 0), Healthz)
    serving = threading.Thread(target=ops.serve_forever, daemon=True)
    serving.start()
    stop = threading.Event()
    try:
        start_systemd_watchdog("0.0.0.0", ops.server_address[1], stop)  # noqa: S104 - probed on loopback
        assert notify.recv(64) == b"READY=1"
        assert notify.recv(64) == b"WATCHDOG=1"
        ops.shutdown()
        ops.server_close()
        notify.settimeout(0.3)
        while True:  # drain what was sent before the port closed, then silence
            try:
                notify.recv(64)
            except TimeoutError:
                break
        with pytest.raises(TimeoutError):
            notify.recv(64)
    finally:
        stop.set()
        notify.close()


def test_no_systemd_no_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    from xks_proxy.__main__ import start_systemd_watchdog

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert start_systemd_watchdog("127.0.0.1", 1) is None
