"""Fixtures: the offline preview of every shipped stack, computed once per session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The policy tests import their helpers by name, and the project (policies, stacks) from the root.
for _path in (Path(__file__).resolve().parent, Path(__file__).resolve().parents[2]):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from policy_support import preview_document  # type: ignore[import-not-found]  # noqa: E402


@pytest.fixture(scope="session")
def stack_names() -> list[str]:
    from stacks.offline import stack_names as names

    return names()


@pytest.fixture
def aws_document() -> dict[str, Any]:
    document: dict[str, Any] = preview_document("aws-xks-paris")
    return document


@pytest.fixture
def scaleway_document() -> dict[str, Any]:
    document: dict[str, Any] = preview_document("scaleway-paris")
    return document
