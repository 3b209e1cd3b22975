"""drill.json and drill.md for the kill-switch drill, written atomically, with AWS's cached-key delays."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from facts.resources import data_dir

FACTS = data_dir() / "facts" / "cached_data_keys.yaml"


class OutputDirError(ValueError):
    """The output directory cannot be written; the message says why."""


class OutputDir:
    """Checked before the drill runs, so a long drill never ends on an unwritable path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
                pass
        except OSError as exc:
            raise OutputDirError(f"{path}: cannot write there ({exc.strerror or exc})") from None

    def write(self, name: str, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def cached_key_facts() -> dict[str, Any]:
    doc = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    sources = doc["sources"]
    return {
        "file": "data/facts/cached_data_keys.yaml",
        "services": [
            {**svc, "sources": [{"id": s, **sources[s]} for s in svc["sources"]]} for svc in doc["services"]
        ],
    }


def _ms(value: Any) -> str:
    return "never (within the wait)" if value is None else f"{value} ms"


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Kill-switch drill",
        "",
        f"Run {result['finished']} — mode **{result['mode']}** — result **{'PASS' if result['ok'] else 'FAIL'}**.",
        "",
        f"> {result.get('simulation', '')}",
        "",
    ]
    if result["mode"] == "local":
        lines += [
            f"{result['records']} synthetic booking records, each under its own data key wrapped by external key "
            f"`{result['keyId']}`; {result['readableBefore']} readable before any switch.",
            "",
            "| switch | action | time to effect at the proxy | XKS error KMS receives | KMS returns | all XKS answers seen | readable after | undo | readable after undo | ok |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in result["switches"]:
            err = s["xksError"] or {}
            status = (
                f"{err.get('httpStatus')} {err.get('errorName')}"
                if err.get("httpStatus")
                else err.get("errorName", "-")
            )
            lines.append(
                f"| ({s['id']}) {s['name']} | `{s['action']}` | {_ms(s['timeToEffectMs'])} | {status} | "
                f"{err.get('kmsException', '-')} | {', '.join(s['xksAnswersSeen'])} | "
                f"{s['readableAfter']}/{result['records']} | {s['undoAction']}"
                f"{' (' + _ms(s.get('timeToRestoreMs')) + ')' if s['reversible'] else ''} | "
                f"{s['readableAfterUndo']}/{result['records']} | {'yes' if s['ok'] else 'NO'} |"
            )
        lines += [
            "",
            "Time to effect is measured from the end of the switch action to the first read refused at the proxy. "
            "For (a) and (c) the HSM itself refuses at once; the proxy's key-state cache (proxyKeyCacheS) only "
            'delays which error it names: "XKS error KMS receives" is the answer once the cache has expired, '
            '"all XKS answers seen" lists every answer during the switch and its undo. Switch (c) is not '
            "reversible: a key re-created under the same id is new key material, and the records stay unreadable.",
        ]
    else:
        lines += ["| step | result | seconds |", "|---|---|---|"]
        lines += [f"| {s['step']} | {s['result']} | {s.get('seconds', '-')} |" for s in result["steps"]]
    lines += [
        "",
        "## How long AWS services may keep working after a switch",
        "",
        "The switches above bite at the proxy at once; AWS services that already hold a plaintext data key "
        "keep using it until they next need the KMS key. From AWS's documentation:",
        "",
        "| service | keeps working? | bound | sources |",
        "|---|---|---|---|",
    ]
    for svc in result["awsCachedDataKeys"]["services"]:
        refs = "; ".join(f"[{s['title']}]({s['url']}) (retrieved {s['retrieved']})" for s in svc["sources"])
        lines.append(f"| {svc['service']} | {svc['keeps_working']} | {svc['bound']} | {refs} |")
    return "\n".join(lines) + "\n"


def write_report(out: OutputDir, result: dict[str, Any]) -> None:
    result = {
        **result,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "awsCachedDataKeys": cached_key_facts(),
    }
    out.write("drill.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    out.write("drill.md", _markdown(result))
