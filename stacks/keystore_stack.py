"""Builds the French key store host (the XKS proxy on Scaleway fr-par) from the `booking:keystore` config."""

from __future__ import annotations

import re

import pulumi
import pulumiverse_scaleway as scw

from components.keystore import KeystoreConfigError, KeystoreHost, KeystoreHostArgs, KeystoreStackConfig
from facts.providers import home_region

#: The Scaleway provider's config key for the project (pulumiverse-scaleway: `scaleway:projectId`).
PROJECT_KEY = "projectId"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: The key store runs where the Scaleway option runs (data/facts/providers.yaml).
REGION = home_region("scaleway")


def build() -> None:
    # Validated before any resource is registered; a KeystoreConfigError names the key.
    keystore = KeystoreStackConfig.from_pulumi_config(pulumi.Config("booking"))
    # The provider's key is projectId (camelCase): every IAM rule needs it, so it is required here.
    project_id = pulumi.Config("scaleway").get(PROJECT_KEY) or ""
    if not _UUID.match(project_id):
        raise KeystoreConfigError(
            f"scaleway:{PROJECT_KEY}",
            [
                f"scaleway:{PROJECT_KEY}: is required: the Scaleway project id (a UUID) every resource and IAM "
                f"rule belongs to (got {project_id!r})"
            ],
        )
    # An explicit provider pins the region: the key store must stay in France whatever the defaults say.
    provider = scw.Provider("scaleway-fr-par", region=REGION, zone=keystore.zones[0], project_id=project_id)
    host = KeystoreHost(
        "keystore",
        KeystoreHostArgs(keystore, project_id=project_id, region=REGION),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    # What the AWS stack's booking:xks.uriEndpoint and booking:xks.uriPath must be set to.
    pulumi.export("xksProxyUriEndpoint", host.endpoint)
    pulumi.export("xksProxyUriPath", host.uri_path)
    pulumi.export("loadBalancerIp", host.load_balancer_ip)
    # One balancer per zone: what a DNS failover record elsewhere must check (docs/deploy-scaleway.md).
    pulumi.export("loadBalancerIps", host.load_balancer_ips)
