"""``Service``: Serverless Containers (web, api), each on its own HTTPS endpoint and custom domain."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs, ScalewayContainerSpec
from components.scaleway.common import TYPE_PREFIX, tags_for
from facts.scaleway import containers_accept_private_ingress, is_reserved_environment_name


def refuse_reserved_environment(name: str, names: list[str]) -> None:
    """Reserved names are Scaleway's (SCW_*, PORT): a value set there is overridden by the platform."""
    reserved = sorted(n for n in names if is_reserved_environment_name(n))
    if reserved:
        raise ValueError(
            f"{name}: environment variable(s) {reserved} are reserved by Serverless Containers "
            "(SCW_*, PORT; data/facts/scaleway.yaml, containers-reserved-environment)"
        )


class Service(pulumi.ComponentResource):
    """Serverless Containers (web at ``domain``, api at ``api.<domain>``), HTTPS only.

    Why no load balancer in front: Scaleway documents that ingress from a Private Network into a
    Serverless Container is not supported and that each container instance gets its own address,
    which cannot be reserved (data/facts/scaleway.yaml, containers-no-private-ingress). A load
    balancer's backends are IP addresses read at deploy time, so after the first scale event they
    point at instances that no longer exist. The containers therefore serve on their own HTTPS
    endpoints (``http_option=redirected``: plain HTTP is redirected), under custom domains whose
    certificate Scaleway issues once the CNAME exists (containers-custom-domain-cname).

    The Private Network stays: egress from the containers to PostgreSQL is routed through it, and
    the database keeps no public endpoint at all.

    Certificates in one run: when ``dns_zone`` is a Scaleway Domains zone, the CNAME records are
    resources of this stack and each domain binding waits for its record. Otherwise the first run
    exports the CNAME targets, the deployer creates them at its DNS provider, then sets
    ``externalDnsReady`` and runs ``pulumi up`` again (docs/deploy-scaleway.md).
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
        # Before anything is registered: a reserved name stops the build whole.
        refuse_reserved_environment(name, [*environment, *secret_environment])
        # The design below rests on this fact; should Scaleway document private ingress one day, the
        # facts row changes and this stops the build so that the choice is made again, knowingly.
        if containers_accept_private_ingress():
            raise ValueError(
                f"{name}: data/facts/scaleway.yaml now says containers accept Private Network ingress: "
                "revisit the ingress design of components/scaleway/service.py"
            )
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
        self.hostnames = {"web": args.domain, "api": args.api_domain}
        for label, spec in (("api", args.api), ("web", args.web)):
            self.containers[label] = self._container(
                name, label, spec, args, private_network_id, environment, secret_environment
            )

        # -- custom domains ---------------------------------------------------------------------
        self.records: dict[str, scw.domain.Record] = {}
        self.domains: dict[str, scw.containers.Domain] = {}
        bind = args.dns_zone is not None or args.external_dns_ready
        for label, container in self.containers.items():
            hostname = self.hostnames[label]
            waits: list[pulumi.Resource] = []
            if args.dns_zone is not None:
                self.records[label] = scw.domain.Record(
                    f"{name}-{label}-cname",
                    dns_zone=args.dns_zone,
                    name=hostname.removesuffix(f".{args.dns_zone}"),
                    type="CNAME",
                    data=container.public_endpoint.apply(_cname_target),
                    ttl=300,
                    project_id=args.project_id,
                    opts=child,
                )
                waits.append(self.records[label])
            if bind:
                self.domains[label] = scw.containers.Domain(
                    f"{name}-{label}-domain",
                    container_id=container.id,
                    hostname=hostname,
                    region=args.region,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
                )
        self.cname_targets = {
            label: c.public_endpoint.apply(_cname_target) for label, c in self.containers.items()
        }
        self.url = pulumi.Output.concat("https://", args.domain)
        self.register_outputs(
            {
                "web_container_id": self.containers["web"].id,
                "api_container_id": self.containers["api"].id,
                # Where each hostname's CNAME must point (what the deployer creates when DNS is elsewhere).
                "cname_targets": self.cname_targets,
                "custom_domains_bound": bind,
                "no_customer_key": ["container-ephemeral-storage", "container-tls-private-key"],
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
            # Egress to PostgreSQL goes through the Private Network; ingress is the public endpoint
            # (the only one Scaleway supports), HTTPS only: plain HTTP gets a redirect.
            private_network_id=private_network_id,
            privacy="public",
            http_option="redirected",
            deploy=True,
            environment_variables=environment
            if label == "api"
            else {"BOOKING_ENVIRONMENT": args.environment, "BOOKING_API_URL": f"https://{args.api_domain}"},
            secret_environment_variables=secret_environment if label == "api" else None,
            health_checks=[
                scw.containers.ContainerHealthCheckArgs(
                    https=[scw.containers.ContainerHealthCheckHttpArgs(path=spec.health_path)],
                    failure_threshold=3,
                    interval="10s",
                )
            ],
            region=args.region,
            # The secret map hides its names from every reader: declared here so the policies can
            # check them against Scaleway's reserved names (BK-SCW-002).
            tags=[
                *tags_for(args, "service"),
                *(f"secret-env:{n}" for n in (sorted(secret_environment) if label == "api" else [])),
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )


def _cname_target(endpoint: str | None) -> str:
    """``https://name.functions.fnc.fr-par.scw.cloud`` -> ``name.functions.fnc.fr-par.scw.cloud.``"""
    host = (endpoint or "").split("://")[-1].split("/")[0]
    return f"{host}." if host else ""
