"""Data files load as pydantic models; a bad one is a one-line error naming the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from reporting.facts import DATA_DIR, FactsError, load


@pytest.fixture
def data(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


def edit(path: Path, change: object) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def error_of(data: Path) -> str:
    with pytest.raises(FactsError) as caught:
        load(data)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_shipped_data_loads(data: Path) -> None:
    facts = load(data)
    assert [o.key for o in facts.options] == ["A", "B", "C"]


def test_source_without_retrieval_date(data: Path) -> None:
    edit(data / "facts/sources.yaml", lambda d: d["sources"]["cloud-act"].update(retrieved="recently"))
    message = error_of(data)
    assert "sources.yaml: sources.cloud-act.retrieved:" in message and "YYYY-MM-DD" in message


def test_unknown_source_id(data: Path) -> None:
    edit(
        data / "facts/legal.yaml",
        lambda d: d["exposures"][0]["cells"]["aws"].update(sources=["no-such-source"]),
    )
    message = error_of(data)
    assert (
        "legal.yaml" in message and "exposures.0.cells.aws.sources" in message and "no-such-source" in message
    )


def test_an_exposure_is_never_an_admissibility_verdict(data: Path) -> None:
    edit(
        data / "facts/legal.yaml",
        lambda d: d["exposures"][1]["cells"]["scaleway"].update(status="admissible"),
    )
    message = error_of(data)
    assert "legal.yaml" in message and "exposures.1.cells.scaleway.status" in message


def test_a_requirement_status_cannot_be_written_by_hand(data: Path) -> None:
    edit(data / "facts/legal.yaml", lambda d: d["requirements"][0].update(verdicts={"aws": "compliant"}))
    message = error_of(data)
    assert "legal.yaml" in message and "requirements.0.verdicts" in message


def test_hds_activities_are_numbered_one_to_six(data: Path) -> None:
    edit(data / "facts/decision.yaml", lambda d: d["hds_activities"]["used"].update(s3ns=[1, 7]))
    message = error_of(data)
    assert "decision.yaml" in message and "hds_activities.used" in message and "1 to 6" in message


def test_weights_have_one_scale(data: Path) -> None:
    edit(data / "facts/weights.yaml", lambda d: d["exposure_scores"].update(exposed=-0.5))
    message = error_of(data)
    assert "weights.yaml" in message and "exposure_scores" in message


def test_statement_without_sources(data: Path) -> None:
    edit(data / "facts/threats.yaml", lambda d: d["threats"][0]["cells"]["aws"].update(sources=[]))
    message = error_of(data)
    assert "threats.yaml" in message and "threats.0.cells.aws.sources" in message


def test_missing_french_text(data: Path) -> None:
    edit(data / "facts/options.yaml", lambda d: d["targets"]["aws"]["kill_switch"].pop("fr"))
    message = error_of(data)
    assert "options.yaml" in message and "targets.aws.kill_switch.fr" in message


def test_negative_weight(data: Path) -> None:
    edit(data / "facts/weights.yaml", lambda d: d["criteria"][0].update(weight=-1))
    message = error_of(data)
    assert "weights.yaml" in message and "criteria.0.weight" in message


def test_price_url_must_match_its_source(data: Path) -> None:
    edit(
        data / "prices/aws-eu-west-3.yaml",
        lambda d: d["prices"]["alb-hour"].update(url="https://example.org/"),
    )
    message = error_of(data)
    assert "aws-eu-west-3.yaml" in message and "prices.alb-hour.url" in message


def test_not_yaml(data: Path) -> None:
    (data / "facts/exit.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    message = error_of(data)
    assert "exit.yaml" in message and "not valid YAML" in message
