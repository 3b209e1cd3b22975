"""The audit's HTML page in headless Chromium: no sideways scroll at 760 or 1280 px, rule ids never wrap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.audit import audit_stack
from policies.inputs.preview import stack_from_preview
from policies.outputs import reports
from tests.compare.cdp import CHROMIUM, SIDEWAYS, Browser
from tests.policies.policy_support import preview_document

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bootstrap installs it)")

#: An inline element that wraps has one client rect per line.
WRAPPED_IDS = "[...document.querySelectorAll('.rid')].filter(e => e.getClientRects().length > 1).map(e => e.textContent)"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    names = ("aws-xks-paris", "keystore-paris", "s3ns-secnumcloud", "scaleway-paris")
    results = [audit_stack(stack_from_preview(preview_document(n), n)) for n in names]
    path = tmp_path_factory.mktemp("html") / "index.html"
    path.write_text(reports.index_html(results), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.close()


@pytest.mark.parametrize("width", [1280, 760])
def test_audit_page_fits_and_rule_ids_stay_whole(browser: Browser, page: Path, width: int) -> None:
    browser.open(page, width)
    assert browser.evaluate(SIDEWAYS) <= 0, f"the audit page scrolls sideways at {width} px"
    assert browser.evaluate("document.querySelectorAll('.rid').length") > 100
    assert browser.evaluate(WRAPPED_IDS) == []
    assert browser.console_errors() == []
