"""The README's configuration table is generated from the config models and kept current."""

from __future__ import annotations

from scripts import config_table


def test_readme_table_is_current() -> None:
    current = config_table.README.read_text(encoding="utf-8")
    assert config_table.render(current) == current, "README.md is stale: run scripts/config_table.py"


def test_table_lists_every_key_of_the_models() -> None:
    table = config_table.table()
    for key in ("booking:target", "booking:xks.uriEndpoint", "booking:xks.keyIds.backups", "booking:sizes.webMaxScale",
                "booking:scalewayProjectId", "booking:xksSecretAccessKey"):  # fmt: skip
        assert f"`{key}`" in table


def test_a_stale_table_is_detected() -> None:
    current = config_table.README.read_text(encoding="utf-8")
    stale = current.replace("`booking:xks.uriPath`", "`booking:xks.path`")
    assert stale != current
    assert config_table.render(stale) != stale
