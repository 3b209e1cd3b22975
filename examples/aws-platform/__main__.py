"""The booking platform from the installed package, plus this team's own DNS name and health check.

Everything the blueprint decides (region, keys in the French external key store, encryption, TLS,
backups) comes with ``AwsBookingPlatform``; this program only adds what belongs to the team: its
public name in its own Route 53 zone and a health check on it. Preview and deploy with the policy
pack the package ships (see ci-templates/ in the blueprint):

    pulumi preview --policy-pack "$(sovereign-booking-policy-pack)"
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws import AwsBookingPlatform, AwsBookingPlatformArgs, ContainerSpec, XksKeyStoreArgs
from facts.providers import home_region

config = pulumi.Config()
# The region comes from the package's sourced provider facts, not from this program: health data
# stays where the blueprint's HDS evidence says it may.
region = home_region("aws")
domain = config.require("domain")

# An explicit provider pins every resource to that region, whatever aws:region says.
paris = aws.Provider("paris", region=region)
platform = AwsBookingPlatform(
    "booking",
    AwsBookingPlatformArgs(
        region=region,
        availability_zones=[f"{region}{zone}" for zone in "abc"],
        xks=XksKeyStoreArgs(
            uri_endpoint=config.require("xksUriEndpoint"),
            uri_path=config.require("xksUriPath"),
            connectivity="PUBLIC_ENDPOINT",
            key_ids=config.require_object("xksKeyIds"),
            # Secrets only: set with `pulumi config set --secret`, never in this repository.
            access_key_id=config.require_secret("xksAccessKeyId"),
            secret_access_key=config.require_secret("xksSecretAccessKey"),
        ),
        certificate_arn=config.require("certificateArn"),
        api=ContainerSpec(
            image=config.require("apiImage"),
            port=8080,
            cpu=1024,
            memory_mb=2048,
            desired_count=2,
            path_pattern="/api/*",
        ),
        web=ContainerSpec(
            image=config.require("webImage"), port=8081, cpu=256, memory_mb=512, desired_count=2
        ),
    ),
    opts=pulumi.ResourceOptions(providers=[paris]),
)

# The team's own resources: its public name points at the platform's load balancer, and Route 53
# watches the service over HTTPS (both hold no health data).
aws.route53.Record(
    "booking-name",
    zone_id=config.require("hostedZoneId"),
    name=domain,
    type="CNAME",
    ttl=300,
    records=[platform.load_balancer_dns],
    opts=pulumi.ResourceOptions(provider=paris),
)
aws.route53.HealthCheck(
    "booking-health",
    fqdn=domain,
    port=443,
    type="HTTPS",
    resource_path="/health",
    failure_threshold=3,
    request_interval=30,
    opts=pulumi.ResourceOptions(provider=paris),
)

pulumi.export("url", f"https://{domain}")
pulumi.export("loadBalancerDns", platform.load_balancer_dns)
pulumi.export("keyStoreId", platform.key_store_id)
