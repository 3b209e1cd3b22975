"""data/facts/aws.yaml: every row sourced, refused otherwise; the code reads it rather than copying it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from facts import aws

SHIPPED = aws.AWS_FILE


def _variant(tmp_path: Path, edit: dict[str, object] | None = None, drop: tuple[str, ...] = ()) -> Path:
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    for dotted in drop:
        *parents, last = dotted.split(".")
        node = document
        for part in parents:
            node = node[part]
        del node[last]
    for dotted, value in (edit or {}).items():
        *parents, last = dotted.split(".")
        node = document
        for part in parents:
            node = node[part]
        node[last] = value
    path = tmp_path / "aws.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_shipped_file_loads_with_primary_sources_only() -> None:
    facts = aws.load()
    assert facts.retrieved == "2026-12-05"
    for name, source in facts.sources.items():
        assert source.url.startswith("https://docs.aws.amazon.com/"), name


def test_a_capability_without_source_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, {"key_uses.cloudtrail.source": "a-blog-post"})
    with pytest.raises(aws.AwsFactsError, match=r"names no source of 'sources'.*key_uses.cloudtrail.source"):
        aws.load(path)


def test_a_source_without_what_it_says_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, drop=("sources.logs-kms.says",))
    with pytest.raises(aws.AwsFactsError, match=r"sources\.logs-kms\.says: Field required"):
        aws.load(path)


def test_a_principal_without_its_statements_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, {"key_uses.cloudtrail.statements": []})
    with pytest.raises(aws.AwsFactsError, match="principal and statements go together"):
        aws.load(path)


def test_an_unknown_use_or_placeholder_is_an_error_never_an_empty_policy() -> None:
    with pytest.raises(aws.AwsFactsError, match="unknown key use"):
        aws.key_policy_statements(["dynamodb-tables"], {"region": "eu-west-3", "account": "1"})
    with pytest.raises(aws.AwsFactsError, match="placeholder 'cluster'"):
        aws.key_policy_statements(["fargate-ephemeral-storage"], {"region": "eu-west-3", "account": "1"})


def test_the_platform_declares_only_known_uses_and_every_domain() -> None:
    from components.aws.platform import KEY_USES
    from facts.domains import DATA_DOMAINS

    assert set(KEY_USES) == set(DATA_DOMAINS)
    assert {u for uses in KEY_USES.values() for u in uses} <= set(aws.key_uses())


def test_the_proxy_default_client_certificate_mode_is_the_sourced_one() -> None:
    """xks_proxy is standalone (it cannot read facts/): its default is checked against the row here."""
    from xks_proxy import config as proxy_config

    row = aws.load().xks_client_certificate
    assert row.default == proxy_config.DEFAULT_CLIENT_CERTIFICATE
    assert set(proxy_config.CLIENT_CERTIFICATE_MODES) == set(row.allowed)
