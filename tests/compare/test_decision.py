"""The matrix: one scale, a legal gate, each fact feeding one criterion, recomputed from edited weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from facts.tokens import CUSTOM_KEY_STORE, GCP_KMS_KEY
from reporting.answer import answers
from reporting.bom import Assumptions
from reporting.cost import CostRange
from reporting.decision import matrix
from reporting.facts import DATA_DIR, ExposureCell, FailoverMeasure, load
from reporting.model import Column, Report, build, policy_auditor


def column(report: Report, key: str) -> Column:
    return next(c for c in report.columns if c.key == key)


def with_column(report: Report, changed: Column) -> Report:
    return dataclasses.replace(
        report, columns=[changed if c.key == changed.key else c for c in report.columns]
    )


def with_facts(report: Report, **changes: Any) -> Report:
    return dataclasses.replace(report, facts=report.facts.model_copy(update=changes))


def moved(before: Report, after: Report) -> set[tuple[str, str]]:
    """(option, criterion) pairs whose score changed."""
    a, b = matrix(before), matrix(after)
    return {
        (option, crit)
        for option, row in a.scores.items()
        for crit, score in row.items()
        if score.value != b.scores[option][crit].value
    }


def test_an_option_answered_no_is_not_ranked(report: Report) -> None:
    result = matrix(report)
    found = answers(report)
    for key, ans in found.items():
        assert result.eligible[key] == (ans.verdict != "no")
        assert (key in result.ranking) == result.eligible[key]
    assert result.ranking == sorted(result.ranking, key=lambda k: -result.totals[k])


def test_no_weighted_criterion_is_equal_for_all_options_unless_its_facts_are(report: Report) -> None:
    result = matrix(report)
    weights = {key: used for key, _l, _w, _g, used in result.criteria}
    for crit, used in weights.items():
        if not used:
            continue
        values = {result.scores[k][crit].value for k in result.scores}
        facts = {result.scores[k][crit].facts for k in result.scores}
        if len(values) == 1:
            assert len(facts) == 1, crit


def test_an_exposure_moves_jurisdiction_only(report: Report) -> None:
    laws = list(report.facts.legal.exposures)
    cell = laws[0].cells["aws"]
    flipped = cell.model_copy(update={"status": "not-exposed"})
    assert isinstance(flipped, ExposureCell)
    laws[0] = laws[0].model_copy(update={"cells": {**laws[0].cells, "aws": flipped}})
    legal = report.facts.legal.model_copy(update={"exposures": tuple(laws)})
    assert moved(report, with_facts(report, legal=legal)) == {("A", "jurisdiction")}


def test_a_store_without_a_customer_key_moves_custody_only(report: Report) -> None:
    c = column(report, "C")
    assert c.custody is not None
    custody = dataclasses.replace(c.custody, unkeyed=[*c.custody.unkeyed, "logs (Bucket)"])
    assert moved(report, with_column(report, dataclasses.replace(c, custody=custody))) == {("C", "custody")}


def test_a_failed_failover_measurement_moves_availability_only(report: Report) -> None:
    a = column(report, "A")
    measured = a.facts.keystore_failover
    assert isinstance(measured, FailoverMeasure)
    worse = a.facts.model_copy(
        update={"keystore_failover": measured.model_copy(update={"failed_after_kill": 12})}
    )
    assert moved(report, with_column(report, dataclasses.replace(a, facts=worse))) == {("A", "availability")}


def test_an_unmeasured_failover_scores_lowest(report: Report) -> None:
    a = column(report, "A")
    unmeasured = a.facts.model_copy(update={"keystore_failover": None})
    after = matrix(with_column(report, dataclasses.replace(a, facts=unmeasured)))
    assert (after.scores["A"]["availability"].value or 0.0) < (
        matrix(report).scores["A"]["availability"].value or 0.0
    )


def test_customer_held_keys_in_the_config_move_custody_only(report: Report) -> None:
    """S3NS keys under EXTERNAL_VPC in the stack config: the customer holds the material and can cut
    access (custody); the request path is read from the stack's resources, so nothing else moves."""
    c = column(report, "C")
    assert c.option is not None
    option = dataclasses.replace(
        c.option, config={**c.option.config, "booking:keyProtectionLevel": "EXTERNAL_VPC"}
    )
    after = with_column(report, dataclasses.replace(c, option=option))
    assert moved(report, after) == {("C", "custody")}
    assert matrix(after).scores["C"]["custody"].value == 1.0


def test_an_ekm_backend_in_the_request_path_moves_availability_only(report: Report) -> None:
    """Keys whose backend is a Cloud EKM connection put the ministry's key manager in the path of every
    decryption: one more operator (availability); who holds the material is custody's fact."""
    c = column(report, "C")
    assert c.option is not None
    backend = "projects/s3ns:p/locations/u-france-east1/ekmConnections/booking-keys-ekm"
    states = [
        {**s, "inputs": {**s.get("inputs", {}), "cryptoKeyBackend": backend}}
        if s["type"] == GCP_KMS_KEY
        else s
        for s in c.option.states
    ]
    after = with_column(report, dataclasses.replace(c, option=dataclasses.replace(c.option, states=states)))
    assert moved(report, after) == {("C", "availability")}
    assert matrix(after).scores["C"]["availability"].facts[0] == ("gcp", "external key manager")


def test_the_xks_proxy_in_the_request_path_moves_availability_only(report: Report) -> None:
    """Without a proxy endpoint on A's external key store, the proxy host and the HSM leave the request
    path: availability moves to a single operator; the key holder (custody) does not move."""
    a = column(report, "A")
    assert a.option is not None
    assert matrix(report).scores["A"]["availability"].facts[0] == (
        "aws",
        "keystore-paris host",
        "key custodian HSM",
    )
    states = [
        {**s, "inputs": {k: v for k, v in s.get("inputs", {}).items() if k != "xksProxyUriEndpoint"}}
        if s["type"] == CUSTOM_KEY_STORE
        else s
        for s in a.option.states
    ]
    after = with_column(report, dataclasses.replace(a, option=dataclasses.replace(a.option, states=states)))
    assert moved(report, after) == {("A", "availability")}
    assert matrix(after).scores["A"]["availability"].value == 1.0


@pytest.mark.parametrize("fact", ["standard_formats", "swipo_declared", "extra_custody_to_unwind"])
def test_an_exit_fact_moves_reversibility_only(report: Report, fact: str) -> None:
    plans = dict(report.facts.exit.targets)
    plan = plans["scaleway"]
    plans["scaleway"] = plan.model_copy(update={fact: not getattr(plan, fact)})
    exit_facts = report.facts.exit.model_copy(update={"targets": plans})
    assert moved(report, with_facts(report, exit=exit_facts)) == {("B", "exit")}


def complete_costs(report: Report, keys: tuple[str, ...] = ("A", "B", "C")) -> Report:
    """The report with every unpriced line of the named options dropped: their totals complete."""
    columns = [
        dataclasses.replace(c, cost=CostRange(lines=[line for line in c.cost.lines if line.priced]))
        if c.key in keys
        else c
        for c in report.columns
    ]
    return dataclasses.replace(report, columns=columns)


def test_cost_is_scored_with_its_weight_once_every_total_is_complete(report: Report) -> None:
    """The cost rule is deliberate both ways: scored (cheapest 1, others by ratio) with its given weight
    when every option has a complete total; left out while any one is incomplete."""
    after = complete_costs(report)
    result = matrix(after)
    assert "cost-withheld" not in result.notes
    assert moved(report, after) == {("A", "cost"), ("B", "cost"), ("C", "cost")}
    used = {key: weight for key, _label, _why, _given, weight in result.criteria}
    given = {key: g for key, _label, _why, g, _used in result.criteria}
    assert used["cost"] == round(100 * given["cost"] / sum(given.values()), 1) > 0
    values = {k: row["cost"].value for k, row in result.scores.items()}
    assert max(v or 0.0 for v in values.values()) == 1.0 and all(v is not None for v in values.values())
    # One incomplete total is enough to leave cost out for every option.
    partial = matrix(complete_costs(report, ("A", "B")))
    assert "cost-withheld" in partial.notes
    assert all(row["cost"].value is None for row in partial.scores.values())


def test_matrix_recomputes_from_an_edited_weights_file(tmp_path: Path, previews, report: Report) -> None:  # type: ignore[no-untyped-def]
    before = matrix(report)
    document = yaml.safe_load((DATA_DIR / "facts/weights.yaml").read_text(encoding="utf-8"))
    for criterion in document["criteria"]:
        criterion["weight"] = 1 if criterion["key"] == "custody" else 0
    edited = tmp_path / "weights.yaml"
    edited.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    other = build(previews, load(weights=edited), Assumptions(), policy_auditor(), generated="2026-12-05")
    after = matrix(other)
    assert after.totals != before.totals
    for key, row in after.scores.items():
        assert after.totals[key] == round(100 * (row["custody"].value or 0.0), 1)


def test_cost_is_left_out_while_no_total_is_complete(report: Report) -> None:
    result = matrix(report)
    assert "cost-withheld" in result.notes
    used = {key: weight for key, _label, _why, _given, weight in result.criteria}
    assert used["cost"] == 0.0 and round(sum(used.values())) == 100


def test_external_protection_level_on_every_key_is_customer_custody(report: Report) -> None:
    """Read from the keys themselves too: S3NS keys whose versions are EXTERNAL_VPC hold no provider
    material, whatever the stack config says."""
    c = column(report, "C")
    assert c.option is not None
    states = [
        {**s, "inputs": {**s.get("inputs", {}), "versionTemplate": {"protectionLevel": "EXTERNAL_VPC"}}}
        if s["type"] == GCP_KMS_KEY
        else s
        for s in c.option.states
    ]
    option = dataclasses.replace(c.option, states=states)
    after = matrix(with_column(report, dataclasses.replace(c, option=option)))
    assert after.scores["C"]["custody"].facts[0] == "customer-hsm"
    assert matrix(report).scores["C"]["custody"].facts[0] == "provider"
