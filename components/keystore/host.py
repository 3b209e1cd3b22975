"""KeystoreHost: the XKS proxy on Scaleway instances in two or three fr-par zones.

Traffic: AWS KMS -> Scaleway load balancer (TCP 443, TLS *passthrough*, PROXY protocol v2, so the proxy
terminates TLS, can demand the KMS client certificate and sees KMS's address) -> instances on a private
network (port 443 redirected to 8443, no public IP) -> HSM (PKCS#11 client library). Egress leaves through one Public
Gateway with a fixed address. Secrets never pass through Pulumi: the component creates *empty* Secret
Manager secrets and an IAM application allowed to read them only from the gateway's address; the key
custodian stores the HSM PIN, the SigV4 secret access key(s) and the TLS private key, creates a
short-lived API key for that application and delivers it out of band (docs/xks-proxy.md). The boot
script (cloud_init.py) installs the proxy from a signed commit with hash-pinned dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumiverse_scaleway as scaleway

from facts import xks
from facts.providers import home_region
from facts.scaleway import key_protection_levels, permissions_for

from .cloud_init import BACKEND_PORT, METRICS_PORT, render_cloud_init
from .config import KeystoreStackConfig
from .supply_chain import locked_requirements

LB_PORT = 443  # what KMS connects to (XKS endpoints are https on 443)
#: Where DNS failover checks each balancer: /healthz of the proxies' ops port, nothing else.
HEALTH_PORT = 8080
HEALTH_PATH = "/healthz"
# The load balancer's health check of each proxy (GET /healthz on the ops port); scripts/bench_failover.py
# configures HAProxy with the same values to measure a zone failover.
HEALTH_CHECK_DELAY_S = 5
HEALTH_CHECK_TIMEOUT_S = 2
HEALTH_CHECK_MAX_RETRIES = 2


@dataclass
class KeystoreHostArgs:
    """Inputs of :class:`KeystoreHost`; see :class:`KeystoreStackConfig` for each field's meaning."""

    config: KeystoreStackConfig
    #: The Scaleway project of every resource; every IAM rule is scoped to it (Scaleway requires a
    #: project or organization per rule: data/facts/scaleway.yaml, iam-rule-scope).
    project_id: str
    region: str = field(default_factory=lambda: home_region("scaleway"))

    def __post_init__(self) -> None:
        if not re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", self.project_id):
            raise ValueError(f"project_id: must be a Scaleway project id (a UUID), got {self.project_id!r}")


class KeystoreHost(pulumi.ComponentResource):
    """The French key store's XKS proxy fleet, its load balancer and its (empty) secrets."""

    endpoint: pulumi.Output[str]
    uri_path: pulumi.Output[str]
    load_balancer_ip: pulumi.Output[str]

    def __init__(self, name: str, args: KeystoreHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:keystore:KeystoreHost", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        if cfg.software_hsm:
            # Also flagged by the policies (advisory): SoftHSM keeps keys in files on each instance,
            # so two instances would not even share key material.
            pulumi.log.warn(
                f"{name}: hsmKind is softhsm: not fit for production (keys in files, one token per instance)",
                self,
            )
        tags = ["xks-proxy", f"hsm-kind={cfg.hsm_kind}", "data-class=key-material"]

        # One cell per zone: a Private Network, a Public Gateway (egress, fixed address), a VPN gateway
        # to the ministry's HSM, one proxy and one load balancer. Each of these products is zonal
        # (data/facts/scaleway.yaml, zonal-products): a zone's loss takes its cell only.
        vpc = scaleway.network.Vpc(
            f"{name}-vpc",
            name=f"{name}-xks",
            region=args.region,
            project_id=args.project_id,
            tags=tags,
            opts=child,
        )
        subnets = cfg.zone_subnets()
        networks: dict[str, scaleway.network.PrivateNetwork] = {}
        egress_ips: dict[str, scaleway.network.PublicGatewayIp] = {}
        for zone in cfg.zones:
            networks[zone] = scaleway.network.PrivateNetwork(
                f"{name}-pn-{zone}",
                name=f"{name}-xks-{zone}",
                vpc_id=vpc.id,
                region=args.region,
                project_id=args.project_id,
                ipv4_subnet=scaleway.network.PrivateNetworkIpv4SubnetArgs(subnet=subnets[zone]),
                tags=tags,
                opts=child,
            )
            # The cell's one way out to the Internet (NAT, fixed address). The instances get no public IP;
            # the Secret Manager reader is only valid from these addresses; the gateway's SSH bastion
            # (custodian addresses only) is how the custodian reaches the hosts.
            egress_ips[zone] = scaleway.network.PublicGatewayIp(
                f"{name}-egress-ip-{zone}", zone=zone, project_id=args.project_id, tags=tags, opts=child
            )
            gateway = scaleway.network.PublicGateway(
                f"{name}-gateway-{zone}",
                name=f"{name}-xks-egress-{zone}",
                type="VPC-GW-S",
                zone=zone,
                ip_id=egress_ips[zone].id,
                bastion_enabled=bool(cfg.custodian_cidrs),
                allowed_ip_ranges=list(cfg.custodian_cidrs) or None,
                project_id=args.project_id,
                tags=tags,
                opts=child,
            )
            scaleway.network.GatewayNetwork(
                f"{name}-gateway-pn-{zone}",
                gateway_id=gateway.id,
                private_network_id=networks[zone].id,
                enable_masquerade=True,
                ipam_configs=[scaleway.network.GatewayNetworkIpamConfigArgs(push_default_route=True)],
                zone=zone,
                opts=child,
            )
        if cfg.hsm_path is not None:
            _hsm_path(name, cfg, args, networks, subnets, tags, child)
        # Each balancer's address on each Private Network, reserved before anything else takes an address
        # there: the proxies accept PROXY protocol from these addresses only.
        balancer_ips = {
            lb_zone: {
                net_zone: scaleway.ipam.Ip(
                    f"{name}-lb-pn-ip-{lb_zone}-{net_zone}",
                    address=address,
                    sources=[scaleway.ipam.IpSourceArgs(private_network_id=networks[net_zone].id)],
                    region=args.region,
                    project_id=args.project_id,
                    tags=tags,
                    opts=child,
                )
                for net_zone, address in per_network.items()
            }
            for lb_zone, per_network in cfg.balancer_addresses().items()
        }
        reserved = [ip for per_network in balancer_ips.values() for ip in per_network.values()]

        # The secrets below (HSM PIN, TLS key, SigV4 keys) are encrypted under a key of our own in
        # Key Manager fr-par rather than Scaleway's default key, so the custodian can revoke them alone.
        secrets_key = scaleway.keymanager.Key(
            f"{name}-secrets-key",
            name=f"{name}-xks-secrets",
            description="Encrypts the XKS proxy's secrets in Secret Manager",
            usage="symmetric_encryption",
            algorithm="aes_256_gcm",
            origin="scaleway_kms",
            # Operations inside Scaleway's HSM (data/facts/scaleway.yaml, key-manager-hsm-protection).
            protection_level=key_protection_levels()[0],
            rotation_policy=scaleway.keymanager.KeyRotationPolicyArgs(rotation_period=f"{90 * 24}h"),
            region=args.region,
            project_id=args.project_id,
            tags=tags,
            opts=child,
        )
        secrets_key_id = secrets_key.id.apply(lambda regional: regional.split("/")[-1])
        # Empty secrets: values are set by the key custodian, so they never enter Pulumi state.
        secret_names = {"hsm-pin": "HSM user PIN", "tls-key.pem": "TLS private key of the proxy (PEM)"}
        secret_names.update(
            {f"sigv4-{akid}": f"SigV4 secret access key for {akid}" for akid in cfg.access_key_ids}
        )
        secrets = {
            fname: scaleway.secrets.Secret(
                f"{name}-{fname.replace('.', '-').lower()}",
                name=f"{name}-{fname.replace('.', '-').lower()}",
                path="/xks",
                description=f"{desc} (set by the key custodian; read by the XKS proxy at start)",
                region=args.region,
                project_id=args.project_id,
                key_id=secrets_key_id,
                protected=True,
                tags=tags,
                opts=child,
            )
            for fname, desc in secret_names.items()
        }

        # Least privilege: read secrets of this project, and only from the stack's egress address. No API
        # key is created here (it would sit in the state and the user-data): the custodian creates a
        # short-lived one for this application and delivers it out of band (docs/xks-proxy.md).
        app = scaleway.iam.Application(
            f"{name}-reader",
            name=f"{name}-xks-secret-reader",
            # What it does (data/facts/scaleway.yaml permission-need rows; checked by BK-IAM-001).
            tags=[*tags, "use:secret-read"],
            opts=child,
        )
        scaleway.iam.Policy(
            f"{name}-reader-policy",
            name=f"{name}-xks-secret-reader",
            application_id=app.id,
            # One rule per cell's egress address (rules add up), each scoped to the stack's project:
            # Scaleway requires a project or organization per rule (data/facts/scaleway.yaml).
            rules=[
                scaleway.iam.PolicyRuleArgs(
                    permission_set_names=list(permissions_for(("secret-read",))),
                    project_ids=[args.project_id],
                    condition=egress_ips[zone].address.apply(lambda ip: f'inIpRange(request.ip, "{ip}/32")'),
                )
                for zone in cfg.zones
            ],
            opts=child,
        )

        # Instances have no public interface (security groups filter only that one); the outbound
        # rules still say what may leave, should a public IP ever be attached. Host egress itself is
        # filtered by nftables and the unit's IP allow-list (cloud_init.py).
        outbound = [
            scaleway.instance.SecurityGroupOutboundRuleArgs(action="accept", protocol="TCP", port=443),
            scaleway.instance.SecurityGroupOutboundRuleArgs(action="accept", protocol="UDP", port=53),
            scaleway.instance.SecurityGroupOutboundRuleArgs(action="accept", protocol="UDP", port=123),
            *(
                scaleway.instance.SecurityGroupOutboundRuleArgs(action="accept", protocol="ANY", ip_range=c)
                for c in cfg.hsm_cidrs
            ),
        ]
        security_group = {
            zone: scaleway.instance.SecurityGroup(
                f"{name}-sg-{zone}",
                name=f"{name}-xks-{zone}",
                zone=zone,
                project_id=args.project_id,
                inbound_default_policy="drop",
                outbound_default_policy="drop",
                outbound_rules=outbound,
                stateful=True,
                tags=tags,
                opts=child,
            )
            for zone in cfg.zones
        }

        fleet = len(cfg.zones)
        requirements = locked_requirements()
        secret_ids = {fname: s.id.apply(lambda i: i.split("/")[-1]) for fname, s in secrets.items()}
        # Holds no secret (secret ids are not secrets): left readable so a reviewer can audit it.
        user_data = pulumi.Output.all(**secret_ids).apply(
            lambda ids: render_cloud_init(cfg, fleet, args.region, ids, requirements)
        )
        servers = [
            scaleway.instance.Server(
                f"{name}-proxy-{zone}",
                name=f"{name}-xks-proxy-{zone}",
                zone=zone,
                type=cfg.instance_type,
                image=cfg.image,
                project_id=args.project_id,
                enable_dynamic_ip=False,  # no public IP: reached through the load balancer only
                security_group_id=security_group[zone].id,
                private_networks=[scaleway.instance.ServerPrivateNetworkArgs(pn_id=networks[zone].id)],
                user_data={"cloud-init": user_data},
                protected=True,
                tags=tags,
                # The boot script deletes its user data from the metadata API once it has run; a refresh
                # then sees it gone. Ignoring it keeps `pulumi up` from writing it back (a new boot
                # script takes a new instance: docs/deploy-scaleway.md).
                # After the balancers' reserved addresses, which must be taken first in the network.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["userData"], depends_on=reserved),
            )
            for zone in cfg.zones
        ]

        # One load balancer per zone, each reaching every proxy (a proxy's loss is the health check's
        # business, a zone's loss is DNS's): Scaleway load balancers are zonal (zonal-products).
        server_ips = [s.private_ips.apply(first_private_ipv4) for s in servers]
        lb_ips: dict[str, scaleway.loadbalancers.Ip] = {}
        for zone in cfg.zones:
            lb_ips[zone] = scaleway.loadbalancers.Ip(
                f"{name}-lb-ip-{zone}", zone=zone, project_id=args.project_id, tags=tags, opts=child
            )
            lb = scaleway.loadbalancers.LoadBalancer(
                f"{name}-lb-{zone}",
                name=f"{name}-xks-{zone}",
                type="LB-S",
                zone=zone,
                ip_ids=[lb_ips[zone].id],
                project_id=args.project_id,
                private_networks=[
                    scaleway.loadbalancers.LoadBalancerPrivateNetworkArgs(
                        private_network_id=networks[z].id, ipam_ids=balancer_ips[zone][z].id
                    )
                    for z in cfg.zones
                ],
                tags=tags,
                opts=child,
            )
            backend = scaleway.loadbalancers.Backend(
                f"{name}-backend-{zone}",
                lb_id=lb.id,
                name="xks-proxies",
                # TLS passthrough: TCP in, TCP out; the proxy terminates TLS (and mTLS) itself. PROXY
                # protocol v2 carries KMS's address to the proxy (its logs and per-client limits).
                forward_protocol="tcp",
                forward_port=BACKEND_PORT,
                proxy_protocol="v2",
                server_ips=server_ips,
                health_check_port=METRICS_PORT,
                health_check_http=scaleway.loadbalancers.BackendHealthCheckHttpArgs(uri="/healthz", code=200),
                health_check_delay=f"{HEALTH_CHECK_DELAY_S}s",
                health_check_timeout=f"{HEALTH_CHECK_TIMEOUT_S}s",
                health_check_max_retries=HEALTH_CHECK_MAX_RETRIES,
                opts=child,
            )
            scaleway.loadbalancers.Frontend(
                f"{name}-frontend-{zone}",
                lb_id=lb.id,
                backend_id=backend.id,
                name="xks-tls-passthrough",
                inbound_port=LB_PORT,
                timeout_client="60s",
                opts=child,
            )
            # What DNS failover checks: the proxies' /healthz through this balancer, nothing else. Port 443
            # demands AWS KMS's client certificate, which no DNS checker has; this frontend denies every
            # path but /healthz (no key material, no metrics), so it carries no data.
            health = scaleway.loadbalancers.Backend(
                f"{name}-health-backend-{zone}",
                lb_id=lb.id,
                name="xks-health",
                forward_protocol="http",
                forward_port=METRICS_PORT,
                server_ips=server_ips,
                health_check_port=METRICS_PORT,
                health_check_http=scaleway.loadbalancers.BackendHealthCheckHttpArgs(
                    uri=HEALTH_PATH, code=200
                ),
                opts=child,
            )
            scaleway.loadbalancers.Frontend(
                f"{name}-health-frontend-{zone}",
                lb_id=lb.id,
                backend_id=health.id,
                name="xks-health",
                inbound_port=HEALTH_PORT,
                acls=[
                    scaleway.loadbalancers.FrontendAclArgs(
                        name="health-path-only",
                        action=scaleway.loadbalancers.FrontendAclActionArgs(type="deny"),
                        match=scaleway.loadbalancers.FrontendAclMatchArgs(
                            http_filter="path_begin", http_filter_values=[HEALTH_PATH], invert=True
                        ),
                    )
                ],
                opts=child,
            )
        if cfg.dns_zone is not None:
            # DNS failover: Scaleway DNS answers only with the load balancers whose check passes
            # (data/facts/scaleway.yaml, dns-health-checked-records), so a zone's loss removes its
            # balancer from the answers. The check reads /healthz through each balancer's health frontend.
            scaleway.domain.Record(
                f"{name}-endpoint",
                dns_zone=cfg.dns_zone,
                name=cfg.endpoint_hostname.removesuffix(f".{cfg.dns_zone}"),
                type="A",
                data=lb_ips[cfg.zones[0]].ip_address,
                ttl=60,
                http_service=scaleway.domain.RecordHttpServiceArgs(
                    ips=[lb_ips[z].ip_address for z in cfg.zones],
                    # Any answer: the check is about reaching the balancer (a lost zone answers nothing);
                    # which proxies serve is the balancer's own health check's business. The proxy's
                    # body (ACTIVE, DEGRADED) has no text common to both that UNAVAILABLE lacks.
                    # Whether the DNS API accepts an empty text was not found in its documentation:
                    # docs/deploy-scaleway.md says to check it on the first run.
                    must_contain="",
                    url=f"http://{cfg.endpoint_hostname}:{HEALTH_PORT}{HEALTH_PATH}",
                    strategy="all",
                ),
                project_id=args.project_id,
                opts=child,
            )

        self.endpoint = pulumi.Output.from_input(f"https://{cfg.endpoint_hostname}")
        self.uri_path = pulumi.Output.from_input(f"{cfg.path_prefix}{xks.API_PATH}")
        self.load_balancer_ip = lb_ips[cfg.zones[0]].ip_address
        self.load_balancer_ips = {zone: ip.ip_address for zone, ip in lb_ips.items()}
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "uriPath": self.uri_path,
                "loadBalancerIp": self.load_balancer_ip,
                "loadBalancerIps": self.load_balancer_ips,
                "secretIds": pulumi.Output.all(**{k: s.id for k, s in secrets.items()}),
                "secretReaderApplicationId": app.id,
                "egressIps": {zone: ip.address for zone, ip in egress_ips.items()},
                "softwareHsm": cfg.software_hsm,
            }
        )


def first_private_ipv4(ips: object) -> str:
    """The instance's first private IPv4 address (the list also holds IPv6 ones; backends here are IPv4)."""
    for ip in ips if isinstance(ips, list) else []:
        address = str(ip.get("address", "") if isinstance(ip, dict) else getattr(ip, "address", "") or "")
        if address and ":" not in address:
            return address.split("/", maxsplit=1)[0]
    return ""


def _hsm_path(  # noqa: PLR0917 - a private helper of KeystoreHost
    name: str,
    cfg: KeystoreStackConfig,
    args: KeystoreHostArgs,
    networks: dict[str, scaleway.network.PrivateNetwork],
    subnets: dict[str, str],
    tags: list[str],
    child: pulumi.ResourceOptions,
) -> None:
    """The path to the ministry's HSM: a Site-to-Site VPN gateway per zone, each with its own tunnel.

    Scaleway sells no PKCS#11 network HSM (Key Manager's HSM keys answer REST only), so the HSM is the
    ministry's, on its premises. BGP over each tunnel propagates the HSM's prefixes into the VPC, so each
    zone's Private Network routes them through its own tunnel, never through the Public Gateway's default
    route. Routing policies admit only the HSM's prefixes in and the cells' subnets out (a Site-to-Site VPN
    blocks every route by default: data/facts/scaleway.yaml, site-to-site-vpn). Scaleway generates each
    tunnel's pre-shared key (scw s2s-vpn connection get / renew-psk): it never enters Pulumi state.
    """
    assert cfg.hsm_path is not None
    customer = scaleway.s2svpn.CustomerGateway(
        f"{name}-hsm-site",
        name=f"{name}-ministry-hsm-site",
        ipv4_public=cfg.hsm_path.customer_gateway_ip,
        asn=cfg.hsm_path.customer_asn,
        region=args.region,
        project_id=args.project_id,
        tags=tags,
        opts=child,
    )
    policy = scaleway.s2svpn.RoutingPolicy(
        f"{name}-hsm-routes",
        name=f"{name}-hsm-only",
        prefix_filter_ins=list(cfg.hsm_cidrs),
        prefix_filter_outs=[subnets[zone] for zone in cfg.zones],
        region=args.region,
        project_id=args.project_id,
        tags=tags,
        opts=child,
    )
    for zone in cfg.zones:
        gateway = scaleway.s2svpn.Gateway(
            f"{name}-vpn-{zone}",
            name=f"{name}-hsm-vpn-{zone}",
            gateway_type=cfg.hsm_path.gateway_type,
            private_network_id=networks[zone].id,
            zone=zone,
            region=args.region,
            project_id=args.project_id,
            tags=tags,
            opts=child,
        )
        scaleway.s2svpn.Connection(
            f"{name}-vpn-tunnel-{zone}",
            name=f"{name}-hsm-tunnel-{zone}",
            vpn_gateway_id=gateway.id,
            customer_gateway_id=customer.id,
            initiation_policy="vpn_gateway",
            enable_route_propagation=True,
            bgp_config_ipv4s=[scaleway.s2svpn.ConnectionBgpConfigIpv4Args(routing_policy_id=policy.id)],
            region=args.region,
            project_id=args.project_id,
            tags=tags,
            opts=child,
        )
