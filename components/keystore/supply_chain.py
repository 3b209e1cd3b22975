"""What the key store hosts install: exactly ``uv.lock``'s versions of the proxy's dependencies, by hash.

The tests ran against ``uv.lock``; the hosts must run the same bytes. The requirements file is rendered
at deploy time from the lock (every wheel and sdist hash it records) and installed with
``pip --require-hashes --no-deps --only-binary=:all:``: pip refuses any file whose hash is not listed
and never resolves or builds anything. The hosts also check that the lock in the verified checkout
is the one the requirements came from (its SHA-256), so a deploy from another commit fails closed.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

LOCK = Path(__file__).resolve().parents[2] / "uv.lock"

#: The proxy's direct third-party dependencies (distribution names as in uv.lock). A test checks that
#: every third-party import of xks_proxy/ is covered.
PROXY_DISTRIBUTIONS = ("botocore", "cryptography", "h11", "prometheus-client", "python-pkcs11", "pyyaml")

#: Import name -> distribution name, where they differ.
IMPORT_NAMES = {"pkcs11": "python-pkcs11", "prometheus_client": "prometheus-client", "yaml": "pyyaml"}


@dataclass(frozen=True)
class LockedRequirements:
    text: str
    lock_sha256: str
    versions: dict[str, str]


def locked_requirements(
    lock: Path = LOCK, roots: tuple[str, ...] = PROXY_DISTRIBUTIONS
) -> LockedRequirements:
    raw = lock.read_bytes()
    packages = {p["name"]: p for p in tomllib.loads(raw.decode())["package"]}
    wanted: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in packages:
            raise ValueError(f"{lock}: no package {name!r}; run `uv lock` after adding it to pyproject.toml")
        wanted.append(name)
        todo.extend(dep["name"] for dep in packages[name].get("dependencies", []))
    lines, versions = [], {}
    for name in sorted(wanted):
        pkg = packages[name]
        files = [*pkg.get("wheels", []), *([pkg["sdist"]] if "sdist" in pkg else [])]
        hashes = sorted({f["hash"] for f in files if f.get("hash", "").startswith("sha256:")})
        if not hashes:
            raise ValueError(f"{lock}: {name} has no sha256 hashes; refusing an unpinned install")
        versions[name] = pkg["version"]
        lines.append(" \\\n    ".join([f"{name}=={pkg['version']}", *(f"--hash={h}" for h in hashes)]))
    return LockedRequirements("\n".join(lines) + "\n", hashlib.sha256(raw).hexdigest(), versions)
