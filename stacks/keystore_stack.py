"""Builds the French key store host (the XKS proxy on Scaleway fr-par) from the `booking:keystore` config."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.keystore import KeystoreHost, KeystoreHostArgs, KeystoreStackConfig
from facts.providers import home_region

#: The key store runs where the Scaleway option runs (data/facts/providers.yaml).
REGION = home_region("scaleway")


def provider(
    keystore: KeystoreStackConfig, name: str = "scaleway-fr-par", opts: pulumi.ResourceOptions | None = None
) -> scw.Provider:
    """An explicit provider pins the region and the project: the key store must stay in France, in its
    project, whatever the defaults say (booking:keystore.projectId, required: every IAM rule needs it)."""
    return scw.Provider(
        name, region=REGION, zone=keystore.zones[0], project_id=keystore.project_id, opts=opts
    )


def to_args(keystore: KeystoreStackConfig) -> KeystoreHostArgs:
    return KeystoreHostArgs(keystore, project_id=keystore.project_id, region=REGION)


def build() -> None:
    # Validated before any resource is registered; a KeystoreConfigError names the key.
    keystore = KeystoreStackConfig.from_pulumi_config(pulumi.Config("booking"))
    args = to_args(keystore)
    host = KeystoreHost("keystore", args, opts=pulumi.ResourceOptions(providers=[provider(keystore)]))
    # What the AWS stack's booking:xks.uriEndpoint and booking:xks.uriPath must be set to.
    pulumi.export("xksProxyUriEndpoint", host.endpoint)
    pulumi.export("xksProxyUriPath", host.uri_path)
    pulumi.export("loadBalancerIp", host.load_balancer_ip)
    # One balancer per zone: what a DNS failover record elsewhere must check (docs/deploy-scaleway.md).
    pulumi.export("loadBalancerIps", host.load_balancer_ips)
