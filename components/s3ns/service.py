"""The API and web containers on Cloud Run, reachable only through a regional external Application
Load Balancer that speaks HTTPS with TLS 1.2 or later and redirects plain HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.s3ns._options import inherited
from components.s3ns.args import TLS_REQUIRED_PROFILE, S3nsContainerSpec


@dataclass(frozen=True)
class ServiceArgs:
    """Inputs of Service."""

    project: str
    region: str
    network_id: pulumi.Input[str]
    app_subnet_id: pulumi.Input[str]
    #: The proxy-only subnet must exist before a regional EXTERNAL_MANAGED forwarding rule.
    proxy_subnet: pulumi.Resource
    certificate: str
    api: S3nsContainerSpec
    web: S3nsContainerSpec
    api_service_account: pulumi.Input[str]
    web_service_account: pulumi.Input[str]
    #: Resource name of the regional secret holding the database password; the API reads it at start.
    db_secret_name: pulumi.Input[str]
    db_host: pulumi.Input[str]
    #: The Cloud SQL instance's server CA certificate (PEM, public): what verify-ca checks against.
    db_server_ca: pulumi.Input[str]
    db_name: str
    db_user: str
    #: Cloud KMS key Cloud Run encrypts the services' container images with (CMEK).
    run_key_id: pulumi.Input[str]
    tls_profile: str = TLS_REQUIRED_PROFILE
    tls_min_version: str = "TLS_1_2"
    rate_limit_per_minute: int = 600
    deletion_protection: bool = True


class Service(pulumi.ComponentResource):
    """Two Cloud Run services behind one regional HTTPS load balancer (``/api/*`` to the API)."""

    ip_address: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Service", name, None, opts)
        self._after = inherited(opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        api_env = [
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name="DB_HOST", value=args.db_host),
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name="DB_NAME", value=args.db_name),
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name="DB_USER", value=args.db_user),
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name="DB_SSLMODE", value="verify-ca"),
            # verify-ca needs the CA it verifies against: Cloud SQL's server CA, public, handed over here.
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="DB_SSLROOTCERT_PEM", value=args.db_server_ca
            ),
            # The name of a regional secret, read by the API from Secret Manager's regional endpoint with
            # its own identity: the password is never in the service's spec. (Cloud Run's secret
            # references name global secrets, which the universe does not document.)
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="DB_PASSWORD_SECRET_NAME", value=args.db_secret_name
            ),
        ]
        self.api = self._run(f"{name}-api", args, args.api, args.api_service_account, api_env)
        self.web = self._run(f"{name}-web", args, args.web, args.web_service_account, [])

        # Cloud Armor, regional like the load balancer (data/facts/s3ns.yaml cloud_armor): each client
        # address gets a request budget per minute; beyond it, 429 until the minute is over.
        self.armor = gcp.compute.RegionSecurityPolicy(
            f"{name}-armor",
            project=args.project,
            region=args.region,
            type="CLOUD_ARMOR",
            description="Per-client rate limit in front of the booking services",
            opts=child,
        )
        self.rate_limit = gcp.compute.RegionSecurityPolicyRule(
            f"{name}-rate-limit",
            project=args.project,
            region=args.region,
            security_policy=self.armor.name,
            priority=1000,
            action="throttle",
            match=gcp.compute.RegionSecurityPolicyRuleMatchArgs(
                versioned_expr="SRC_IPS_V1",
                config=gcp.compute.RegionSecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
            ),
            rate_limit_options=gcp.compute.RegionSecurityPolicyRuleRateLimitOptionsArgs(
                conform_action="allow",
                exceed_action="deny(429)",
                enforce_on_key="IP",
                rate_limit_threshold=gcp.compute.RegionSecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
                    count=args.rate_limit_per_minute, interval_sec=60
                ),
            ),
            opts=child,
        )
        api_backend = self._backend(f"{name}-api", args, self.api)
        web_backend = self._backend(f"{name}-web", args, self.web)
        self.address = gcp.compute.Address(
            f"{name}-ip",
            project=args.project,
            region=args.region,
            address_type="EXTERNAL",
            network_tier="STANDARD",
            opts=child,
        )
        url_map = gcp.compute.RegionUrlMap(
            f"{name}-https",
            project=args.project,
            region=args.region,
            default_service=web_backend.id,
            host_rules=[gcp.compute.RegionUrlMapHostRuleArgs(hosts=["*"], path_matcher="booking")],
            path_matchers=[
                gcp.compute.RegionUrlMapPathMatcherArgs(
                    name="booking",
                    default_service=web_backend.id,
                    path_rules=[
                        gcp.compute.RegionUrlMapPathMatcherPathRuleArgs(
                            paths=["/api", "/api/*"], service=api_backend.id
                        )
                    ],
                )
            ],
            opts=child,
        )
        self.ssl_policy = gcp.compute.RegionSslPolicy(
            f"{name}-tls",
            project=args.project,
            region=args.region,
            profile=args.tls_profile,
            min_tls_version=args.tls_min_version,
            opts=child,
        )
        https_proxy = gcp.compute.RegionTargetHttpsProxy(
            f"{name}-https",
            project=args.project,
            region=args.region,
            url_map=url_map.id,
            ssl_policy=self.ssl_policy.id,
            # A Certificate Manager certificate created out of band: its private key never enters Pulumi.
            certificate_manager_certificates=[args.certificate],
            opts=child,
        )
        self.https_rule = self._forwarding_rule(f"{name}-https", args, https_proxy.id, "443")
        # Port 80 only answers with a redirect to HTTPS; no backend is reachable over plain HTTP.
        redirect_map = gcp.compute.RegionUrlMap(
            f"{name}-redirect",
            project=args.project,
            region=args.region,
            default_url_redirect=gcp.compute.RegionUrlMapDefaultUrlRedirectArgs(
                https_redirect=True, strip_query=False, redirect_response_code="MOVED_PERMANENTLY_DEFAULT"
            ),
            opts=child,
        )
        http_proxy = gcp.compute.RegionTargetHttpProxy(
            f"{name}-redirect", project=args.project, region=args.region, url_map=redirect_map.id, opts=child
        )
        self.http_rule = self._forwarding_rule(f"{name}-http", args, http_proxy.id, "80")
        self.ip_address = self.address.address
        self.register_outputs({"ipAddress": self.ip_address})

    def _run(
        self,
        name: str,
        args: ServiceArgs,
        spec: S3nsContainerSpec,
        service_account: pulumi.Input[str],
        envs: list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgs],
    ) -> gcp.cloudrunv2.Service:
        return gcp.cloudrunv2.Service(
            name,
            project=args.project,
            location=args.region,
            # Only the load balancer reaches the service; its run.app address is turned off.
            ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            default_uri_disabled=True,
            invoker_iam_disabled=True,
            deletion_protection=args.deletion_protection,
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                service_account=service_account,
                # CMEK: the copy of the container image Cloud Run keeps is under the stack's key.
                encryption_key=args.run_key_id,
                execution_environment="EXECUTION_ENVIRONMENT_GEN2",
                scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(
                    min_instance_count=spec.min_instances, max_instance_count=spec.max_instances
                ),
                # Direct VPC egress: every outbound packet leaves through the VPC, reaching Cloud SQL's
                # private address and nothing on the Internet (no NAT exists).
                vpc_access=gcp.cloudrunv2.ServiceTemplateVpcAccessArgs(
                    network_interfaces=[
                        gcp.cloudrunv2.ServiceTemplateVpcAccessNetworkInterfaceArgs(
                            network=args.network_id, subnetwork=args.app_subnet_id
                        )
                    ],
                    egress="ALL_TRAFFIC",
                ),
                containers=[
                    gcp.cloudrunv2.ServiceTemplateContainerArgs(
                        image=spec.image,
                        ports=gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=spec.port),
                        resources=gcp.cloudrunv2.ServiceTemplateContainerResourcesArgs(
                            limits={"cpu": str(spec.cpu), "memory": f"{spec.memory_mb}Mi"}
                        ),
                        envs=envs,
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._after),
        )

    def _backend(
        self, name: str, args: ServiceArgs, service: gcp.cloudrunv2.Service
    ) -> gcp.compute.RegionBackendService:
        neg = gcp.compute.RegionNetworkEndpointGroup(
            f"{name}-neg",
            project=args.project,
            region=args.region,
            network_endpoint_type="SERVERLESS",
            cloud_run=gcp.compute.RegionNetworkEndpointGroupCloudRunArgs(service=service.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._after),
        )
        return gcp.compute.RegionBackendService(
            f"{name}-backend",
            project=args.project,
            region=args.region,
            load_balancing_scheme="EXTERNAL_MANAGED",
            protocol="HTTPS",
            backends=[
                gcp.compute.RegionBackendServiceBackendArgs(
                    group=neg.id, balancing_mode="UTILIZATION", capacity_scaler=1.0
                )
            ],
            log_config=gcp.compute.RegionBackendServiceLogConfigArgs(enable=True, sample_rate=1.0),
            security_policy=self.armor.id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._after, self.rate_limit]),
        )

    def _forwarding_rule(
        self, name: str, args: ServiceArgs, target: pulumi.Input[str], port: str
    ) -> gcp.compute.ForwardingRule:
        return gcp.compute.ForwardingRule(
            name,
            project=args.project,
            region=args.region,
            load_balancing_scheme="EXTERNAL_MANAGED",
            ip_protocol="TCP",
            port_range=port,
            target=target,
            ip_address=self.address.id,
            network=args.network_id,
            network_tier="STANDARD",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._after, args.proxy_subnet]),
        )
