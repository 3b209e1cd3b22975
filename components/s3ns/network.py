"""VPC of the S3NS platform: an app subnet, a proxy-only subnet for the load balancer, and a range
reserved for private services access, so Cloud SQL gets a private address and no public one."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.s3ns._options import inherited


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of Network."""

    project: str
    region: str
    app_cidr: str
    proxy_cidr: str
    data_cidr: str


class Network(pulumi.ComponentResource):
    """Custom-mode VPC; nothing enters it but the load balancer's proxies."""

    network_id: pulumi.Output[str]
    app_subnet_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Network", name, None, opts)
        self._after = inherited(opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        # Custom mode: auto mode would create a subnet per region of the universe, none of ours.
        self.network = gcp.compute.Network(
            f"{name}-vpc",
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        flow_logs = gcp.compute.SubnetworkLogConfigArgs(
            aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
        )
        self.app_subnet = gcp.compute.Subnetwork(
            f"{name}-app",
            project=args.project,
            region=args.region,
            network=self.network.id,
            ip_cidr_range=args.app_cidr,
            # Reaches S3NS APIs (KMS, Secret Manager) without a public address.
            private_ip_google_access=True,
            log_config=flow_logs,
            opts=child,
        )
        # Regional external Application Load Balancers run their proxies in this subnet.
        self.proxy_subnet = gcp.compute.Subnetwork(
            f"{name}-proxy",
            project=args.project,
            region=args.region,
            network=self.network.id,
            ip_cidr_range=args.proxy_cidr,
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=child,
        )
        # The data range: Cloud SQL's private addresses come from here through a peering with the
        # service producer network; it holds no route out. A "global" address in name only: the
        # universe has one region.
        address, prefix = args.data_cidr.split("/")
        self.data_range = gcp.compute.GlobalAddress(
            f"{name}-data",
            project=args.project,
            network=self.network.id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=address,
            prefix_length=int(prefix),
            opts=child,
        )
        self.private_services = gcp.servicenetworking.Connection(
            f"{name}-private-services",
            network=self.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.data_range.name],
            opts=child,
        )
        # Explicit deny of all ingress, logged, under the implied rules: what is not allowed is refused.
        self.deny_ingress = gcp.compute.Firewall(
            f"{name}-deny-ingress",
            project=args.project,
            network=self.network.id,
            direction="INGRESS",
            priority=65534,
            denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
            source_ranges=["0.0.0.0/0"],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )
        self.network_id = self.network.id
        self.app_subnet_id = self.app_subnet.id
        self.register_outputs({"networkId": self.network_id, "appSubnetId": self.app_subnet_id})
