"""French justifications of the exceptions register: shown when they translate the English as it is,
never when the English has changed since; a malformed translations file stops with one line."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from policies.exceptions import load as load_register
from reporting.facts import FactsError
from reporting.justifications import digest, french, load
from reporting.model import Report


def test_each_current_translation_is_shown_on_the_french_full_report(
    report: Report, pages: dict[str, tuple[str, list[str]]]
) -> None:
    """Every exception of the report whose English justification has a current translation shows it."""
    table = load()
    known = {(e.rule, digest(e.justification)) for e in load_register()}
    assert set(table) & known, "no register entry has a current French justification"
    page = html.unescape(re.sub(r"<[^>]+>", " ", pages["compare.fr"][0]))
    page = " ".join(page.replace("\u00a0", " ").replace("\u202f", " ").split())
    shown = 0
    for column in report.columns:
        assert column.policy is not None, column.key
        for finding in column.policy.excepted:
            text = french(str(finding["rule_id"]), str(finding["justification"]), table)
            if text is not None:
                # The typography filter puts a no-break space before ':' and ';': compared with spaces.
                assert " ".join(text.split()) in page, finding["rule_id"]
                shown += 1
    assert shown, "the report shows no translated exception"


def test_a_changed_english_justification_is_not_shown_in_stale_french(tmp_path: Path) -> None:
    english = "Keys of an external key store cannot rotate automatically."
    path = tmp_path / "fr.yaml"
    path.write_text(
        "justifications:\n"
        f"  - rule: CKV_AWS_7\n    en_sha256: '{digest(english)}'\n    fr: Les clés ne tournent pas.\n",
        encoding="utf-8",
    )
    table = load(path)
    assert french("CKV_AWS_7", english, table) == "Les clés ne tournent pas."
    assert french("CKV_AWS_7", "  Keys of an external key store\n cannot rotate automatically. ", table)
    assert french("CKV_AWS_7", english + " Now also X.", table) is None  # the English changed
    assert french("CKV_AWS_91", english, table) is None  # another rule


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("justifications: [{rule: X, en_sha256: nothex, fr: t}]", "justifications.0.en_sha256"),
        ("justifications: [{rule: X, en_sha256: 0123456789abcdef}]", "justifications.0.fr"),
        (
            "justifications: [{rule: X, en_sha256: 0123456789abcdef, fr: t, lang: en}]",
            "justifications.0.lang",
        ),
        (
            "justifications: [{rule: X, en_sha256: 0123456789abcdef, fr: a},"
            " {rule: X, en_sha256: 0123456789abcdef, fr: b}]",
            "translated twice",
        ),
        ("justifications: [", "not valid YAML"),
    ],
)
def test_a_malformed_translations_file_stops_with_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "fr.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FactsError) as caught:
        load(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
