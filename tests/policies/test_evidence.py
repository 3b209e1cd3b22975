"""The evidence manifest: hashes of inputs and reports, a DSSE signature, and --verify-evidence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from policies.outputs import evidence
from tests.policies.policy_support import ROOT, preview_document

AUDIT = [sys.executable, str(ROOT / "scripts/audit.py")]


def _key(tmp_path: Path, name: str = "auditor") -> tuple[Path, Path]:
    """A throwaway Ed25519 key pair made for this test run (never stored in the repository)."""
    key = Ed25519PrivateKey.generate()
    private = tmp_path / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = tmp_path / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AUDIT, *args], capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.fixture
def signed_run(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A small signed run: two reports and one input file, written by the evidence module."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "junit.xml").write_text("<testsuites/>\n")
    (out / "findings.json").write_text("[]\n")
    register = tmp_path / "exceptions.yaml"
    register.write_text("exceptions: []\n")
    record = evidence.RunRecord(rules=["BK-ENC-001"])
    record.add("exceptions", register)
    private, public = _key(tmp_path)
    evidence.write(
        record, [out / "junit.xml", out / "findings.json"], out, evidence.load_signing_key(private)
    )
    return out, register, public


def test_a_signed_run_verifies_with_the_auditors_public_key(signed_run: tuple[Path, Path, Path]) -> None:
    out, _, public = signed_run
    completed = _run("--verify-evidence", str(out), "--public-key", str(public))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "signature: valid" in completed.stdout and "VERIFIED" in completed.stdout
    statement = json.loads((out / "evidence" / evidence.MANIFEST).read_text())
    assert statement["_type"] == evidence.STATEMENT_TYPE
    assert {s["name"] for s in statement["subject"]} == {"junit.xml", "findings.json"}
    assert statement["predicate"]["ruleSet"]["rules"] == ["BK-ENC-001"]
    assert "pulumi" in statement["predicate"]["versions"]


@pytest.mark.parametrize("target", ["report", "input"])
def test_a_tampered_file_fails_verification_and_is_named(
    signed_run: tuple[Path, Path, Path], target: str
) -> None:
    out, register, public = signed_run
    tampered = out / "findings.json" if target == "report" else register
    tampered.write_text(tampered.read_text() + " ")
    completed = _run("--verify-evidence", str(out), "--public-key", str(public))
    assert completed.returncode == 1
    assert f"TAMPERED {tampered}" in completed.stdout


def test_an_edited_manifest_no_longer_matches_its_signature(signed_run: tuple[Path, Path, Path]) -> None:
    out, _, public = signed_run
    manifest = out / "evidence" / evidence.MANIFEST
    statement = json.loads(manifest.read_text())
    statement["subject"] = statement["subject"][:1]
    manifest.write_text(json.dumps(statement))
    completed = _run("--verify-evidence", str(out), "--public-key", str(public))
    assert completed.returncode == 1 and "differs from the signed payload" in completed.stdout


def test_another_key_is_refused(signed_run: tuple[Path, Path, Path], tmp_path: Path) -> None:
    out, _, _ = signed_run
    _, other = _key(tmp_path, "someone-else")
    completed = _run("--verify-evidence", str(out), "--public-key", str(other))
    assert completed.returncode == 1 and "signature does not verify" in completed.stdout


def test_a_signature_swapped_for_one_by_another_key_is_refused(
    signed_run: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Re-signing altered evidence with a new key (and its public key beside it) fails against the auditor's."""
    out, register, public = signed_run
    register.write_text("exceptions: [] # edited\n")
    forger, _ = _key(tmp_path, "forger")
    record = evidence.RunRecord(rules=["BK-ENC-001"])
    record.add("exceptions", register)
    evidence.write(record, [out / "junit.xml", out / "findings.json"], out, evidence.load_signing_key(forger))
    assert _run("--verify-evidence", str(out)).returncode == 0  # consistent with the key stored beside it
    assert _run("--verify-evidence", str(out), "--public-key", str(public)).returncode == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key", "not an unencrypted PEM private key"),
        (None, "must be an Ed25519 key (got ECPrivateKey)"),
    ],
)
def test_a_bad_signing_key_is_refused_before_any_work(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    key = tmp_path / "key.pem"
    if content is None:
        content = generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    key.write_bytes(content)
    completed = _run("--sign-key", str(key), "--from-preview", str(tmp_path / "absent.json"), "--no-checkov")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [f"audit: error: --sign-key {key}: {message}"]


def test_a_directory_without_evidence_is_bad_input(tmp_path: Path) -> None:
    completed = _run("--verify-evidence", str(tmp_path))
    assert completed.returncode == 2 and "missing" in completed.stderr and "Traceback" not in completed.stderr


def test_an_audit_run_records_its_inputs_and_reports_and_verifies(tmp_path: Path) -> None:
    preview = tmp_path / "scaleway-paris.json"
    preview.write_text(json.dumps(preview_document("scaleway-paris")))
    private, public = _key(tmp_path)
    out = tmp_path / "reports"
    completed = _run(
        "--from-preview", str(preview), "--no-checkov", "--out", str(out), "--sign-key", str(private)
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    predicate = json.loads((out / "evidence" / evidence.MANIFEST).read_text())["predicate"]
    roles = {m["role"]: m for m in predicate["inputs"]}
    assert roles["preview"]["sha256"] == evidence.sha256_file(preview)
    assert roles["exceptions"]["path"] == "policies/exceptions.yaml"
    assert _run("--verify-evidence", str(out), "--public-key", str(public)).returncode == 0
