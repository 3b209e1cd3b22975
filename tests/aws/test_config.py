"""Bad stack config stops the program before any resource is registered, naming the key."""

from __future__ import annotations

import json

import pytest

from stacks.config import AwsStackSettings, ConfigError
from stacks.offline import OfflineMocks, RecordingMonitor, read_stack_file, run_preview

STACK = "aws-xks-paris"
GOOD_XKS = json.loads(read_stack_file(STACK)[0]["booking:xks"])
US_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/4f1d2c3b-9a8e-4d7c-b6a5-0e1f2a3b4c5d"
GOOD_SIZES = json.loads(read_stack_file(STACK)[0]["booking:sizes"])


def xks(**changes: object) -> str:
    return json.dumps({**GOOD_XKS, **changes})


def sizes(**changes: object) -> str:
    return json.dumps({**GOOD_SIZES, **changes})


def refused(overrides: dict[str, str | None], secret: set[str] | None = None) -> str:
    """Runs the stack with one change; asserts it fails before registering anything; returns the error."""
    monitor = RecordingMonitor(OfflineMocks(STACK))
    with pytest.raises(ConfigError) as caught:
        run_preview(STACK, overrides=overrides, secret_overrides=secret, monitor=monitor)
    assert monitor.registrations == [], "nothing may be registered when the config is invalid"
    return str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"booking:target": "azure"},
            "booking:target: must be one of aws, scaleway, s3ns, keystore (got 'azure')",
        ),
        ({"booking:target": None}, "booking:target: is required"),
        (
            {"booking:prefix": "Prod_1"},
            "booking:prefix: must be 3 to 30 of [a-z0-9-], a letter first, no '--', no trailing '-' (got 'Prod_1')",
        ),
        ({"booking:prefix": "prod--a"}, "booking:prefix: must be 3 to 30 of [a-z0-9-]"),
        ({"booking:region": "us-east-1"}, "booking:region: must be one of eu-west-3 (got 'us-east-1')"),
        ({"booking:region": "eu-central-1"}, "booking:region: must be one of eu-west-3"),
        (
            {"booking:xks": xks(uriEndpoint="http://xks.cles.sante-exemple.fr")},
            "booking:xks.uriEndpoint: must start with https://",
        ),
        (
            {"booking:xks": xks(uriEndpoint="https://xks.cles.sante-exemple.fr:8443")},
            "booking:xks.uriEndpoint: must use port 443",
        ),
        (
            {"booking:xks": xks(uriEndpoint="https://xks")},
            "booking:xks.uriEndpoint: must name a fully qualified DNS name",
        ),
        (
            {"booking:xks": xks(uriEndpoint="https://10.0.0.1")},
            "booking:xks.uriEndpoint: must name a fully qualified DNS name",
        ),
        ({"booking:xks": xks(uriEndpoint="https://xks.example.fr/kms")}, "the path goes in uriPath"),
        (
            {"booking:xks": xks(uriPath="/booking path/kms/xks/v1")},
            "booking:xks.uriPath: must use only [a-zA-Z0-9/_-]",
        ),
        ({"booking:xks": xks(uriPath="/booking/kms/xks")}, "booking:xks.uriPath: must use only"),
        (
            {"booking:xks": xks(uriPath="/" + "a" * 120 + "/kms/xks/v1")},
            "booking:xks.uriPath: must be 10 to 128 characters",
        ),
        (
            {"booking:xks": xks(connectivity="PRIVATE")},
            "booking:xks.connectivity: must be one of PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE",
        ),
        (
            {"booking:xks": xks(connectivity="VPC_ENDPOINT_SERVICE")},
            "booking:xks.vpcEndpointServiceName: is required",
        ),
        (
            {"booking:xks": xks(keyIds={**GOOD_XKS["keyIds"], "logs": GOOD_XKS["keyIds"]["database"]})},
            "different external key",
        ),
        (
            {"booking:xks": xks(keyIds={k: v for k, v in GOOD_XKS["keyIds"].items() if k != "backups"})},
            "booking:xks.keyIds.backups: is required",
        ),
        ({"booking:xks": xks(colour="blue")}, "booking:xks.colour: is not a known setting"),
        ({"booking:xks": None}, "booking:xks: is required"),
        (
            {"booking:sizes": sizes(dbStorageGb=5)},
            "booking:sizes.dbStorageGb: must be between 20 and 65536 (got 5)",
        ),
        ({"booking:sizes": sizes(apiCount=0)}, "booking:sizes.apiCount: must be between 2 and 50"),
        ({"booking:sizes": sizes(apiCpu=300)}, "booking:sizes.apiCpu: must be a Fargate CPU size"),
        (
            {"booking:sizes": sizes(apiMemoryMb=512)},
            "booking:sizes.apiMemoryMb: must be between 2048 and 8192",
        ),
        (
            {"booking:sizes": sizes(dbInstanceClass="m6g.large")},
            "booking:sizes.dbInstanceClass: must be an RDS instance class",
        ),
        (
            {"booking:sizes": sizes(dbMaxStorageGb=50)},
            "booking:sizes.dbMaxStorageGb: must be at least dbStorageGb",
        ),
        (
            {"booking:backupRetentionDays": "90"},
            "booking:backupRetentionDays: must be between 7 and 35 (got 90)",
        ),
        (
            {"booking:backupRetentionDays": "many"},
            "booking:backupRetentionDays: must be an integer between 7 and 35",
        ),
        (
            {"booking:images": json.dumps({"web": "registry.sante-exemple.fr/booking/web:1"})},
            "booking:images.api: is required",
        ),
        ({"booking:images": None}, "booking:images: is required"),
        (
            {"booking:images": json.dumps({"api": "not an image!", "web": "r.fr/w:1"})},
            "booking:images.api: must be a container image",
        ),
        ({"booking:domain": "localhost"}, "booking:domain: must be a fully qualified DNS name"),
        (
            {"booking:certificateArn": US_CERTIFICATE},
            "booking:certificateArn: must be in eu-west-3",
        ),
    ],
)
def test_refused_with_the_key_named(overrides: dict[str, str | None], expected: str) -> None:
    assert expected in refused(overrides)


def test_credential_in_plaintext_is_refused_without_echoing_it() -> None:
    secret = "ZmFrZS1zZWNyZXQtZm9yLWEtdGVzdC1vbmx5LTAwMDAwMDA"
    message = refused(
        {"booking:xksSecretAccessKey": secret}
    )  # an override is plaintext unless declared secret
    assert "booking:xksSecretAccessKey: is stored in plaintext" in message
    assert secret not in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "booking:xksAccessKeyId",
            "SHORT2",
            "booking:xksAccessKeyId: must be 20 to 30 characters of [A-Z2-7]",
        ),
        (
            "booking:xksAccessKeyId",
            "ABCDEFGHIJKLMNOPQRST01",
            "booking:xksAccessKeyId: must be 20 to 30 characters",
        ),
        ("booking:xksAccessKeyId", "A" * 31, "booking:xksAccessKeyId: must be 20 to 30 characters"),
        (
            "booking:xksSecretAccessKey",
            "c2hvcnQ=",
            "booking:xksSecretAccessKey: must be 43 to 64 base64 characters",
        ),
        (
            "booking:xksSecretAccessKey",
            "A" * 65,
            "booking:xksSecretAccessKey: must be 43 to 64 base64 characters",
        ),
    ],
)
def test_malformed_credential_is_refused_without_echoing_it(key: str, value: str, expected: str) -> None:
    message = refused({key: value}, secret={key})
    assert expected in message
    assert value not in message


def test_every_problem_is_reported_at_once() -> None:
    message = refused({"booking:region": "us-east-1", "booking:xks": xks(uriEndpoint="http://x.fr")})
    assert "booking:region" in message and "booking:xks.uriEndpoint" in message
    assert "2 problem(s)" in message


def test_shipped_stack_is_accepted_and_credential_stays_secret() -> None:
    preview = run_preview(STACK)
    store = next(s for s in preview.states if s["type"] == "aws:kms/customKeyStore:CustomKeyStore")
    assert "PreviewPlaceholder" not in json.dumps(preview.document)
    assert preview.document["config"]["booking:xksSecretAccessKey"] == "[secret]"
    assert store["inputs"]["customKeyStoreType"] == "EXTERNAL_KEY_STORE"


def test_a_stack_name_that_cannot_prefix_names_needs_booking_prefix() -> None:
    from stacks.config import validate

    values = {
        k.removeprefix("booking:"): v
        for k, v in read_stack_file(STACK)[0].items()
        if k.startswith("booking:")
    }
    with pytest.raises(
        ConfigError, match=r"booking:prefix: is required: the stack name 'Prod_Paris' is not a valid"
    ):
        validate("Prod_Paris", values, frozenset({"booking:xksAccessKeyId", "booking:xksSecretAccessKey"}))
    settings = validate(
        "Prod_Paris",
        {**values, "prefix": "prod-paris"},
        frozenset({"booking:xksAccessKeyId", "booking:xksSecretAccessKey"}),
    )
    assert isinstance(settings, AwsStackSettings)
    assert settings.name_prefix == "prod-paris"
