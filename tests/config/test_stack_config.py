"""The config models refuse unknown keys at every level, naming the known ones, before any registration."""

from __future__ import annotations

import json

import pytest

from stacks.config import AwsStackSettings, ConfigError, ScalewayStackSettings, validate
from stacks.offline import OfflineMocks, RecordingMonitor, read_stack_file, run_preview


def _values(stack: str) -> tuple[dict[str, str], frozenset[str]]:
    values, secret = read_stack_file(stack)
    return {k.removeprefix("booking:"): v for k, v in values.items() if k.startswith("booking:")}, frozenset(
        secret
    )


def _problems(stack: str, **changes: str | None) -> list[str]:
    values, secret = _values(stack)
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    with pytest.raises(ConfigError) as caught:
        validate(stack, values, secret)
    return caught.value.problems


def test_shipped_stacks_validate_to_their_target_model() -> None:
    aws = validate("aws-xks-paris", *_values("aws-xks-paris"))
    assert isinstance(aws, AwsStackSettings) and aws.stack == "aws-xks-paris"
    assert aws.xks.key_id_map["backups"] == "booking-backups-2026"
    assert "booking-" not in repr(aws.xks_access_key_id)  # the credential never shows in a repr
    scaleway = validate("scaleway-paris", *_values("scaleway-paris"))
    assert isinstance(scaleway, ScalewayStackSettings) and scaleway.sizes.api_max_scale == 10


def test_unknown_top_level_key_lists_the_known_keys() -> None:
    [problem] = _problems("aws-xks-paris", logRetentionDay="30")
    assert problem.startswith("booking:logRetentionDay: is not a known setting (known: ")
    assert "logRetentionDays" in problem and "xks" in problem


def test_unknown_nested_key_lists_the_known_keys_of_its_object() -> None:
    sizes = json.loads(_values("aws-xks-paris")[0]["sizes"])
    [problem] = _problems("aws-xks-paris", sizes=json.dumps({**sizes, "dbStorage": 100}))
    assert problem.startswith("booking:sizes.dbStorage: is not a known setting (known: apiCount, apiCpu")
    xks = json.loads(_values("aws-xks-paris")[0]["xks"])
    [problem] = _problems("aws-xks-paris", xks=json.dumps({**xks, "keyIds": {**xks["keyIds"], "audit": "k"}}))
    assert problem == (
        "booking:xks.keyIds.audit: is not a known setting (known: backups, database, documents, logs, secrets)"
    )


def test_a_key_of_another_target_says_so() -> None:
    [problem] = _problems("scaleway-paris", certificateArn="arn:aws:acm:eu-west-3:1:certificate/x")
    assert problem == "booking:certificateArn: applies only to target aws"


def test_every_problem_is_listed_across_levels() -> None:
    problems = _problems(
        "scaleway-paris", region="nl-ams", colour="blue", sizes='{"apiMinScale": 5, "apiMaxScale": 2}'
    )
    assert problems == [
        "booking:region: must be one of fr-par (got 'nl-ams')",
        "booking:sizes.apiMaxScale: must be at least apiMinScale",
        "booking:colour: is not a known setting (known: apiKeyExpiresAt, backupRetentionDays, deployerPrincipal, dnsZone, domain, "
        "environment, externalDnsReady, images, logRetentionDays, region, requireSecNumCloud, scalewayProjectId, "
        "sizes, target)",
    ]


def test_unknown_key_stops_the_program_before_any_registration() -> None:
    monitor = RecordingMonitor(OfflineMocks("aws-xks-paris"))
    with pytest.raises(ConfigError, match="booking:logRetentionDay: is not a known setting"):
        run_preview("aws-xks-paris", overrides={"booking:logRetentionDay": "30"}, monitor=monitor)
    assert monitor.registrations == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"scalewayProjectId": ""},
            "booking:scalewayProjectId: is required (the project holding every resource",
        ),
        ({"scalewayProjectId": "default"}, "booking:scalewayProjectId: must be a Scaleway project id"),
        ({"deployerPrincipal": ""}, "booking:deployerPrincipal: is required (who runs `pulumi up`"),
        (
            {"deployerPrincipal": "owner"},
            "booking:deployerPrincipal: must be user_id:<uuid> or application_id:<uuid>",
        ),
        ({"dnsZone": "autre-domaine.fr"}, "booking:dnsZone: must be the zone holding rdv.sante-exemple.fr"),
        ({"externalDnsReady": "true"}, "booking:externalDnsReady: applies only when dnsZone is unset"),
        ({"logRetentionDays": "1826"}, "booking:logRetentionDays: must be between 1 and 1825"),
        ({"apiKeyExpiresAt": ""}, "booking:apiKeyExpiresAt: is required (when the API's IAM API key expires"),
        ({"apiKeyExpiresAt": "never"}, "booking:apiKeyExpiresAt: must be an RFC 3339 UTC time"),
    ],
)
def test_scaleway_refusals_name_the_key(override: dict[str, str], expected: str) -> None:
    """Option B's own keys: the project every IAM rule needs, the deployer the bucket keeps, DNS, Cockpit."""
    problems = _problems("scaleway-paris", **override)
    assert any(p.startswith(expected) for p in problems), problems
