"""Builds the Scaleway option (fr-par) from the validated config."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway import ScalewayBookingPlatform, ScalewayBookingPlatformArgs, ScalewayContainerSpec
from stacks.config import ScalewayStackSettings

#: The provider's default zone; Option B creates no zonal resource of its own (no load balancer).
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
        project_id=cfg.scaleway_project_id,
        deployer_principal=cfg.deployer_principal,
        api_key_expires_at=cfg.api_key_expires_at,
        dns_zone=cfg.dns_zone,
        external_dns_ready=cfg.external_dns_ready,
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
        # Cockpit keeps custom logs 1 to 1825 days since June 2025 (data/facts/scaleway.yaml): as asked.
        log_retention_days=cfg.log_retention_days,
    )


def provider(
    cfg: ScalewayStackSettings, name: str = "scaleway-fr-par", opts: pulumi.ResourceOptions | None = None
) -> scw.Provider:
    """An explicit provider pins region and zone: no resource can fall back to another default."""
    return scw.Provider(name, region=cfg.region, zone=ZONE, project_id=cfg.scaleway_project_id, opts=opts)


def build(cfg: ScalewayStackSettings) -> None:
    args = to_args(cfg)
    platform = ScalewayBookingPlatform(
        "booking", args, opts=pulumi.ResourceOptions(providers=[provider(cfg)])
    )
    pulumi.export("url", platform.url)
    # Where the hostnames' CNAME records point (to create them when DNS is not at Scaleway).
    pulumi.export("cnameTargets", platform.service.cname_targets)
    pulumi.export("databaseInstanceId", platform.database.instance.id)
    pulumi.export("databaseSecretId", platform.secrets.db_secret_id)
    pulumi.export("documentsBucket", platform.documents.bucket_name)
    pulumi.export("keyIds", platform.keys.key_ids)
    pulumi.export("noCustomerKey", platform.no_customer_key)
