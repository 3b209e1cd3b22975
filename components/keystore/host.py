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

from dataclasses import dataclass, field

import pulumi
import pulumiverse_scaleway as scaleway

from facts import xks
from facts.providers import home_region

from .cloud_init import BACKEND_PORT, METRICS_PORT, render_cloud_init
from .config import KeystoreStackConfig
from .supply_chain import locked_requirements

LB_PORT = 443  # what KMS connects to (XKS endpoints are https on 443)
# The load balancer's health check of each proxy (GET /healthz on the ops port); scripts/bench_failover.py
# configures HAProxy with the same values to measure a zone failover.
HEALTH_CHECK_DELAY_S = 5
HEALTH_CHECK_TIMEOUT_S = 2
HEALTH_CHECK_MAX_RETRIES = 2


@dataclass
class KeystoreHostArgs:
    """Inputs of :class:`KeystoreHost`; see :class:`KeystoreStackConfig` for each field's meaning."""

    config: KeystoreStackConfig
    region: str = field(default_factory=lambda: home_region("scaleway"))
    project_id: pulumi.Input[str] | None = None


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

        network = scaleway.network.PrivateNetwork(
            f"{name}-pn",
            name=f"{name}-xks",
            region=args.region,
            project_id=args.project_id,
            ipv4_subnet=scaleway.network.PrivateNetworkIpv4SubnetArgs(subnet=cfg.private_network_cidr),
            tags=tags,
            opts=child,
        )
        # One way out: a Public Gateway with a fixed address (NAT for the private network). The
        # instances get no public IP; the Secret Manager reader is only valid from this address; the
        # gateway's SSH bastion (custodian addresses only) is how the custodian reaches the hosts.
        egress_ip = scaleway.network.PublicGatewayIp(
            f"{name}-egress-ip", zone=cfg.zones[0], project_id=args.project_id, tags=tags, opts=child
        )
        gateway = scaleway.network.PublicGateway(
            f"{name}-gateway",
            name=f"{name}-xks-egress",
            type="VPC-GW-S",
            zone=cfg.zones[0],
            ip_id=egress_ip.id,
            bastion_enabled=bool(cfg.custodian_cidrs),
            allowed_ip_ranges=list(cfg.custodian_cidrs) or None,
            project_id=args.project_id,
            tags=tags,
            opts=child,
        )
        scaleway.network.GatewayNetwork(
            f"{name}-gateway-pn",
            gateway_id=gateway.id,
            private_network_id=network.id,
            enable_masquerade=True,
            ipam_configs=[scaleway.network.GatewayNetworkIpamConfigArgs(push_default_route=True)],
            zone=cfg.zones[0],
            opts=child,
        )

        # The secrets below (HSM PIN, TLS key, SigV4 keys) are encrypted under a key of our own in
        # Key Manager fr-par rather than Scaleway's default key, so the custodian can revoke them alone.
        secrets_key = scaleway.keymanager.Key(
            f"{name}-secrets-key",
            name=f"{name}-xks-secrets",
            description="Encrypts the XKS proxy's secrets in Secret Manager",
            usage="symmetric_encryption",
            algorithm="aes_256_gcm",
            origin="scaleway_kms",
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
            rules=[
                scaleway.iam.PolicyRuleArgs(
                    permission_set_names=["SecretManagerSecretAccess"],
                    project_ids=[args.project_id] if args.project_id is not None else None,
                    condition=egress_ip.address.apply(lambda ip: f'inIpRange(request.ip, "{ip}/32")'),
                )
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
                private_networks=[scaleway.instance.ServerPrivateNetworkArgs(pn_id=network.id)],
                user_data={"cloud-init": user_data},
                protected=True,
                tags=tags,
                opts=child,
            )
            for zone in cfg.zones
        ]

        lb_ip = scaleway.loadbalancers.Ip(
            f"{name}-lb-ip", zone=cfg.zones[0], project_id=args.project_id, tags=tags, opts=child
        )
        lb = scaleway.loadbalancers.LoadBalancer(
            f"{name}-lb",
            name=f"{name}-xks",
            type="LB-S",
            zone=cfg.zones[0],
            ip_ids=[lb_ip.id],
            project_id=args.project_id,
            private_networks=[
                scaleway.loadbalancers.LoadBalancerPrivateNetworkArgs(private_network_id=network.id)
            ],
            tags=tags,
            opts=child,
        )

        def first_private_ip(ips: object) -> str:
            if isinstance(ips, list) and ips and isinstance(ips[0], dict):
                return str(ips[0].get("address", ""))
            return ""

        backend = scaleway.loadbalancers.Backend(
            f"{name}-backend",
            lb_id=lb.id,
            name="xks-proxies",
            # TLS passthrough: TCP in, TCP out; the proxy terminates TLS (and mTLS) itself. PROXY
            # protocol v2 carries KMS's address to the proxy (its logs and per-client limits).
            forward_protocol="tcp",
            forward_port=BACKEND_PORT,
            proxy_protocol="v2",
            server_ips=[s.private_ips.apply(first_private_ip) for s in servers],
            health_check_port=METRICS_PORT,
            health_check_http=scaleway.loadbalancers.BackendHealthCheckHttpArgs(uri="/healthz", code=200),
            health_check_delay=f"{HEALTH_CHECK_DELAY_S}s",
            health_check_timeout=f"{HEALTH_CHECK_TIMEOUT_S}s",
            health_check_max_retries=HEALTH_CHECK_MAX_RETRIES,
            opts=child,
        )
        scaleway.loadbalancers.Frontend(
            f"{name}-frontend",
            lb_id=lb.id,
            backend_id=backend.id,
            name="xks-tls-passthrough",
            inbound_port=LB_PORT,
            timeout_client="60s",
            opts=child,
        )

        self.endpoint = pulumi.Output.from_input(f"https://{cfg.endpoint_hostname}")
        self.uri_path = pulumi.Output.from_input(f"{cfg.path_prefix}{xks.API_PATH}")
        self.load_balancer_ip = lb_ip.ip_address
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "uriPath": self.uri_path,
                "loadBalancerIp": self.load_balancer_ip,
                "secretIds": pulumi.Output.all(**{k: s.id for k, s in secrets.items()}),
                "secretReaderApplicationId": app.id,
                "egressIp": egress_ip.address,
                "softwareHsm": cfg.software_hsm,
            }
        )
