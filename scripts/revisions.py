"""A git revision's files beside the working tree, for the benchmarks that compare two revisions.

``git archive`` reads the revision from the object store: the work tree is never touched. One place for
the three scripts that measure the XKS proxy against an earlier commit (bench_xks, bench_request_path,
fleet_findings); a revision git does not know is a one-line usage error, never a traceback.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class RevisionError(ValueError):
    """The revision (or one of its required paths) cannot be read from this repository."""


def _archive(rev: str, paths: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - git, fixed arguments
        ["git", "-C", str(ROOT), "archive", rev, *paths],  # noqa: S607
        capture_output=True,
        check=False,
    )


def check_revision(rev: str) -> None:
    """Raises RevisionError unless ``rev`` names a commit of this repository (checked before any work)."""
    done = subprocess.run(  # noqa: S603 - git, fixed arguments
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RevisionError(f"{rev!r} is not a commit of this repository (a hash, tag or branch is expected)")


def extract_revision(
    rev: str, into: Path, paths: Sequence[str] = ("xks_proxy",), optional: Sequence[str] = ()
) -> Path:
    """``paths`` (and ``optional`` ones, when the revision has them) of ``rev``, extracted in ``into``."""
    done = _archive(rev, [*paths, *optional])
    if done.returncode != 0 and optional:
        done = _archive(rev, paths)  # an optional path may not exist at that revision
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise RevisionError(f"revision {rev!r}: {why[0] if why else 'git archive failed'}")
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into
