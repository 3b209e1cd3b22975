"""Each shared fact is defined once (facts/ and data/facts/); a second definition fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from facts import domains, providers, s3ns, scaleway, tokens, xks
from policies import settings
from stacks import config as stack_config

ROOT = Path(__file__).resolve().parents[2]
#: Where facts may be defined; xks_proxy/ is standalone by design (it imports nothing of the project).
_HOME = ("facts/", "xks_proxy/", "tests/")


def _signatures() -> dict[str, str]:
    """The literal text a copy of each fact would contain, by fact name."""
    found = {
        f"facts.xks.{name}": pattern.pattern
        for name, pattern in vars(xks).items()
        if isinstance(pattern, re.Pattern)
    }
    found |= {f"facts.tokens.{name}": f'"{value}"' for name, value in vars(tokens).items() if name.isupper()}
    found["facts.domains.DATA_DOMAINS"] = ", ".join(f'"{d}"' for d in domains.DATA_DOMAINS[:3])
    found["facts.xks.CONNECTIVITY"] = ", ".join(f'"{c}"' for c in xks.CONNECTIVITY)
    for package, regions in providers.allowed_regions().items():
        found[f"regions of {package}"] = f'("{regions[0]}",)'
    found["engine packages of the allow-lists"] = '"pulumi-python", "random"'
    # Scaleway's permission sets and zonal types live in data/facts/scaleway.yaml only.
    for use, sets in scaleway.permission_needs().items():
        for name in sets:
            found[f"permission set {name} ({use})"] = f'"{name}"'
    found["facts.scaleway zonal types"] = ", ".join(f'"{t}"' for t in scaleway.zonal_types()[:2])
    # The S3NS universe (data/facts/s3ns.yaml): its domain, its key levels, its project-id prefix.
    found["s3ns universe_domain"] = f'"{s3ns.universe_domain()}"'
    found["s3ns kms_protection_levels"] = ", ".join(f'"{level}"' for level in s3ns.key_protection_levels())
    found["s3ns project_id pattern"] = s3ns.project_pattern().replace("\\", "")[:24]
    found["s3ns EXTERNAL_VPC"] = f'"{s3ns.EXTERNAL_VPC}"'
    return found


def copies(text: str, signatures: dict[str, str]) -> list[str]:
    return [fact for fact, signature in signatures.items() if signature in text]


def test_no_second_definition_of_a_shared_fact() -> None:
    signatures = _signatures()
    found = []
    for path in sorted(ROOT.glob("**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if (
            relative.startswith((*_HOME, "."))
            or "/." in relative
            or relative.startswith(("tools/", "build/"))
        ):
            continue
        found += [
            f"{relative}: copies {fact}" for fact in copies(path.read_text(encoding="utf-8"), signatures)
        ]
    assert found == []


@pytest.mark.parametrize(
    "copied",
    [
        '_URI_PATH = re.compile(r"^(/[a-zA-Z0-9/_-]+)?/kms/xks/v\\d{1,2}$")',
        'STORE = "aws:kms/customKeyStore:CustomKeyStore"',
        'DOMAINS = ("database", "documents", "logs", "secrets", "backups")',
        'REGIONS = {"aws": ("eu-west-3",), "scaleway": ("fr-par",)}',
        'ALLOWED = ("aws", "scaleway", "pulumi", "pulumi-python", "random", "tls")',
        'UNIVERSE = "s3nsapis.fr"',
        'LEVELS = ("SOFTWARE", "EXTERNAL_VPC")',
        'if level == "EXTERNAL_VPC":',
        'PROJECT = re.compile(r"^s3ns:[a-z][a-z0-9-]{4,28}[a-z0-9]$")',
    ],
)
def test_the_scan_recognises_a_copy(copied: str) -> None:
    assert copies(copied, _signatures())


def test_policy_defaults_and_stack_regions_are_the_facts_file() -> None:
    assert dict(settings.DEFAULT_ALLOWED_REGIONS) == providers.allowed_regions()
    assert providers.allowed_regions() == stack_config.ALLOWED_REGIONS
    assert providers.allow_list() == settings.DEFAULT_ALLOWED_PROVIDERS
    assert providers.allow_list(secnumcloud=True) == settings.DEFAULT_SECNUMCLOUD_PROVIDERS
    # Statuses decide, as sourced: both HDS-certified, neither SecNumCloud-qualified (Scaleway in progress).
    assert {"aws", "scaleway"} <= set(providers.allow_list())
    assert not {"aws", "scaleway"} & set(providers.allow_list(secnumcloud=True))


def test_a_qualified_provider_joins_the_secnumcloud_list(tmp_path: Path) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(
        "providers:\n"
        "  qualified: {package: qcloud, regions: [eu-fr-1], hds: {status: certified}, secnumcloud: {status: qualified}}\n"
        "  pending: {package: pcloud, hds: {status: certified}, secnumcloud: {status: in-progress}}\n"
        "  random: {package: random, engine: true}\n"
    )
    assert providers.allow_list(secnumcloud=True, path=path) == ("qcloud", "random")
    assert providers.allow_list(path=path) == ("qcloud", "pcloud", "random")
    assert providers.allowed_regions(path) == {"qcloud": ("eu-fr-1",)}


def test_a_malformed_providers_file_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text("providers:\n  broken: {regions: [fr-par]}\n")
    with pytest.raises(
        providers.FactsFileError, match=r"providers\.yaml: providers\.broken\.package: Field required"
    ):
        providers.load(path)
