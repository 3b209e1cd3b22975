"""Builds the AWS option (eu-west-3, keys in a French external key store) from the validated config."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws import AwsBookingPlatform, AwsBookingPlatformArgs, ContainerSpec, XksKeyStoreArgs
from stacks.config import AwsStackSettings


def provider(
    cfg: AwsStackSettings, name: str = "paris", opts: pulumi.ResourceOptions | None = None
) -> aws.Provider:
    """An explicit provider pins every resource to the validated region, whatever aws:region says."""
    return aws.Provider(
        name,
        region=cfg.region,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                "booking:stack": cfg.stack,
                "booking:environment": cfg.environment,
                "booking:data": "health",
            }
        ),
        opts=opts,
    )


def to_args(cfg: AwsStackSettings) -> AwsBookingPlatformArgs:
    """Maps the validated stack config onto the component's arguments."""
    access_key_id, secret_access_key = cfg.xks_credential()
    sizes = cfg.aws_sizes
    return AwsBookingPlatformArgs(
        region=cfg.region,
        availability_zones=[f"{cfg.region}{zone}" for zone in "abc"],
        xks=XksKeyStoreArgs(
            uri_endpoint=cfg.xks.uri_endpoint,
            uri_path=cfg.xks.uri_path,
            connectivity=cfg.xks.connectivity,
            vpc_endpoint_service_name=cfg.xks.vpc_endpoint_service_name,
            key_ids=cfg.xks.key_id_map,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            connect_timeout_seconds=cfg.xks.connect_timeout_seconds,
        ),
        certificate_arn=cfg.certificate_arn,
        api=ContainerSpec(
            image=cfg.api_image,
            port=8080,
            cpu=sizes.api_cpu,
            memory_mb=sizes.api_memory_mb,
            desired_count=sizes.api_count,
            path_pattern="/api/*",
        ),
        web=ContainerSpec(
            image=cfg.web_image,
            port=8081,
            cpu=sizes.web_cpu,
            memory_mb=sizes.web_memory_mb,
            desired_count=sizes.web_count,
        ),
        db_instance_class=sizes.db_instance_class,
        db_storage_gb=sizes.db_storage_gb,
        db_max_storage_gb=sizes.db_max_storage_gb,
        backup_retention_days=cfg.backup_retention_days,
        log_retention_days=cfg.log_retention_days,
    )


def build(cfg: AwsStackSettings) -> None:
    platform = AwsBookingPlatform(
        "booking", to_args(cfg), opts=pulumi.ResourceOptions(providers=[provider(cfg)])
    )
    pulumi.export("loadBalancerDns", platform.load_balancer_dns)
    pulumi.export("documentsBucket", platform.documents_bucket)
    pulumi.export("databaseEndpoint", platform.database_endpoint)
    pulumi.export("keyStoreId", platform.key_store_id)
