"""Cost arithmetic on a small hand-checked case, and clear errors on bad input."""

from __future__ import annotations

import copy
import shutil
from html import escape
from pathlib import Path
from typing import Any

import pytest

from reporting.analysis import Assumptions, Quantity, bill_of_materials, option_from_preview
from reporting.cost import price_bill
from reporting.facts import DATA_DIR, Facts, FactsError, Price, PriceBook, load, provider_allow_list
from reporting.report import Report
from scripts.compare import main

Previews = dict[str, dict[str, Any]]


def price(key: str, value: float | None, free: float = 0.0) -> Price:
    return Price(
        key,
        value,
        "unit",
        "provider",
        "project-cost-model",
        "reporting/cost.py",
        "2026-11-23",
        free_per_month=free,
    )


def test_hand_checked_bill() -> None:
    book = PriceBook(
        "test",
        "here",
        "EUR",
        {
            "cpu": price("cpu", 0.00001, free=200_000),
            "req": price("req", 0.03, free=20_000),
            "db": price("db", None),
        },
    )
    quantities = [
        Quantity("compute", "a", 150_000, "vCPU-s", "cpu", ""),  # all inside the free tier
        Quantity("compute", "b", 150_000, "vCPU-s", "cpu", ""),  # 100,000 left over: 100,000 x 0.00001 = 1.00
        Quantity("keys", "kms", 1_000, "10k requests", "req", ""),  # 1,000 - 2 free = 998 x 0.03 = 29.94
        Quantity("data", "db", 2, "node-months", "db", ""),  # not priced
    ]
    bill = price_bill("s", quantities, book)
    assert [line.amount for line in bill.lines] == [0.0, 1.0, 29.94, None]
    assert bill.total == 30.94
    assert len(bill.unpriced) == 1
    assert bill.by_category() == {"compute": 1.0, "keys": 29.94}


def test_load_drives_the_bill(previews: Previews) -> None:
    option = option_from_preview("aws-xks-paris", previews["aws-xks-paris"])
    low = {q.item: q.quantity for q in bill_of_materials(option, Assumptions(appointments_per_month=0))}
    high = {
        q.item: q.quantity for q in bill_of_materials(option, Assumptions(appointments_per_month=10_000_000))
    }
    assert low["KMS requests"] == 0 and high["KMS requests"] == 2_000  # 10M x 2 / 10k
    assert high["NAT gateways x3"] == low["NAT gateways x3"] == 3 * 730  # from the preview, not the load
    scaleway = option_from_preview("scaleway-paris", previews["scaleway-paris"])
    scw_high = {
        q.item: q.quantity
        for q in bill_of_materials(scaleway, Assumptions(appointments_per_month=10_000_000))
    }
    assert scw_high["Key Manager requests"] == high["KMS requests"]  # same load model on both options


def test_fargate_quantities_come_from_the_preview(previews: Previews) -> None:
    option = option_from_preview("aws-xks-paris", previews["aws-xks-paris"])
    lines = {q.item: q.quantity for q in bill_of_materials(option, Assumptions())}
    assert lines["Fargate booking-service-api: 3 x 1 vCPU"] == 3 * 1 * 730
    assert lines["RDS db.m6g.large Multi-AZ"] == 2 * 730


def test_unknown_stack_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stacks", "nowhere-paris", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown stack(s) nowhere-paris" in err and "aws-xks-paris" in err


def test_negative_load_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--appointments-per-month", "-5", "--out", str(tmp_path)]) == 2
    assert "--appointments-per-month must be zero or more, not -5" in capsys.readouterr().err


@pytest.mark.parametrize(
    "case",
    [
        ("prices/aws-eu-west-3.yaml", "price: 1.00", "price: -1", "'price' must be a non-negative number"),
        (
            "prices/aws-eu-west-3.yaml",
            "source: aws-kms-pricing",
            "source: invented",
            "unknown source id(s) invented",
        ),
        (
            "prices/scaleway-fr-par.yaml",
            "    basis: provider\n",
            "    basis: official\n",
            "basis must be one of",
        ),
        (
            "prices/aws-eu-west-3.yaml",
            "also: [aws-kms-pricing]",
            "also: [aws-kms-pricng]",
            "unknown source id(s) aws-kms-pricng",
        ),
        ("facts/threats.yaml", "status: partly", "status: safe-ish", "status 'safe-ish' is not one of"),
        ("facts/sources.yaml", "sources:", "sources: [", "not valid YAML"),
    ],
)
def test_malformed_data_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, str, str, str]
) -> None:
    file, old, new, message = case
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / file
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(FactsError, match=None) as error:
        load(data)
    assert message in str(error.value) and file.rsplit("/", 1)[-1] in str(error.value)
    assert main(["--data", str(data), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


def test_provider_allow_list_reads_the_facts() -> None:
    assert set(provider_allow_list()) >= {"aws", "scaleway", "pulumi", "random"}
    assert "aws" not in provider_allow_list(secnumcloud=True)
    assert "scaleway" not in provider_allow_list(secnumcloud=True)  # in progress, not qualified


def test_one_command_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "compare.html").stat().st_size > 10_000
    assert (tmp_path / "compare.md").read_text().startswith("# Hosting options")
    out = capsys.readouterr().out
    assert "aws-xks-paris: $" in out and "scaleway-paris: €" in out


def test_keystore_stack_joins_option_a_in_its_own_currency(previews: Previews, facts: Facts) -> None:
    from reporting.report import build, render_html, total_text

    server = "scaleway:instance/server:Server"
    host = {"type": "PRO2-XXS", "tags": ["xks-proxy", "hsm-kind=network-hsm"]}
    keystore = {
        "config": {"booking:target": "keystore", "booking:region": "fr-par"},
        "steps": [
            {
                "newState": {
                    "urn": f"urn:pulumi:ks::p::{server}::xks-a",
                    "type": server,
                    "custom": True,
                    "inputs": host,
                }
            }
        ],
    }
    report = build({**previews, "keystore-paris": keystore}, facts, Assumptions(), lambda _d, _s: None)
    aws = next(c for c in report.columns if c.option.target == "aws")
    assert len(report.columns) == 2 and report.keystore_stacks == ["keystore-paris"]
    lines = {line.quantity.item: line.amount for line in aws.extra_bills[0].lines}
    assert lines == {"Key store host xks-a (PRO2-XXS)": 40.95, "HSM (network-hsm)": None}
    # Dollars and euros are shown side by side, never added.
    assert aws.totals() == {"USD": aws.bill.total, "EUR": 40.95}
    assert total_text(aws) == f"${aws.bill.total:,.2f} + €40.95 (French key store keystore-paris)"
    html = render_html(report)
    assert "has no preview" not in html and "HSM (network-hsm)" in html


def test_a_size_missing_from_the_price_file_is_not_priced_with_another_size(
    previews: Previews, facts: Facts
) -> None:
    document = copy.deepcopy(previews["aws-xks-paris"])
    for step in document["steps"]:
        if step["newState"]["type"] == "aws:rds/instance:Instance":
            step["newState"]["inputs"]["instanceClass"] = "db.r6g.4xlarge"
    option = option_from_preview("aws-xks-paris", document)
    bill = price_bill("aws-xks-paris", bill_of_materials(option, Assumptions()), facts.price_book("aws"))
    database = next(line for line in bill.lines if line.quantity.item.startswith("RDS db.r6g.4xlarge"))
    assert database.amount is None and database.price.status_label == "no sourced price"
    assert "'db.r6g.4xlarge'" in database.price.note and "db.m6g.large" in database.price.note


def test_a_partial_bill_is_called_out_in_both_formats(html: str, markdown: str, report: Report) -> None:
    from reporting.report import _md, comparability

    notes = comparability(report.columns)
    unpriced = [item for c in report.columns for item in c.unpriced_items]
    assert unpriced, "the shipped price files leave lines unpriced; this test guards how that is said"
    assert all(any(item in note for note in notes) for item in unpriced)
    for note in notes:
        assert escape(note) in html
        assert f"- **{_md(note)}**" in markdown
