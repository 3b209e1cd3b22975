"""Fixtures: the offline preview of every shipped stack, computed once per session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.policy_support import preview_document


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
