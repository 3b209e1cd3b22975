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
