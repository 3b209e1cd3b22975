"""``ScalewayBookingPlatform``: the booking platform entirely in Scaleway fr-par.

Parts, each a ComponentResource so an auditor sees the shape in the resource tree:

- ``Network``: VPC and one Private Network; nothing that holds data has a public address.
- ``Keys``: Key Manager keys (AES-256-GCM, automatic rotation), one per data domain.
- ``Database``: managed PostgreSQL, encrypted at rest, reachable on the Private Network only.
- ``Secrets``: the generated database password, in Secret Manager under our own key.
- ``Documents``: Object Storage bucket, SSE under a Key Manager key, versioned, private, TLS only.
- ``Service``: Serverless Containers (api, web) behind a load balancer with HTTPS only.
- ``Observability``: Cockpit data sources for application logs and metrics.

Where Scaleway offers no customer-managed key the code carries a ``# NO-CUSTOMER-KEY:`` comment
and the part exposes ``no_customer_key`` (a list of what is covered by a Scaleway-held key only),
so that the policies can record a justified exception instead of a silent gap.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_random as random
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs, ScalewayContainerSpec

TYPE_PREFIX = "booking:scaleway"

#: Data domains that get their own Key Manager key (crypto-shredding one domain at a time).
#: ``database`` is for application-level envelope encryption of health fields: Managed Database
#: encryption at rest uses a Scaleway-held key (see ``Database``), so the application adds its own.
KEY_DOMAINS: tuple[str, ...] = ("database", "documents", "secrets")


def _tags(args: ScalewayBookingPlatformArgs, part: str) -> list[str]:
    base = {"app": "booking", "environment": args.environment, "part": part, "data": "health"}
    base.update(args.tags)
    return [f"{k}:{v}" if v else k for k, v in sorted(base.items())]


def _uuid(regional_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Scaleway ids in state read ``fr-par/<uuid>``; several APIs want the bare uuid."""
    return pulumi.Output.from_input(regional_id).apply(lambda value: str(value).split("/")[-1])


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
            tags=_tags(args, "network"),
            opts=child,
        )
        self.private_network = scw.network.PrivateNetwork(
            f"{name}-pn",
            name=f"{args.name_prefix}-private",
            vpc_id=self.vpc.id,
            region=args.region,
            project_id=args.project_id,
            ipv4_subnet=scw.network.PrivateNetworkIpv4SubnetArgs(subnet=args.private_cidr),
            tags=_tags(args, "network"),
            opts=child,
        )
        self.private_network_id = self.private_network.id
        self.register_outputs({"vpc_id": self.vpc.id, "private_network_id": self.private_network.id})


class Keys(pulumi.ComponentResource):
    """Key Manager keys in fr-par: symmetric AES-256-GCM, rotated automatically, protected."""

    def __init__(self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"{TYPE_PREFIX}:Keys", name, None, opts)
        self.keys: dict[str, scw.keymanager.Key] = {}
        for domain in KEY_DOMAINS:
            self.keys[domain] = scw.keymanager.Key(
                f"{name}-{domain}",
                name=f"{args.name_prefix}-{domain}",
                description=f"Booking platform ({args.environment}): protects {domain} data",
                usage="symmetric_encryption",
                # AES-256-GCM: authenticated encryption, the Key Manager default for data keys.
                algorithm="aes_256_gcm",
                # Keys are generated inside Key Manager in fr-par (not imported from elsewhere).
                origin="scaleway_kms",
                rotation_policy=scw.keymanager.KeyRotationPolicyArgs(
                    rotation_period=f"{args.key_rotation_days * 24}h"
                ),
                # A protected key cannot be deleted by `pulumi destroy`: shredding health data must be
                # a deliberate act, not a side effect of tearing down a stack.
                unprotected=not args.keys_protected,
                region=args.region,
                project_id=args.project_id,
                tags=_tags(args, "keys"),
                opts=pulumi.ResourceOptions(parent=self, protect=args.keys_protected),
            )
        self.key_ids = {domain: _uuid(key.id) for domain, key in self.keys.items()}
        self.register_outputs({"key_ids": self.key_ids})


class Database(pulumi.ComponentResource):
    """Managed PostgreSQL on the Private Network only, encrypted at rest, backed up in fr-par.

    # NO-CUSTOMER-KEY: Managed Databases encrypt volumes, logs and snapshots with LUKS
    # (aes-xts-plain64) under a key that Scaleway manages; no Key Manager key can be given, and
    # logical backups are not encrypted by that feature (Scaleway docs, Managed Databases concepts,
    # "Encryption at rest"). Mitigation: the application encrypts health fields with the `database`
    # Key Manager key (envelope encryption) before they reach PostgreSQL.
    """

    #: What in this part is covered by a Scaleway-held key only (read by the policies).
    no_customer_key: tuple[str, ...] = ("database-volume", "database-snapshots", "database-logical-backups")

    def __init__(
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        private_network_id: pulumi.Input[str],
        password: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # NO-CUSTOMER-KEY: `encryption_at_rest` uses a Scaleway-managed LUKS key (see class docstring).
        self.instance = scw.databases.Instance(
            f"{name}-postgres",
            name=f"{args.name_prefix}-postgres",
            engine=args.db_engine,
            node_type=args.db_node_type,
            is_ha_cluster=args.db_high_availability,
            encryption_at_rest=args.db_encryption_at_rest,
            volume_type=args.db_volume_type,
            volume_size_in_gb=args.db_volume_gb,
            user_name=args.db_admin_user,
            password=password,
            # Only a Private Network endpoint and no `load_balancer` block: the instance gets no
            # public endpoint at all, so no ACL can ever open it to the Internet.
            private_network=scw.databases.InstancePrivateNetworkArgs(
                pn_id=private_network_id, enable_ipam=True
            ),
            disable_backup=False,
            backup_schedule_frequency=args.backup_frequency_hours,
            backup_schedule_retention=args.backup_retention_days,
            # Without it Scaleway may keep logical backups in another region (HDS: data in France).
            backup_same_region=args.backup_same_region,
            region=args.region,
            project_id=args.project_id,
            tags=_tags(args, "database"),
            # Losing the booking history is not an acceptable outcome of a mistaken `pulumi destroy`.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.database = scw.databases.Database(
            f"{name}-db",
            name=args.db_name,
            instance_id=self.instance.id,
            region=args.region,
            opts=child,
        )
        endpoint = self.instance.private_network.apply(lambda pn: pn or {})
        self.host = endpoint.apply(lambda pn: str(_get(pn, "ip") or _get(pn, "hostname") or ""))
        self.port = endpoint.apply(lambda pn: int(_get(pn, "port") or 5432))
        self.register_outputs(
            {
                "instance_id": self.instance.id,
                "host": self.host,
                "port": self.port,
                "no_customer_key": list(self.no_customer_key),
            }
        )


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


class Secrets(pulumi.ComponentResource):
    """Generates the database password and keeps it in Secret Manager under our `secrets` key."""

    def __init__(
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        secrets_key_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Scaleway's password rules: 8+ characters with upper, lower, digit and special characters.
        self.password = random.RandomPassword(
            f"{name}-db-password",
            length=32,
            special=True,
            override_special="!#%*-_=+",
            min_upper=2,
            min_lower=2,
            min_numeric=2,
            min_special=2,
            opts=child,
        )
        # RandomPassword.result is already a Pulumi secret; wrap again so no refactor can leak it.
        self.db_password: pulumi.Output[str] = pulumi.Output.secret(self.password.result)
        self.db_secret = scw.secrets.Secret(
            f"{name}-db-credentials",
            name=f"{args.name_prefix}-db-credentials",
            path="/booking",
            description="PostgreSQL administrator credentials of the booking platform",
            type="database_credentials",
            # Encrypted under our own Key Manager key rather than Secret Manager's internal key.
            key_id=secrets_key_id,
            protected=args.secrets_protected,
            region=args.region,
            project_id=args.project_id,
            tags=_tags(args, "secrets"),
            opts=child,
        )
        self.db_secret_id = self.db_secret.id
        self.register_outputs({"db_secret_id": self.db_secret.id})

    def store_credentials(
        self, args: ScalewayBookingPlatformArgs, host: pulumi.Input[str], port: pulumi.Input[int]
    ) -> scw.secrets.Version:
        """Writes the credentials once the database endpoint is known (a secret version)."""
        payload: pulumi.Output[str] = pulumi.Output.all(self.db_password, host, port).apply(
            lambda v: json.dumps(
                {
                    "engine": "postgres",
                    "username": args.db_admin_user,
                    "password": v[0],
                    "host": v[1],
                    "port": str(v[2]),
                    "dbname": args.db_name,
                }
            )
        )
        return scw.secrets.Version(
            f"{self._name}-db-credentials-v1",
            secret_id=self.db_secret.id,
            # The payload derives from a secret, so it is one; `additional_secret_outputs` keeps the
            # state's copy secret too.
            data=payload,
            description="initial credentials",
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["data"]),
        )


class Documents(pulumi.ComponentResource):
    """Patients' documents: a private, versioned bucket, SSE under a Key Manager key, TLS only.

    Follows Scaleway's "How to create a compliant bucket to host healthcare data": fr-par, private,
    a dedicated bucket with no lifecycle rule (lifecycle rules and the Glacier class void HDS
    compliance there), bucket encryption enabled and a bucket policy restricting access.
    """

    def __init__(
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        documents_key_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Documents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = f"{args.name_prefix}-documents"
        self.bucket = scw.object.Bucket(
            f"{name}-bucket",
            name=bucket_name,
            region=args.region,
            project_id=args.project_id,
            versioning=scw.object.BucketVersioningArgs(enabled=args.documents_versioning),
            # Never delete objects along with the bucket; and no lifecycle_rules (HDS guidance).
            force_destroy=False,
            tags={**{"app": "booking", "environment": args.environment, "data": "health"}, **dict(args.tags)},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.acl = scw.object.BucketAcl(
            f"{name}-acl",
            bucket=self.bucket.name,
            acl="private",
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        self.encryption = scw.object.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=self.bucket.name,
            region=args.region,
            project_id=args.project_id,
            rules=[
                scw.object.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        scw.object.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms",
                            kms_master_key_id=documents_key_id,
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        # The API reads and writes documents as its own IAM application, nothing else does.
        self.application = scw.iam.Application(
            f"{name}-api-app",
            name=f"{args.name_prefix}-api",
            description="Booking API: access to the documents bucket",
            tags=_tags(args, "documents"),
            opts=child,
        )
        self.api_key = scw.iam.ApiKey(
            f"{name}-api-key",
            application_id=self.application.id,
            description="Booking API Object Storage access (Serverless Container secret)",
            default_project_id=args.project_id,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_key"]),
        )
        self.iam_policy = scw.iam.Policy(
            f"{name}-api-policy",
            name=f"{args.name_prefix}-api-documents",
            application_id=self.application.id,
            # Scoped to the stack's project when one is configured (scalewayProjectId).
            rules=[
                scw.iam.PolicyRuleArgs(
                    permission_set_names=["ObjectStorageObjectsRead", "ObjectStorageObjectsWrite"],
                    project_ids=[args.project_id] if args.project_id else None,
                )
            ],
            opts=child,
        )
        principals = pulumi.Output.all(self.application.id).apply(
            lambda ids: [f"application_id:{_uuid_str(ids[0])}", *args.documents_admin_principals]
        )
        self.policy_document = principals.apply(lambda p: tls_only_policy(bucket_name, p))
        self.policy = scw.object.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.name,
            policy=self.policy_document,
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        self.bucket_name = self.bucket.name
        self.register_outputs(
            {
                "bucket_name": self.bucket.name,
                "sse_algorithm": "aws:kms",
                "kms_key_id": documents_key_id,
                "application_id": self.application.id,
            }
        )


def _uuid_str(value: str) -> str:
    return str(value).split("/")[-1]


def tls_only_policy(bucket: str, principals: list[str]) -> str:
    """Scaleway bucket policy: named principals over TLS only, everything else denied.

    Scaleway bucket policies deny whatever they do not allow, so the Allow lists who may act; the
    explicit Deny on ``aws:SecureTransport = false`` makes the TLS requirement readable by tools.
    """
    resources = [bucket, f"{bucket}/*"]
    document = {
        "Version": "2023-04-17",
        "Id": f"{bucket}-tls-only",
        "Statement": [
            {
                "Sid": "AllowNamedPrincipalsOverTls",
                "Effect": "Allow",
                "Principal": {"SCW": principals},
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:ListBucket",
                    "s3:GetObjectVersion",
                    "s3:ListBucketVersions",
                ],
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    return json.dumps(document, sort_keys=True)


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
            tags=_tags(args, "service"),
            opts=child,
        )
        self.containers: dict[str, scw.containers.Container] = {}
        for label, spec in (("api", args.api), ("web", args.web)):
            self.containers[label] = self._container(
                name, label, spec, args, private_network_id, environment, secret_environment
            )

        # -- load balancer --------------------------------------------------------------------
        self.ip = scw.loadbalancers.Ip(
            f"{name}-lb-ip", zone=args.zone, project_id=args.project_id, tags=_tags(args, "edge"), opts=child
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
            tags=_tags(args, "edge"),
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
            tags=_tags(args, "service"),
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
            resource=scw.ipam.GetIpsResourceArgs(type="serverless_container", id=_uuid_str(container_id)),
        )
        return found.ips.apply(
            lambda ips: [str(_get(ip, "address")).split("/")[0] for ip in (ips or []) if _get(ip, "address")]
        )

    return pulumi.Output.all(container.id, private_network_id).apply(lookup)


class Observability(pulumi.ComponentResource):
    """Cockpit in fr-par: data sources for the application's logs and metrics, and a push token.

    # NO-CUSTOMER-KEY: Cockpit stores logs and metrics under Scaleway-managed encryption; no Key
    # Manager key can be attached. Applications must not log health data (pseudonymous ids only).
    """

    no_customer_key: tuple[str, ...] = ("cockpit-logs", "cockpit-metrics")

    def __init__(self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"{TYPE_PREFIX}:Observability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.logs = scw.observability.Source(
            f"{name}-logs",
            name=f"{args.name_prefix}-logs",
            type="logs",
            retention_days=args.log_retention_days,
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        self.metrics = scw.observability.Source(
            f"{name}-metrics",
            name=f"{args.name_prefix}-metrics",
            type="metrics",
            retention_days=args.metrics_retention_days,
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        # Write-only token for the containers: they can push, not read anyone's logs back.
        self.token = scw.observability.Token(
            f"{name}-push-token",
            name=f"{args.name_prefix}-push",
            region=args.region,
            project_id=args.project_id,
            scopes=scw.observability.TokenScopesArgs(
                write_logs=True,
                write_metrics=True,
                query_logs=False,
                query_metrics=False,
                query_traces=False,
                write_traces=False,
                setup_alerts=False,
                setup_logs_rules=False,
                setup_metrics_rules=False,
            ),
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_key"]),
        )
        self.register_outputs(
            {
                "logs_push_url": self.logs.push_url,
                "metrics_push_url": self.metrics.push_url,
                "no_customer_key": list(self.no_customer_key),
            }
        )


class ScalewayBookingPlatform(pulumi.ComponentResource):
    """The medical booking platform in Scaleway fr-par (option B of the blueprint)."""

    #: Everything in this stack protected only by a Scaleway-held key, for the policies' exceptions.
    no_customer_key: list[str]

    def __init__(
        self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ScalewayBookingPlatform", name, None, opts)
        part = pulumi.ResourceOptions(parent=self)

        self.network = Network(f"{name}-network", args, part)
        self.keys = Keys(f"{name}-keys", args, part)
        self.secrets = Secrets(f"{name}-secrets", args, self.keys.key_ids["secrets"], part)
        self.database = Database(
            f"{name}-database",
            args,
            self.network.private_network_id,
            self.secrets.db_password,
            part,
        )
        self.db_credentials = self.secrets.store_credentials(args, self.database.host, self.database.port)
        self.documents = Documents(f"{name}-documents", args, self.keys.key_ids["documents"], part)
        self.observability = Observability(f"{name}-observability", args, part)

        environment: dict[str, pulumi.Input[str]] = {
            "BOOKING_ENVIRONMENT": args.environment,
            "SCW_DEFAULT_REGION": args.region,
            "DATABASE_HOST": self.database.host,
            "DATABASE_PORT": self.database.port.apply(str),
            "DATABASE_NAME": args.db_name,
            "DATABASE_USER": args.db_admin_user,
            "DATABASE_SSLMODE": "verify-full",
            "DATABASE_SECRET_ID": self.secrets.db_secret_id,
            "DATABASE_FIELD_KEY_ID": self.keys.key_ids["database"],
            "DOCUMENTS_BUCKET": self.documents.bucket_name,
            "DOCUMENTS_ENDPOINT": f"https://s3.{args.region}.scw.cloud",
            "COCKPIT_LOGS_URL": self.observability.logs.push_url,
        }
        secret_environment: dict[str, pulumi.Input[str]] = {
            "DATABASE_PASSWORD": self.secrets.db_password,
            "SCW_ACCESS_KEY": pulumi.Output.secret(self.documents.api_key.access_key),
            "SCW_SECRET_KEY": pulumi.Output.secret(self.documents.api_key.secret_key),
            "COCKPIT_TOKEN": pulumi.Output.secret(self.observability.token.secret_key),
        }
        self.service = Service(
            f"{name}-service",
            args,
            self.network.private_network_id,
            environment,
            secret_environment,
            part,
        )

        self.no_customer_key = [
            *Database.no_customer_key,
            *Observability.no_customer_key,
            "load-balancer-tls-private-key",
            "container-ephemeral-storage",
        ]
        self.url = pulumi.Output.concat("https://", args.domain)
        self.register_outputs(
            {
                "url": self.url,
                "region": args.region,
                "public_ip": self.service.public_ip,
                "private_network_id": self.network.private_network_id,
                "database_instance_id": self.database.instance.id,
                "database_secret_id": self.secrets.db_secret_id,
                "documents_bucket": self.documents.bucket_name,
                "key_ids": self.keys.key_ids,
                "no_customer_key": self.no_customer_key,
            }
        )
