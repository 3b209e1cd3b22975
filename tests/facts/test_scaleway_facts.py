"""data/facts/scaleway.yaml: every row is sourced and dated, a row without a source is refused, and each
constraint is exercised by a test that breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from facts import scaleway

ROOT = Path(__file__).resolve().parents[2]

#: Where the test that breaks each constraint lives (a mutant, a refusal or a component test).
BROKEN_BY: dict[str, str] = {
    "lb-route-one-match": "tests/policies/scaleway_constraint_mutants.py",  # scw-route-host-and-path
    "iam-rule-scope": "tests/policies/scaleway_constraint_mutants.py",  # scw-iam-rule-unscoped
    "sse-kms-needs-key-permissions": "tests/policies/scaleway_constraint_mutants.py",  # without-key-encrypt
    "envelope-key-permissions": "tests/policies/scaleway_constraint_mutants.py",  # without-key-decrypt
    "secret-read-permission": "tests/policies/scaleway_constraint_mutants.py",  # without-secret-access
    "containers-no-private-ingress": "tests/scaleway/test_scaleway_platform.py",  # no LB backends
    "containers-reserved-environment": "tests/policies/scaleway_constraint_mutants.py",  # container-env-scw
    "containers-environment-size": "tests/scaleway/test_scaleway_platform.py",  # CA in a secret variable
    "containers-custom-domain-cname": "tests/scaleway/test_scaleway_platform.py",  # CNAME before binding
    "lb-letsencrypt-needs-dns": "tests/scaleway/test_scaleway_platform.py",  # no LB certificate requested
    "cockpit-retention": "tests/config/test_stack_config.py",  # logRetentionDays 1826 refused
    "key-manager-hsm-protection": "tests/scaleway/test_scaleway_platform.py",  # key_protection_level
    "zonal-products": "tests/policies/scaleway_constraint_mutants.py",  # keystore-single-zone-*
    "dns-health-checked-records": "tests/xks_proxy/test_keystore_component.py",  # health frontend
    "site-to-site-vpn": "tests/xks_proxy/test_keystore_component.py",  # hsmPath required, routing policy
}


def test_every_row_is_sourced_dated_and_broken_by_a_test() -> None:
    rows = scaleway.load()
    assert {row.id for row in rows} == set(BROKEN_BY)
    for row in rows:
        assert row.source.url.startswith("https://") and row.source.retrieved == "2026-12-05", row.id
        assert (ROOT / BROKEN_BY[row.id]).is_file()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scaleway.yaml"
    path.write_text(body)
    return path


def test_a_capability_without_a_source_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "constraints:\n  - {id: hsm-anywhere, kind: protection-level, type: t, levels: [hsm]}\n"
    )
    with pytest.raises(
        scaleway.ScalewayFactsError, match=r"scaleway\.yaml: constraints\.0\.source: Field required"
    ):
        scaleway.load(path)


def test_a_row_missing_what_its_kind_needs_is_refused(tmp_path: Path) -> None:
    source = (
        "{url: 'https://x.fr/a', retrieved: '2026-12-05', says: 'a quotation of the source, long enough'}"
    )
    path = _write(
        tmp_path, f"constraints:\n  - {{id: r, kind: argument-conflict, type: t, source: {source}}}\n"
    )
    with pytest.raises(scaleway.ScalewayFactsError, match="a argument-conflict row needs arguments"):
        scaleway.load(path)


def test_a_repeated_id_is_refused(tmp_path: Path) -> None:
    source = (
        "{url: 'https://x.fr/a', retrieved: '2026-12-05', says: 'a quotation of the source, long enough'}"
    )
    row = f"  - {{id: same, kind: zonal, types: [t], source: {source}}}\n"
    with pytest.raises(scaleway.ScalewayFactsError, match=r"\['same'\] appear more than once"):
        scaleway.load(_write(tmp_path, "constraints:\n" + row + row))


def test_an_unknown_use_is_refused_not_granted() -> None:
    with pytest.raises(scaleway.ScalewayFactsError, match="no permission-need row for use"):
        scaleway.permissions_for(("documents-read-write", "everything"))


def test_reserved_names_follow_the_row() -> None:
    assert scaleway.is_reserved_environment_name("SCW_SECRET_KEY")
    assert scaleway.is_reserved_environment_name("PORT")
    assert not scaleway.is_reserved_environment_name("DATABASE_PORT")
