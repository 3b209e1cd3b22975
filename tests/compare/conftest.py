"""Fixtures for the comparison report: the shipped stacks' previews and reports built from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reporting.bom import Assumptions
from reporting.facts import Facts, load
from reporting.model import Report, build, policy_auditor
from reporting.render import render
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
    return build(previews, facts, Assumptions(), policy_auditor(), generated="2026-12-02")


@pytest.fixture(scope="session")
def pages(report: Report) -> dict[str, tuple[str, list[str]]]:
    """name -> (html, cited source ids): compare/summary in en/fr."""
    out = {}
    for lang in ("en", "fr"):
        suffix = "" if lang == "en" else ".fr"
        out[f"compare{suffix}"] = render(report, "report.html.j2", lang)
        out[f"summary{suffix}"] = render(report, "summary.html.j2", lang)
    return out
