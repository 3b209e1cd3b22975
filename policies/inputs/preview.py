"""Adapter from the preview document: ``pulumi preview --json`` and the offline preview alike."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.inputs.common import AdapterError, build_resources, check_state

__all__ = ["AdapterError", "load_preview_file", "stack_from_preview"]
from policies.model import Stack
from tooling.cli import BadInputError, read_json


def stack_from_preview(document: Mapping[str, Any], stack: str) -> Stack:
    """A Stack from ``{"config": {...}, "steps": [{"op", "urn", "newState": {...}}]}``.

    Steps that delete a resource have no ``newState`` and are not part of the stack to come; a
    replacement shows several steps for one URN, of which the last state wins.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("steps"), list):
        raise AdapterError(
            "a preview document must be a JSON object with a 'steps' list (pulumi preview --json), not "
            + (
                "null"
                if document is None
                else f"a {type(document).__name__}"
                if not isinstance(document, Mapping)
                else "an object without one"
            )
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
        states[str(check_state(state, f"steps[{index}].newState")["urn"])] = state
    secret_keys = frozenset(k for k, v in config.items() if v == "[secret]")
    return Stack(stack, build_resources(states.values(), config), dict(config), secret_keys, kind="preview")


def load_preview_file(path: Path, stack: str | None = None) -> Stack:
    """Reads a ``pulumi preview --json`` file; the stack name defaults to the one in the stack URN."""
    try:
        document = read_json(path, "preview document")
    except BadInputError as error:
        raise AdapterError(str(error)) from error
    name = stack or (_stack_name(document) if isinstance(document, Mapping) else None)
    try:
        return stack_from_preview(document, name or path.stem)  # type: ignore[arg-type]
    except AdapterError as error:
        raise AdapterError(f"preview document {path}: {error}") from error


def _stack_name(document: Mapping[str, Any]) -> str | None:
    steps = document.get("steps")
    for step in steps if isinstance(steps, list) else ():
        urn = str(step.get("urn", "")) if isinstance(step, Mapping) else ""
        if urn.startswith("urn:pulumi:"):
            return urn.split("::", 1)[0][len("urn:pulumi:") :]
    return None
