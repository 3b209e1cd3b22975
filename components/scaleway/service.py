"""``Service``: Serverless Containers (api, web) behind a load balancer with HTTPS only."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs, ScalewayContainerSpec
from components.scaleway.common import TYPE_PREFIX, get_field, tags_for, uuid_of


class Service(pulumi.ComponentResource):
    """Serverless Containers (api, web) reachable only through an HTTPS load balancer.

    Why Serverless Containers rather than Kapsule: Scaleway runs and patches the whole execution
    platform (no node OS, no cluster to upgrade), which shrinks what the health-data operator must
    administer; scaling bounds are plain settings; and both containers and their load balancer are
    Pulumi resources the policies can read, whereas with Kapsule the load balancer is created by
    the cluster's cloud controller from Kubernetes annotations, out of sight of the policies.

    The containers join the Private Network (egress to PostgreSQL stays private) and expose a
    private endpoint; their default public endpoint is disabled, so the load balancer is the only
    way in. Scaleway load balancer backends take IP addresses: they are read from IPAM (the
    addresses IPAM assigned to each container on the Private Network) at deploy time.
    """

    def __init__(  # noqa: PLR0917 - parts are wired positionally by the platform only
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        private_network_id: pulumi.Input[str],
        environment: dict[str, pulumi.Input[str]],
        secret_environment: dict[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = scw.containers.Namespace(
            f"{name}-ns",
            name=f"{args.name_prefix}-containers",
            description="Booking platform containers",
            region=args.region,
            project_id=args.project_id,
            tags=tags_for(args, "service"),
            opts=child,
        )
        self.containers: dict[str, scw.containers.Container] = {}
        for label, spec in (("api", args.api), ("web", args.web)):
            self.containers[label] = self._container(
                name, label, spec, args, private_network_id, environment, secret_environment
            )

        # -- load balancer --------------------------------------------------------------------
        self.ip = scw.loadbalancers.Ip(
            f"{name}-lb-ip",
            zone=args.zone,
            project_id=args.project_id,
            tags=tags_for(args, "edge"),
            opts=child,
        )
        self.lb = scw.loadbalancers.LoadBalancer(
            f"{name}-lb",
            name=f"{args.name_prefix}-lb",
            type=args.lb_type,
            ip_ids=[self.ip.id],
            zone=args.zone,
            project_id=args.project_id,
            # Minimum TLS version and ciphers offered to browsers (modern = TLS 1.3 only).
            ssl_compatibility_level=args.tls_policy,
            external_private_networks=True,
            tags=tags_for(args, "edge"),
            opts=child,
        )
        self.lb_private_network = scw.loadbalancers.PrivateNetwork(
            f"{name}-lb-pn",
            lb_id=self.lb.id,
            private_network_id=private_network_id,
            zone=args.zone,
            project_id=args.project_id,
            opts=child,
        )
        self.certificate = scw.loadbalancers.Certificate(
            f"{name}-cert",
            lb_id=self.lb.id,
            name=f"{args.name_prefix}-tls",
            # NO-CUSTOMER-KEY: the certificate's private key is generated and held by the Scaleway
            # load balancer (Let's Encrypt); Key Manager cannot hold it.
            letsencrypt=scw.loadbalancers.CertificateLetsencryptArgs(common_name=args.domain),
            opts=child,
        )
        self.backends: dict[str, scw.loadbalancers.Backend] = {}
        for label, spec in (("api", args.api), ("web", args.web)):
            container = self.containers[label]
            self.backends[label] = scw.loadbalancers.Backend(
                f"{name}-{label}-backend",
                name=f"{args.name_prefix}-{label}",
                lb_id=self.lb.id,
                forward_protocol="http",
                forward_port=443,
                # TLS from the load balancer to the container's private endpoint as well.
                ssl_bridging=True,
                ignore_ssl_server_verify=False,
                host=container.private_endpoint.apply(_host_of),
                server_ips=_container_ips(container, private_network_id, args.region),
                health_check_https=scw.loadbalancers.BackendHealthCheckHttpsArgs(
                    uri=spec.health_path, method="GET", code=200
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.lb_private_network]),
            )
        self.https_frontend = scw.loadbalancers.Frontend(
            f"{name}-https",
            name=f"{args.name_prefix}-https",
            lb_id=self.lb.id,
            backend_id=self.backends["web"].id,
            inbound_port=443,
            certificate_ids=[self.certificate.id],
            enable_http3=True,
            opts=child,
        )
        self.api_route = scw.loadbalancers.Route(
            f"{name}-api-route",
            frontend_id=self.https_frontend.id,
            backend_id=self.backends["api"].id,
            match_host_header=args.domain,
            match_path_begin="/api/",
            opts=child,
        )
        self.http_frontend: scw.loadbalancers.Frontend | None = None
        if args.http_redirect:
            # Port 80 exists only to send browsers to HTTPS: every request gets a 301 to https://.
            self.http_frontend = scw.loadbalancers.Frontend(
                f"{name}-http-redirect",
                name=f"{args.name_prefix}-http-redirect",
                lb_id=self.lb.id,
                backend_id=self.backends["web"].id,
                inbound_port=80,
                acls=[
                    scw.loadbalancers.FrontendAclArgs(
                        name="redirect-to-https",
                        action=scw.loadbalancers.FrontendAclActionArgs(
                            type="redirect",
                            redirects=[
                                scw.loadbalancers.FrontendAclActionRedirectArgs(
                                    type="scheme", target="https", code=301
                                )
                            ],
                        ),
                        match=scw.loadbalancers.FrontendAclMatchArgs(ip_subnets=["0.0.0.0/0", "::/0"]),
                    )
                ],
                opts=child,
            )
        self.public_ip = self.ip.ip_address
        self.register_outputs(
            {
                "lb_id": self.lb.id,
                "public_ip": self.ip.ip_address,
                "https_frontend_id": self.https_frontend.id,
                "api_container_id": self.containers["api"].id,
                "web_container_id": self.containers["web"].id,
                "no_customer_key": ["load-balancer-tls-private-key", "container-ephemeral-storage"],
            }
        )

    def _container(  # noqa: PLR0917 - private helper, called once per container
        self,
        name: str,
        label: str,
        spec: ScalewayContainerSpec,
        args: ScalewayBookingPlatformArgs,
        private_network_id: pulumi.Input[str],
        environment: dict[str, pulumi.Input[str]],
        secret_environment: dict[str, pulumi.Input[str]],
    ) -> scw.containers.Container:
        # NO-CUSTOMER-KEY: a Serverless Container's ephemeral storage and the image registry are
        # encrypted (if at all) by Scaleway only; the containers must not write health data locally.
        return scw.containers.Container(
            f"{name}-{label}",
            name=f"{args.name_prefix}-{label}",
            namespace_id=self.namespace.id,
            image=spec.image,
            port=spec.port,
            cpu_limit=spec.cpu_limit_mvcpu,
            memory_limit=spec.memory_limit_mb,
            min_scale=spec.min_scale,
            max_scale=spec.max_scale,
            protocol="http1",
            # Only reachable from the Private Network (the load balancer), never straight from the
            # Internet; and HTTP on the default endpoint would be redirected anyway.
            private_network_id=private_network_id,
            enable_private_endpoint=True,
            enable_default_public_endpoint=False,
            privacy="public",
            http_option="redirected",
            deploy=True,
            environment_variables=environment
            if label == "api"
            else {"BOOKING_ENVIRONMENT": args.environment},
            secret_environment_variables=secret_environment if label == "api" else None,
            health_checks=[
                scw.containers.ContainerHealthCheckArgs(
                    https=[scw.containers.ContainerHealthCheckHttpArgs(path=spec.health_path)],
                    failure_threshold=3,
                    interval="10s",
                )
            ],
            region=args.region,
            tags=tags_for(args, "service"),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _host_of(endpoint: str | None) -> str:
    value = (endpoint or "").split("://")[-1]
    return value.split("/")[0]


def _container_ips(
    container: scw.containers.Container, private_network_id: pulumi.Input[str], region: str
) -> pulumi.Output[list[str]]:
    """Addresses IPAM gave the container on the Private Network (no address in an offline preview)."""

    def lookup(values: list[Any]) -> pulumi.Output[list[str]] | list[str]:
        container_id, network_id = values
        if not container_id or not network_id:
            return []
        found = scw.ipam.get_ips_output(
            private_network_id=network_id,
            region=region,
            type="ipv4",
            resource=scw.ipam.GetIpsResourceArgs(type="serverless_container", id=uuid_of(container_id)),
        )
        return found.ips.apply(
            lambda ips: [
                str(get_field(ip, "address")).split("/")[0] for ip in (ips or []) if get_field(ip, "address")
            ]
        )

    return pulumi.Output.all(container.id, private_network_id).apply(lookup)
