"""A bad-input table per tool: every case refused with exit 2, one line naming the field or path,
no traceback, and no file left behind (temporaries included)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import ROOT, assert_refused, bad_stack_dir, left_behind, run_main, script

Setup = Callable[[Path], list[str]]


def _file(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return make


def _export(resources: Any = None, deployment: Any = None) -> str:
    document: dict[str, Any] = {"version": 3, "deployment": deployment}
    if deployment is None:
        document["deployment"] = {"resources": resources}
    return json.dumps(document)


_STATE = {"urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "type": "aws:s3/bucket:Bucket"}

#: (case, extra argv built in a scratch folder, text the one-line message must hold)
AUDIT_CASES: list[tuple[str, Setup, str]] = [
    ("export is a JSON list", lambda d: ["--from-export", str(_file("e.json", "[1, 2]")(d))],
     "must be a JSON object (pulumi stack export), not a list"),
    ("export is a JSON string", lambda d: ["--from-export", str(_file("e.json", '"x"')(d))],
     "not a str"),
    ("deployment is a list", lambda d: ["--from-export", str(_file("e.json", _export(deployment=[]))(d))],
     "deployment must be an object, not a list"),
    ("resources is an object", lambda d: ["--from-export", str(_file("e.json", _export(resources={}))(d))],
     "deployment.resources must be a list, not a dict"),
    ("inputs is a list", lambda d: ["--from-export", str(_file("e.json", _export([{**_STATE, "inputs": []}]))(d))],
     "deployment.resources[0].inputs must be an object, not list"),
    ("dependencies are numbers",
     lambda d: ["--from-export", str(_file("e.json", _export([{**_STATE, "dependencies": [1]}]))(d))],
     "deployment.resources[0].dependencies must be a list of URN strings"),
    ("binary file", lambda d: ["--from-export", str(_file("e.json", b"\x89PNG\r\n\x1a\n\xff\xfe")(d))],
     "not UTF-8 text"),
    ("JSON syntax error", lambda d: ["--from-export", str(_file("e.json", '{\n  "version": 3,\n}')(d))],
     "e.json:3:1: not valid JSON"),
    ("missing file", lambda d: ["--from-export", str(d / "absent.json")], "absent.json: no such file"),
    ("preview outputs is a string",
     lambda d: ["--from-preview", str(_file("p.json", json.dumps({"steps": [{"newState": {**_STATE, "outputs": "x"}}]}))(d))],
     "steps[0].newState.outputs must be an object, not str"),
    ("preview is a list", lambda d: ["--from-preview", str(_file("p.json", "[]")(d))],
     "a preview document must be a JSON object with a 'steps' list"),
    ("config YAML syntax error",
     lambda d: ["--from-preview", str(_file("p.json", '{"steps": []}')(d)), "--config", str(_file("c.yaml", "allowedRegions:\n  aws: [eu-west-3\n")(d))],
     "c.yaml:3:1: YAML syntax error"),
    ("config is a list",
     lambda d: ["--from-preview", str(_file("p.json", '{"steps": []}')(d)), "--config", str(_file("c.yaml", "- a\n")(d))],
     "must be a mapping of camelCase keys, not a list"),
    ("config unknown key",
     lambda d: ["--from-preview", str(_file("p.json", '{"steps": []}')(d)), "--config", str(_file("c.yaml", "allowedRegion: {}\n")(d))],
     "unknown policy config key 'allowedRegion' (known: allowedProviders, allowedRegions"),
    ("exceptions file missing",
     lambda d: ["--from-preview", str(_file("p.json", '{"steps": []}')(d)), "--exceptions", str(d / "none.yaml")],
     "none.yaml: no such file"),
    ("unknown stack", lambda d: ["--stack", "nope"], "unknown stack 'nope'"),
    ("unknown option", lambda d: ["--form-export", "x"], "unrecognized arguments: --form-export"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "setup", "expected"), AUDIT_CASES, ids=[c[0] for c in AUDIT_CASES])
def test_audit_refuses(
    case: str, setup: Setup, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del case
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outcome = run_main(script("audit"), [*setup(inputs), "--no-checkov", "--out", str(out)], capsys)
    assert_refused(outcome, expected)
    assert left_behind(out) == []


@pytest.mark.parametrize(
    ("case", "out", "expected"),
    [("out is a file", "file", "is a file, an output folder is expected"),
     ("out cannot be created", "/proc/1/no/such", "cannot create the folder")],
)  # fmt: skip
def test_audit_checks_out_before_any_work(
    case: str, out: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del case
    (tmp_path / "file").write_text("keep me")
    target = str(tmp_path / out) if out == "file" else out
    outcome = run_main(script("audit"), ["--stack", "aws-xks-paris", "--no-checkov", "--out", target], capsys)
    assert_refused(outcome, expected)
    assert (tmp_path / "file").read_text() == "keep me"


#: Stack files: (case, file text, message). The parser's own "<unicode string>" never shows.
STACK_FILE_CASES = [
    ("YAML syntax error", "config:\n  booking:target: aws\n  booking:region: [eu-west-3\n",
     "Pulumi.bad.yaml:4:1: YAML syntax error"),
    ("config is a list", "config:\n  - booking:target\n", "Pulumi.bad.yaml:1: 'config' must be a mapping"),
    ("file is a list", "- config\n", "must be a YAML mapping with a 'config' mapping, not a list"),
    ("unknown top-level key", "confg:\n  booking:target: aws\n", "unknown top-level key(s) confg (known: config"),
]  # fmt: skip


@pytest.mark.parametrize("case", STACK_FILE_CASES, ids=[c[0] for c in STACK_FILE_CASES])
@pytest.mark.parametrize("tool", ["audit", "preview", "compare"])
def test_stack_file_errors_name_file_and_line(
    tool: str, case: tuple[str, str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _, text, expected = case
    path = bad_stack_dir(tmp_path, monkeypatch, text)
    out = tmp_path / "out"
    argv = {
        "audit": ["--stack", "bad", "--no-checkov", "--out", str(out)],
        "preview": ["--stack", "bad", "--json", str(out / "bad.json")],
        "compare": ["--stacks", "bad", "--out", str(out)],
    }[tool]
    outcome = run_main(script(tool), argv, capsys)
    assert_refused(outcome, expected)
    assert str(path) in outcome.err
    assert left_behind(out) == []


PREVIEW_CASES = [
    ("unknown stack", ["--stack", "nope"], "unknown stack 'nope'"),
    ("json folder cannot be created", ["--stack", "keystore-paris", "--json", "/proc/1/x/y.json"], "--json /proc/1/x"),
    ("unknown option", ["--stacks", "x"], "unrecognized arguments"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "argv", "expected"), PREVIEW_CASES, ids=[c[0] for c in PREVIEW_CASES])
def test_preview_refuses(
    case: str, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    del case
    assert_refused(run_main(script("preview"), argv, capsys), expected)


def test_preview_json_into_a_folder_leaves_no_temporary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_main(
        script("preview"), ["--stack", "keystore-paris", "--json", str(tmp_path), "--quiet"], capsys
    )
    assert outcome.code == 0, outcome.err
    assert left_behind(tmp_path) == ["keystore-paris.json"]
    assert json.loads((tmp_path / "keystore-paris.json").read_text())["steps"]


COMPARE_CASES = [
    ("out is a file", ["--out", "{file}"], "is a file, an output folder is expected"),
    ("unknown stack", ["--stacks", "nope"], "--stacks: unknown stack(s) nope"),
    ("empty stack list", ["--stacks", ","], "(none given)"),
    ("negative load", ["--appointments-per-month", "-1"], "--appointments-per-month must be zero or more"),
    ("load not a number", ["--appointments-per-month", "many"], "invalid int value: 'many'"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "argv", "expected"), COMPARE_CASES, ids=[c[0] for c in COMPARE_CASES])
def test_compare_refuses_before_any_work(
    case: str, argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del case
    (tmp_path / "file").write_text("keep me")
    argv = [a.replace("{file}", str(tmp_path / "file")) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    assert_refused(run_main(script("compare"), argv, capsys), expected)
    assert left_behind(tmp_path) == ["file"]


VERIFY_CASES = [
    ("empty region list", ["--regions", ","], "--regions ',': no region given"),
    ("out is a file", ["--out", "{file}"], "is a file, an output folder is expected"),
    ("config YAML syntax error", ["--config", "{bad_yaml}"], "bad.yaml:3:1: YAML syntax error"),
    ("xks credentials not JSON", ["--xks-credentials", "{file}"], "--xks-credentials"),
    ("xks credentials without the secret", ["--xks-credentials", "{creds}"], "RawSecretAccessKey"),
    ("unreachable endpoint", ["--endpoint-url", "http://127.0.0.1:9"], "cannot identify the account at http://127.0.0.1:9"),
    ("unknown target", ["--target", "azure"], "invalid choice: 'azure'"),
    ("no worker", ["--workers", "0"], "--workers: must be a whole number from 1 to 64 (got 0)"),
    ("workers not a number", ["--workers", "many"], "--workers: must be a whole number from 1 to 64 (got 'many')"),
]  # fmt: skip


@pytest.mark.parametrize("case", VERIFY_CASES, ids=[c[0] for c in VERIFY_CASES])
def test_verify_refuses_before_reading(
    case: tuple[str, list[str], str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _, argv, expected = case
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    (tmp_path / "file").write_text("keep me")
    (tmp_path / "bad.yaml").write_text("allowedRegions:\n[\n")
    (tmp_path / "creds.json").write_text('{"XksProxyAuthenticationCredential": {"AccessKeyId": "A"}}')
    names = {"{file}": "file", "{bad_yaml}": "bad.yaml", "{creds}": "creds.json"}
    argv = [str(tmp_path / names[a]) if a in names else a for a in argv]
    if "--target" not in argv:
        argv = ["--target", "aws", *argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    assert_refused(run_main(script("verify"), [*argv, "--quiet"], capsys), expected)
    assert left_behind(tmp_path / "out") == []


XKS_CASES = [
    ("credentials missing", ["--credentials", "{absent}"], "--credentials"),
    ("credentials not JSON", ["--credentials", "{file}"], "--credentials"),
    ("client cert without key", ["--credentials", "{creds}", "--uri-path", "/kms/xks/v1", "--client-cert", "c.pem"],
     "--client-cert and --client-key go together"),
    ("key id missing", [], "the following arguments are required: --key-id"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "argv", "expected"), XKS_CASES, ids=[c[0] for c in XKS_CASES])
def test_xks_check_refuses(
    case: str, argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not json")
    (tmp_path / "creds.json").write_text(
        '{"XksProxyAuthenticationCredential": {"AccessKeyId": "AKIAEXAMPLE", "RawSecretAccessKey": "c2VjcmV0"}}'
    )
    names = {"{file}": "file", "{creds}": "creds.json", "{absent}": "absent.json"}
    argv = [str(tmp_path / names[a]) if a in names else a for a in argv]
    base = ["--endpoint", "https://127.0.0.1:9"] + (
        [] if "key id missing" in argv or not argv else ["--key-id", "k"]
    )
    assert_refused(run_main(script("xks_check"), [*base, *argv], capsys), expected)


@pytest.mark.parametrize("tool", ["audit", "preview", "compare", "verify", "xks_check"])
def test_help_states_the_exit_codes(tool: str) -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / f"{tool}.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    text = " ".join(completed.stdout.split())
    assert (
        "0 pass; 1 a mandatory rule fails; 2 bad input or usage; 3 incomplete read; 4 internal error" in text
    )
    assert "--debug" in text


def test_a_real_process_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("[]")
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts/audit.py"), "--from-export", str(tmp_path / "e.json"),
         "--no-checkov", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr


def test_internal_error_is_one_line_and_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = script("audit")

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("rule crashed\nsecond line")

    monkeypatch.setattr(audit, "audit_stack", broken)
    (tmp_path / "p.json").write_text('{"steps": []}')
    argv = ["--from-preview", str(tmp_path / "p.json"), "--no-checkov", "--out", str(tmp_path / "out")]
    outcome = run_main(audit, argv, capsys)
    assert_refused(outcome, "internal error: RuntimeError: rule crashed second line", code=4)
    debug = run_main(audit, [*argv, "--debug"], capsys)
    assert debug.code == 4 and "Traceback" in debug.err
