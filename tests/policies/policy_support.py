"""Helpers shared by the policy tests (imported by name: tests/policies is on sys.path under pytest)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_CACHE: dict[str, dict[str, Any]] = {}


def preview_document(stack: str) -> dict[str, Any]:
    """A fresh copy of the stack's offline preview (the program under mocks), computed once."""
    if stack not in _CACHE:
        from stacks.offline import run_preview

        _CACHE[stack] = run_preview(stack).document
    return copy.deepcopy(_CACHE[stack])
