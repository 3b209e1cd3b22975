"""Bad s3ns stack config stops the program before any resource is registered, naming the key."""

from __future__ import annotations

import json

import pytest

from stacks.config import ConfigError
from stacks.offline import OfflineMocks, RecordingMonitor, read_stack_file, run_preview

STACK = "s3ns-secnumcloud"
GOOD_SIZES = json.loads(read_stack_file(STACK)[0]["booking:sizes"])


def sizes(**changes: object) -> str:
    return json.dumps({**GOOD_SIZES, **changes})


def refused(overrides: dict[str, str | None], secret: set[str] | None = None) -> str:
    monitor = RecordingMonitor(OfflineMocks(STACK))
    with pytest.raises(ConfigError) as caught:
        run_preview(STACK, overrides=overrides, secret_overrides=secret, monitor=monitor)
    assert monitor.registrations == [], "nothing may be registered when the config is invalid"
    return str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"booking:region": "europe-west9"},
            "booking:region: must be one of u-france-east1 (got 'europe-west9')",
        ),
        ({"booking:projectId": None}, "booking:projectId: is required"),
        ({"booking:certificate": None}, "booking:certificate: is required"),
        (
            {
                "booking:certificate": "projects/s3ns:booking-sante-prod/locations/europe-west9/certificates/rdv"
            },
            "booking:certificate: must be in u-france-east1",
        ),
        (
            {
                "booking:certificate": "projects/s3ns:another-project/locations/u-france-east1/certificates/rdv"
            },
            "booking:certificate: must belong to project s3ns:booking-sante-prod",
        ),
        (
            {"booking:keyProtectionLevel": "HSM"},
            "booking:keyProtectionLevel: must be one of SOFTWARE, EXTERNAL_VPC (got 'HSM'): Cloud de Confiance "
            "offers no other Cloud KMS protection level (data/facts/s3ns.yaml kms_protection_levels "
            "(s3ns-kms-protection-levels, s3ns-kms, s3ns-gcloud-single-tenant-hsm))",
        ),
        (
            {"booking:keyProtectionLevel": "EXTERNAL_VPC"},
            "booking:ekm: must describe the external key manager when keyProtectionLevel is EXTERNAL_VPC",
        ),
        (
            {"booking:projectId": "booking-sante-prod"},
            "booking:projectId: must be an S3NS project id, s3ns: then 6 to 30 of [a-z0-9-]",
        ),
        (
            {"booking:serviceAgents": json.dumps({"cloudSql": "x@example.com"})},
            "booking:serviceAgents.cloudSql: must be a service agent address under s3ns-system.iam.gserviceaccount.com",
        ),
        (
            {"booking:sizes": sizes(dbDiskGb=5)},
            "booking:sizes.dbDiskGb: must be between 10 and 65536 (got 5)",
        ),
        (
            {"booking:sizes": sizes(apiMaxInstances=500)},
            "booking:sizes.apiMaxInstances: must be between 1 and 100",
        ),
        ({"booking:sizes": sizes(apiCpu=3)}, "booking:sizes.apiCpu: must be one of 1, 2, 4, 6, 8"),
        ({"booking:sizes": sizes(dbTier="db-custom-2-999999")}, "booking:sizes.dbTier: must give 3840 MiB"),
        ({"booking:sizes": sizes(dbMaxDiskGb=50)}, "booking:sizes.dbMaxDiskGb: must be at least dbDiskGb"),
        ({"booking:sizes": sizes(gpu=1)}, "booking:sizes.gpu: is not a known setting"),
        ({"booking:backupRetentionDays": "90"}, "booking:backupRetentionDays: must be between 7 and 35"),
        ({"booking:xks": "{}"}, "booking:xks: applies only to target aws"),
    ],
)
def test_bad_value_is_refused_with_its_key(overrides: dict[str, str | None], expected: str) -> None:
    assert expected in refused(overrides)


def test_plaintext_provider_credentials_refused_without_echo() -> None:
    fake = '{"type": "service_account", "private_key": "not-a-real-key"}'
    message = refused({"gcp:credentials": fake})
    assert "gcp:credentials: is stored in plaintext" in message
    assert "not-a-real-key" not in message


def test_secret_provider_credentials_accepted() -> None:
    preview = run_preview(STACK, overrides={"gcp:credentials": "{}"}, secret_overrides={"gcp:credentials"})
    assert any(s["type"] == "gcp:sql/databaseInstance:DatabaseInstance" for s in preview.states)


def test_s3ns_keys_refused_on_another_target() -> None:
    monitor = RecordingMonitor(OfflineMocks("scaleway-paris"))
    with pytest.raises(ConfigError, match="booking:projectId: applies only to target s3ns"):
        run_preview("scaleway-paris", overrides={"booking:projectId": "booking-sante-prod"}, monitor=monitor)
    assert monitor.registrations == []
