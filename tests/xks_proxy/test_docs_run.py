"""Every shell block of docs/xks-proxy.md runs, in order, as written, against a fresh SoftHSM2 token.

A documented command that fails is a failing test. The blocks run in one temporary directory (outside
any git work tree) with the project environment first on PATH and ``UV_PROJECT`` set, so both
``uv run --frozen ...`` and ``python -m ...`` work as they do for a reader in the repository; the
repository's ``scripts/`` is linked in. Rewritten: only the ports (8443 and 9464 become free ports,
given to ``dev-setup``) and what a ``<!-- docs-test: replace "A" "B" -->`` comment above a block
says. A command serving the proxy (``python -m xks_proxy --config``) runs in the background until the
module ends. ``<!-- docs-test: skip: reason -->`` blocks need a cloud account or the network.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "xks-proxy.md"
SERVE = re.compile(r"python -m xks_proxy --config (\S+)\s*$")

pytestmark = pytest.mark.skipif(shutil.which("softhsm2-util") is None, reason="softhsm2 not installed")


@dataclass
class Block:
    line: int
    commands: list[str]
    skip: str | None = None
    replacements: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"L{self.line}:{self.commands[0][:50]}" if self.commands else f"L{self.line}"


def shell_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(sh|bash|shell)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        notes = []
        j = i - 1
        while j >= 0 and lines[j].startswith("<!-- docs-test:"):
            notes.append(lines[j])
            j -= 1
        body: list[str] = []
        i += 1
        while lines[i] != "```":
            body.append(lines[i])
            i += 1
        commands, current = [], ""
        for raw in body:
            current += raw[:-1] + " " if raw.endswith("\\") else raw
            if not raw.endswith("\\"):
                if current.strip() and not current.lstrip().startswith("#"):
                    commands.append(current.strip())
                current = ""
        block = Block(line=i - len(body), commands=commands)
        for note in notes:
            if m := re.match(r'<!-- docs-test: replace "(.*)" "(.*)" -->$', note):
                block.replacements.append((m.group(1), m.group(2)))
            elif m := re.match(r"<!-- docs-test: skip: (.+) -->$", note):
                block.skip = m.group(1)
            else:
                raise AssertionError(f"{DOC.name}: unknown docs-test note {note!r}")
        blocks.append(block)
        i += 1
    return blocks


BLOCKS = shell_blocks(DOC.read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Reader:
    """One reader going through the page top to bottom in one shell session's directory."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port, self.metrics = free_port(), free_port()
        (work / "scripts").symlink_to(ROOT / "scripts")
        self.env = {
            **os.environ,
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
            "UV_PROJECT": str(ROOT),
            "UV_NO_SYNC": "1",
        }
        self.background: list[subprocess.Popen[bytes]] = []
        self.done: set[int] = set()
        self.failed: dict[int, str] = {}

    def rewrite(self, command: str, block: Block) -> str:
        for old, new in block.replacements:
            command = command.replace(old, new)
        command = command.replace("8443", str(self.port)).replace("9464", str(self.metrics))
        if " dev-setup " in command and "--port" not in command:
            command = re.sub(
                r"(dev-setup \S+)", rf"\1 --port {self.port} --metrics-port {self.metrics}", command
            )
        return command

    def run(self, block: Block) -> None:
        for written in block.commands:
            command = self.rewrite(written, block)
            if SERVE.search(command):
                log = (self.work / f"serve-{len(self.background)}.log").open("ab")
                self.background.append(
                    subprocess.Popen(
                        ["bash", "-c", f"exec {command}"], cwd=self.work, env=self.env, stdout=log, stderr=log
                    )
                )
                self.wait_listening(command)
                continue
            out = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", command],
                cwd=self.work,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert out.returncode == 0, (
                f"{DOC.name} line {block.line}: `{shlex.quote(command)}` exited {out.returncode}\n"
                f"{out.stdout[-1500:]}\n{out.stderr[-1500:]}"
            )

    def wait_listening(self, command: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.background[-1].poll() is not None:
                raise AssertionError(f"`{command}` exited {self.background[-1].returncode}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"`{command}` did not listen on {self.port}")

    def close(self) -> None:
        for proc in self.background:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    r = Reader(tmp_path_factory.mktemp("docs-reader"))
    yield r
    r.close()


def test_the_page_has_shell_blocks_and_every_skip_says_why() -> None:
    assert len(BLOCKS) >= 6
    assert all(b.skip is None or len(b.skip) > 10 for b in BLOCKS)
    assert sum(b.skip is None for b in BLOCKS) >= 5  # most of the page runs here


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[b.name for b in BLOCKS])
def test_documented_block_runs(reader: Reader, index: int) -> None:
    block = BLOCKS[index]
    if block.skip:
        pytest.skip(f"{DOC.name} line {block.line}: {block.skip}")
    for earlier in range(index):  # blocks build on each other (a test run alone runs its prefix)
        if earlier in reader.failed:
            pytest.fail(f"an earlier block failed ({BLOCKS[earlier].name}): {reader.failed[earlier][:300]}")
        if earlier not in reader.done and not BLOCKS[earlier].skip:
            attempt(reader, earlier)
    attempt(reader, index)


def attempt(reader: Reader, index: int) -> None:
    reader.done.add(index)
    try:
        reader.run(BLOCKS[index])
    except AssertionError as exc:
        reader.failed[index] = str(exc)
        raise
