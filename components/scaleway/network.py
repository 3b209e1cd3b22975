"""``Network``: VPC and one Private Network; nothing that holds data has a public address."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX, tags_for


class Network(pulumi.ComponentResource):
    """A VPC with one regional Private Network in fr-par."""

    def __init__(self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"{TYPE_PREFIX}:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = scw.network.Vpc(
            f"{name}-vpc",
            name=f"{args.name_prefix}-vpc",
            region=args.region,
            project_id=args.project_id,
            tags=tags_for(args, "network"),
            opts=child,
        )
        self.private_network = scw.network.PrivateNetwork(
            f"{name}-pn",
            name=f"{args.name_prefix}-private",
            vpc_id=self.vpc.id,
            region=args.region,
            project_id=args.project_id,
            ipv4_subnet=scw.network.PrivateNetworkIpv4SubnetArgs(subnet=args.private_cidr),
            tags=tags_for(args, "network"),
            opts=child,
        )
        self.private_network_id = self.private_network.id
        self.register_outputs({"vpc_id": self.vpc.id, "private_network_id": self.private_network.id})
