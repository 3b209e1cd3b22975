"""Builds the Scaleway option (fr-par) from the validated config."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway import ScalewayBookingPlatform, ScalewayBookingPlatformArgs, ScalewayContainerSpec
from stacks.config import ScalewayStackSettings

ZONE = "fr-par-1"


def to_args(cfg: ScalewayStackSettings) -> ScalewayBookingPlatformArgs:
    """Maps the validated stack config onto the component's arguments."""
    sizes = cfg.scaleway_sizes
    return ScalewayBookingPlatformArgs(
        # Bucket names are global: the stack name keeps two stacks of one project apart.
        name_prefix=f"booking-{cfg.stack}"[:42].rstrip("-"),
        domain=cfg.domain,
        environment=cfg.environment,
        region=cfg.region,
        zone=ZONE,
        project_id=cfg.scaleway_project_id,
        api=ScalewayContainerSpec(
            image=cfg.api_image,
            cpu_limit_mvcpu=sizes.api_cpu_limit_mvcpu,
            memory_limit_mb=sizes.api_memory_limit_mb,
            min_scale=sizes.api_min_scale,
            max_scale=sizes.api_max_scale,
        ),
        web=ScalewayContainerSpec(
            image=cfg.web_image,
            cpu_limit_mvcpu=sizes.web_cpu_limit_mvcpu,
            memory_limit_mb=sizes.web_memory_limit_mb,
            min_scale=sizes.web_min_scale,
            max_scale=sizes.web_max_scale,
        ),
        db_node_type=sizes.db_node_type,
        db_volume_gb=sizes.db_volume_gb,
        backup_retention_days=cfg.backup_retention_days,
        # Cockpit keeps logs at most 31 days (Cockpit data source limits); longer retention of the
        # config is for archives, which this stack does not create yet.
        log_retention_days=min(cfg.log_retention_days, 31),
    )


def provider(
    cfg: ScalewayStackSettings, name: str = "scaleway-fr-par", opts: pulumi.ResourceOptions | None = None
) -> scw.Provider:
    """An explicit provider pins region and zone: no resource can fall back to another default."""
    return scw.Provider(
        name, region=cfg.region, zone=ZONE, project_id=cfg.scaleway_project_id or None, opts=opts
    )


def build(cfg: ScalewayStackSettings) -> None:
    args = to_args(cfg)
    platform = ScalewayBookingPlatform(
        "booking", args, opts=pulumi.ResourceOptions(providers=[provider(cfg)])
    )
    pulumi.export("url", platform.url)
    pulumi.export("publicIp", platform.service.public_ip)
    pulumi.export("databaseInstanceId", platform.database.instance.id)
    pulumi.export("databaseSecretId", platform.secrets.db_secret_id)
    pulumi.export("documentsBucket", platform.documents.bucket_name)
    pulumi.export("keyIds", platform.keys.key_ids)
    pulumi.export("noCustomerKey", platform.no_customer_key)
