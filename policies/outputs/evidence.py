"""The evidence manifest of an audit run: what was read, which rule set judged it, what was written.

The manifest is an in-toto Statement (v1): its subjects are the reports the run wrote, each with its
SHA-256; its predicate records the SHA-256 of every input (stack files, preview or export JSON, the
exceptions register, the policy configuration, checkov's skip list), the content hash of the rule
set and of the program that was previewed, and the versions of Python, the Pulumi SDK and
providers, and checkov. With an auditor's Ed25519 key the statement is also signed as a DSSE
envelope (securesystemslib), so that a later ``--verify-evidence`` can tell whether any byte of the
evidence changed since and whether the auditor's key signed it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]  # re-exported without __all__

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_DIR = "evidence"
MANIFEST = "manifest.intoto.json"
ENVELOPE = "manifest.dsse.json"
PUBLIC_KEY = "signer.pub.pem"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://github.com/sovereign-booking/blueprint/evidence/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: Distributions whose versions decide what a run can see and say.
DISTRIBUTIONS = (
    "pulumi",
    "pulumi-aws",
    "pulumiverse-scaleway",
    "pulumi-gcp",
    "pulumi-random",
    "pulumi-policy",
)
#: What the rule set is: every file the policies read or run (rules, model, catalog, facts, checks).
RULE_SET_GLOBS = ("policies/**/*.py", "policies/**/*.yaml", "policies/**/*.json", "data/facts/**/*.yaml")
#: What was previewed offline: the program and its components.
PROGRAM_GLOBS = ("stacks/**/*.py", "components/**/*.py", "Pulumi.yaml")


class EvidenceError(ValueError):
    """The evidence cannot be written or read as asked (bad key, unreadable directory)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(root: Path, globs: Iterable[str]) -> tuple[str, int]:
    """One SHA-256 over (relative path, file SHA-256) of every matching file, sorted; and the count."""
    files = sorted(
        {p for pattern in globs for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts}
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(root).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest(), len(files)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class SigningKey:
    signer: CryptoSigner
    #: The public half, PEM, written beside the envelope for the auditor to compare.
    public_pem: bytes


def load_signing_key(path: Path) -> SigningKey:
    """The auditor's Ed25519 private key (PEM, PKCS#8, unencrypted), checked before any long work."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise EvidenceError(f"--sign-key {path}: cannot read it ({error.strerror})") from error
    except (ValueError, TypeError) as error:
        raise EvidenceError(f"--sign-key {path}: not an unencrypted PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceError(f"--sign-key {path}: must be an Ed25519 key (got {type(key).__name__})")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(CryptoSigner(key), public_pem)


def _display(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(resolved)


@dataclass
class RunRecord:
    """What an audit run read and used, filled in as it goes."""

    #: role -> paths (stack, preview, export, exceptions, policy-config, checkov-skip-list).
    inputs: dict[str, list[Path]] = field(default_factory=dict)
    rules: Sequence[str] = ()
    checkov_version: str | None = None
    #: Anything else worth recording (e.g. checkov counts).
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, role: str, path: Path) -> None:
        self.inputs.setdefault(role, []).append(path)


def statement(record: RunRecord, reports: Iterable[Path], out: Path, root: Path = ROOT) -> dict[str, Any]:
    """The in-toto statement for one run; report names are relative to ``out``."""
    rule_hash, rule_files = content_hash(root, RULE_SET_GLOBS)
    program_hash, program_files = content_hash(root, PROGRAM_GLOBS)
    subjects = [
        {
            "name": path.resolve().relative_to(out.resolve()).as_posix(),
            "digest": {"sha256": sha256_file(path)},
        }
        for path in sorted(set(reports))
    ]
    materials = [
        {"role": role, "path": _display(path, root), "sha256": sha256_file(path)}
        for role, paths in sorted(record.inputs.items())
        for path in paths
    ]
    versions = {d: v for d in DISTRIBUTIONS if (v := _version(d))}
    versions["python"] = platform.python_version()
    if record.checkov_version:
        versions["checkov"] = record.checkov_version
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "generated": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "inputs": materials,
            "ruleSet": {"sha256": rule_hash, "files": rule_files, "rules": list(record.rules)},
            "program": {"sha256": program_hash, "files": program_files},
            "versions": versions,
            "facts": record.facts,
        },
    }


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def write(
    record: RunRecord,
    reports: Iterable[Path],
    out: Path,
    signing_key: SigningKey | None = None,
    root: Path = ROOT,
) -> list[Path]:
    """Writes the statement (and, with a signer, its DSSE envelope and the public key) under out/evidence/."""
    folder = out / EVIDENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(statement(record, reports, out, root), indent=2, sort_keys=True) + "\n"
    written = [folder / MANIFEST]
    # A stale envelope from an earlier run must not sit next to a new unsigned manifest.
    for stale in (folder / ENVELOPE, folder / PUBLIC_KEY):
        stale.unlink(missing_ok=True)
    _write_atomic(folder / MANIFEST, payload)
    if signing_key is not None:
        envelope = Envelope(payload=payload.encode(), payload_type=PAYLOAD_TYPE, signatures={})
        envelope.sign(signing_key.signer)
        _write_atomic(folder / ENVELOPE, json.dumps(envelope.to_dict(), indent=2) + "\n")
        _write_atomic(folder / PUBLIC_KEY, signing_key.public_pem.decode())
        written += [folder / ENVELOPE, folder / PUBLIC_KEY]
    return written


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _public_key(path: Path) -> SSlibKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise EvidenceError(f"{path}: cannot read the public key ({error.strerror})") from error
    except ValueError as error:
        raise EvidenceError(f"{path}: not a PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise EvidenceError(f"{path}: must be an Ed25519 public key")
    return SSlibKey.from_crypto(key)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise EvidenceError(f"{path}: cannot read it ({error.strerror})") from error
    except ValueError as error:
        raise EvidenceError(f"{path}: not JSON ({error})") from error


def verify(out: Path, public_key: Path | None = None, root: Path = ROOT) -> Verification:
    """Checks the signature (when there is an envelope) and every hash the manifest records.

    ``public_key`` is the key the auditor expects; without it the key stored beside the envelope is
    used and its id printed, to be compared with the auditor's.
    """
    folder = out / EVIDENCE_DIR
    if not (folder / MANIFEST).is_file():
        raise EvidenceError(f"{folder / MANIFEST}: missing (not an audit report directory with evidence)")
    result = Verification()
    payload = (folder / MANIFEST).read_bytes()
    if (folder / ENVELOPE).is_file():
        envelope = Envelope.from_dict(_read_json(folder / ENVELOPE))
        key = _public_key(public_key or folder / PUBLIC_KEY)
        try:
            envelope.verify([key], 1)
        except VerificationError:
            result.problems.append(f"{folder / ENVELOPE}: signature does not verify with key {key.keyid}")
        else:
            result.notes.append(f"signature: valid, key id {key.keyid}")
        if envelope.payload != payload:
            result.problems.append(f"{folder / MANIFEST}: differs from the signed payload in {ENVELOPE}")
        payload = envelope.payload
    elif public_key is not None:
        result.problems.append(f"{folder}: no {ENVELOPE}, but a signed manifest was expected")
    else:
        result.notes.append("signature: none (the run was not given --sign-key)")
    try:
        document = json.loads(payload)
        subjects = document["subject"]
        materials = document["predicate"]["inputs"]
        rule_set = document["predicate"]["ruleSet"]["sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise EvidenceError(f"{folder / MANIFEST}: not an evidence statement ({error})") from error
    for subject in subjects:
        _compare(out / subject["name"], subject["digest"]["sha256"], result)
    for material in materials:
        path = Path(material["path"])
        _compare(path if path.is_absolute() else root / path, material["sha256"], result)
    current, _ = content_hash(root, RULE_SET_GLOBS)
    result.notes.append(
        "rule set: same as this checkout"
        if current == rule_set
        else f"rule set: {rule_set} (this checkout: {current})"
    )
    result.notes.append(f"{len(subjects)} report(s) and {len(materials)} input(s) checked")
    return result


def _compare(path: Path, expected: str, result: Verification) -> None:
    if not path.is_file():
        result.problems.append(f"{path}: missing")
    elif (actual := sha256_file(path)) != expected:
        result.problems.append(f"{path}: SHA-256 {actual} differs from the recorded {expected}")
