"""Adapter from the preview document: ``pulumi preview --json`` and the offline preview alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.inputs.common import build_resources
from policies.model import Stack


class AdapterError(ValueError):
    """The input file is not in the expected format."""


def stack_from_preview(document: Mapping[str, Any], stack: str) -> Stack:
    """A Stack from ``{"config": {...}, "steps": [{"op", "urn", "newState": {...}}]}``.

    Steps that delete a resource have no ``newState`` and are not part of the stack to come; a
    replacement shows several steps for one URN, of which the last state wins.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("steps"), list):
        raise AdapterError(
            "a preview document must be a JSON object with a 'steps' list (pulumi preview --json)"
        )
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise AdapterError("the preview document's 'config' must be an object")
    states: dict[str, Mapping[str, Any]] = {}
    for index, step in enumerate(document["steps"]):
        if not isinstance(step, Mapping):
            raise AdapterError(f"steps[{index}] is not an object")
        state = step.get("newState")
        if step.get("op") in ("delete", "delete-replaced", "discard", "discard-replaced") or not state:
            continue
        if not isinstance(state, Mapping) or "urn" not in state or "type" not in state:
            raise AdapterError(f"steps[{index}].newState must carry 'urn' and 'type'")
        states[str(state["urn"])] = state
    secret_keys = frozenset(k for k, v in config.items() if v == "[secret]")
    return Stack(stack, build_resources(states.values(), config), dict(config), secret_keys)


def load_preview_file(path: Path, stack: str | None = None) -> Stack:
    """Reads a ``pulumi preview --json`` file; the stack name defaults to the one in the stack URN."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise AdapterError(f"{path}: cannot read a preview document: {error}") from error
    return stack_from_preview(document, stack or _stack_name(document) or path.stem)


def _stack_name(document: Mapping[str, Any]) -> str | None:
    for step in document.get("steps") or ():
        urn = str(step.get("urn", "")) if isinstance(step, Mapping) else ""
        if urn.startswith("urn:pulumi:"):
            return urn.split("::", 1)[0][len("urn:pulumi:") :]
    return None
