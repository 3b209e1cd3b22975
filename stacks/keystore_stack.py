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
    """An explicit provider pins the region: the key store must stay in France whatever the defaults say."""
    return scw.Provider(name, region=REGION, zone=keystore.zones[0], project_id=project_id(), opts=opts)


def project_id() -> str | None:
    """The Scaleway project of the provider's configuration (default: the credentials' own)."""
    return pulumi.Config("scaleway").get("project_id")


def to_args(keystore: KeystoreStackConfig) -> KeystoreHostArgs:
    return KeystoreHostArgs(keystore, region=REGION, project_id=project_id())


def build() -> None:
    # Validated before any resource is registered; a KeystoreConfigError names the key.
    keystore = KeystoreStackConfig.from_pulumi_config(pulumi.Config("booking"))
    host = KeystoreHost(
        "keystore", to_args(keystore), opts=pulumi.ResourceOptions(providers=[provider(keystore)])
    )
    # What the AWS stack's booking:xks.uriEndpoint and booking:xks.uriPath must be set to.
    pulumi.export("xksProxyUriEndpoint", host.endpoint)
    pulumi.export("xksProxyUriPath", host.uri_path)
    pulumi.export("loadBalancerIp", host.load_balancer_ip)
