"""Builds the SecNumCloud option (Cloud de Confiance by S3NS, u-france-east1) from the validated config."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.s3ns import S3nsBookingPlatform, S3nsBookingPlatformArgs
from components.s3ns.args import UNIVERSE_DOMAIN
from stacks.s3ns_config import S3nsStackSettings, check_provider_credentials


def to_args(cfg: S3nsStackSettings) -> S3nsBookingPlatformArgs:
    """Maps the validated stack config onto the component's arguments."""
    s3ns = cfg
    return S3nsBookingPlatformArgs(
        # Bucket names are global to the universe: the stack name keeps two stacks apart.
        name_prefix=f"bk-{cfg.stack}"[:24].rstrip("-"),
        project_id=s3ns.project_id,
        domain=cfg.domain,
        certificate=s3ns.certificate,
        api=s3ns.sizes.container("api", cfg.api_image),
        web=s3ns.sizes.container("web", cfg.web_image),
        environment=cfg.environment,
        region=cfg.region,
        db_tier=s3ns.sizes.db_tier,
        db_disk_gb=s3ns.sizes.db_disk_gb,
        db_max_disk_gb=s3ns.sizes.db_max_disk_gb,
        backup_retention_days=cfg.backup_retention_days,
        key_protection_level=s3ns.key_protection_level,
        ekm=s3ns.ekm.to_args() if s3ns.ekm else None,
        service_agents=s3ns.service_agents.to_args(),
        log_retention_days=cfg.log_retention_days,
    )


def provider(
    cfg: S3nsStackSettings, name: str = "s3ns-u-france-east1", opts: pulumi.ResourceOptions | None = None
) -> gcp.Provider:
    """An explicit provider pins the universe, project and region: no resource can fall back to Google
    Cloud's public universe or another region by default."""
    return gcp.Provider(
        name,
        project=cfg.project_id,
        region=cfg.region,
        universe_domain=UNIVERSE_DOMAIN,
        default_labels={"app": "booking", "environment": cfg.environment},
        opts=opts,
    )


def build(cfg: S3nsStackSettings) -> None:
    check_provider_credentials(cfg.stack)
    args = to_args(cfg)
    platform = S3nsBookingPlatform("booking", args, opts=pulumi.ResourceOptions(providers=[provider(cfg)]))
    pulumi.export("url", platform.url)
    pulumi.export("loadBalancerIp", platform.service.ip_address)
    pulumi.export("databaseConnection", platform.database_connection)
    pulumi.export("databaseSecretId", platform.secrets.db_secret_id)
    pulumi.export("documentsBucket", platform.documents_bucket)
    pulumi.export("keyIds", platform.keys.key_ids)
    pulumi.export("noCustomerKey", platform.no_customer_key)
