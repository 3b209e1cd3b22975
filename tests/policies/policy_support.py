"""Helpers shared by the policy tests ."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

_CACHE: dict[str, dict[str, Any]] = {}


def preview_document(stack: str) -> dict[str, Any]:
    """A fresh copy of the stack's offline preview (the program under mocks), computed once."""
    if stack not in _CACHE:
        from stacks.offline import run_preview

        _CACHE[stack] = run_preview(stack).document
    return copy.deepcopy(_CACHE[stack])


def as_export(document: dict[str, Any]) -> dict[str, Any]:
    """The preview as `pulumi stack export` would show the deployed stack (version 3)."""
    resources = []
    for step in document["steps"]:
        state = step["newState"]
        resources.append(
            {
                "urn": state["urn"], "type": state["type"], "custom": state["custom"],
                "id": (state.get("outputs") or {}).get("id", ""), "inputs": state["inputs"],
                "outputs": state.get("outputs") or state["inputs"], "parent": state.get("parent", ""),
                "provider": state.get("provider", ""), "dependencies": state.get("dependencies", []),
            }
        )  # fmt: skip
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def stack_config(document: dict[str, Any]) -> dict[str, Any]:
    """The stack configuration a preview carries: what an export-form audit is given beside the export."""
    return dict(document.get("config") or {})


def mandatory_failures(result: Any) -> set[str]:
    """The ids of the rules an audit result fails with a mandatory finding."""
    return {f.rule_id for f in result.failed if f.mandatory}
