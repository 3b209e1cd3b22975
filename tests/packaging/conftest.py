"""Builds the wheel once and installs it into a fresh virtual environment outside the checkout.

The environment gets exactly the locked runtime dependencies (``uv export``) and the wheel, from uv's
cache (set UV_OFFLINE=1 where there is no network and the cache is warm). Nothing of the checkout is
on its path: what runs there is what a platform team installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: A clearly fake credential shape for the secrets the example sets outside its stack file.
SECRETS = ("--placeholder-secret", "xksAccessKeyId", "--placeholder-secret", "xksSecretAccessKey")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()

    def run(self, *argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Runs in the fresh environment, from a folder outside the checkout, with no PYTHONPATH."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(a) for a in argv], cwd=cwd or self.work, env=env, capture_output=True, text=True, check=False
        )


def _uv(*argv: str | Path) -> None:
    result = subprocess.run(["uv", *map(str, argv)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"uv {' '.join(map(str, argv))} failed:\n{result.stderr[-2000:]}"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if shutil.which("uv") is None:
        pytest.fail("uv is not on PATH: run scripts/bootstrap.sh")
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT), "the fresh environment must be outside the checkout"
    _uv("build", "--wheel", "--quiet", "--out-dir", base / "dist")
    wheels = sorted((base / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    _uv(
        "export",
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--no-hashes",
        "--quiet",
        "-o",
        base / "req.txt",
    )
    _uv("venv", "--quiet", "--python", sys.executable, base / "venv")
    _uv(
        "pip",
        "install",
        "--quiet",
        "--python",
        base / "venv" / "bin" / "python",
        "-r",
        base / "req.txt",
        wheels[0],
    )
    work = base / "work"
    work.mkdir()
    return Installed(wheel=wheels[0], venv=base / "venv", work=work)


@pytest.fixture(scope="session")
def previews(installed: Installed) -> dict[str, Path]:
    """The example's offline preview from the installed wheel (``sovereign-booking-preview --project``),
    a mutant whose own bucket has no customer key, and a preview that is not JSON."""
    out: dict[str, Path] = {}
    for name, extra in (
        ("pass", ""),
        ("finding", '\naws.s3.Bucket("exports", opts=pulumi.ResourceOptions(provider=paris))\n'),
    ):
        project = installed.work / f"example-{name}"
        shutil.copytree(ROOT / "examples" / "aws-platform", project)
        (project / "__main__.py").write_text((project / "__main__.py").read_text(encoding="utf-8") + extra)
        out[name] = installed.work / f"example-{name}.json"
        result = installed.run(
            "sovereign-booking-preview", "--project", project, "--stack", "dev", "--json", out[name], "--quiet",
            *SECRETS,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    out["broken"] = installed.work / "example-broken.json"
    out["broken"].write_text("error: getting stack configuration: passphrase must be set\n", encoding="utf-8")
    return out
