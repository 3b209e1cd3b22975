"""Builds the French key store host (the XKS proxy on Scaleway fr-par) from the `booking:keystore` config."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.keystore import KeystoreHost, KeystoreHostArgs, KeystoreStackConfig
from facts.providers import home_region

#: The key store runs where the Scaleway option runs (data/facts/providers.yaml).
REGION = home_region("scaleway")


def build() -> None:
    # Validated before any resource is registered; a KeystoreConfigError names the key.
    keystore = KeystoreStackConfig.from_pulumi_config(pulumi.Config("booking"))
    project_id = pulumi.Config("scaleway").get("project_id")
    # An explicit provider pins the region: the key store must stay in France whatever the defaults say.
    provider = scw.Provider("scaleway-fr-par", region=REGION, zone=keystore.zones[0], project_id=project_id)
    host = KeystoreHost(
        "keystore",
        KeystoreHostArgs(keystore, region=REGION, project_id=project_id),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    # What the AWS stack's booking:xks.uriEndpoint and booking:xks.uriPath must be set to.
    pulumi.export("xksProxyUriEndpoint", host.endpoint)
    pulumi.export("xksProxyUriPath", host.uri_path)
    pulumi.export("loadBalancerIp", host.load_balancer_ip)
