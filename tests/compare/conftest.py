"""Fixtures for the comparison report: the shipped stacks' previews and one report built from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reporting.analysis import Assumptions
from reporting.facts import Facts, load
from reporting.report import Report, build, policy_auditor, render_html, render_markdown
from stacks.offline import run_preview, stack_names

REPORTS = Path(__file__).resolve().parents[2] / "reports" / "compare"


@pytest.fixture(scope="session")
def previews() -> dict[str, dict[str, Any]]:
    return {stack: run_preview(stack).document for stack in stack_names()}


@pytest.fixture(scope="session")
def facts() -> Facts:
    return load()


@pytest.fixture(scope="session")
def report(previews: dict[str, dict[str, Any]], facts: Facts) -> Report:
    return build(previews, facts, Assumptions(), policy_auditor(), generated="2026-11-23")


@pytest.fixture(scope="session")
def html(report: Report) -> str:
    return render_html(report)


@pytest.fixture(scope="session")
def markdown(report: Report) -> str:
    return render_markdown(report)
