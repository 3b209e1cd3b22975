"""The booking API and web front on ECS Fargate behind an HTTPS-only Application Load Balancer."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.iam import policy_document, service_role
from components.aws.names import Names

#: TLS 1.3 with TLS 1.2 fallback, forward-secret AEAD ciphers only (ELB predefined policies).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"


@dataclass(frozen=True)
class ContainerSpec:
    """One Fargate service."""

    image: str
    port: int
    cpu: int
    memory_mb: int
    desired_count: int
    #: URL path pattern routed to this service; None for the default route.
    path_pattern: str | None = None
    health_check_path: str = "/health"


@dataclass(frozen=True)
class ServiceArgs:
    """Inputs of Service."""

    region: str
    names: Names
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    public_subnet_ids: Sequence[pulumi.Input[str]]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    #: ACM certificate for the HTTPS listener.
    certificate_arn: str
    api: ContainerSpec
    web: ContainerSpec
    logs_key_arn: pulumi.Input[str]
    #: Key for the Fargate ephemeral storage of every task (uploaded documents pass through it).
    ephemeral_storage_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    documents_bucket_arn: pulumi.Input[str]
    documents_key_arn: pulumi.Input[str]
    #: Secret holding the database credentials (managed by RDS).
    database_secret_arn: pulumi.Input[str]
    log_retention_days: int = 365
    deletion_protection: bool = True
    #: Groups the tasks also join (e.g. the one the database admits).
    extra_security_group_ids: Sequence[pulumi.Input[str]] = ()
    #: Requests one client IP may make in any 5 minutes before the WAF blocks it (AWS minimum: 100).
    waf_rate_limit: int = 2000
    #: ECS Exec (a shell in a running task, recorded under the logs key): off by default, a break-glass
    #: switch. The task roles hold what a session needs either way, so turning it on is one change.
    enable_execute_command: bool = False
    #: Minutes `pulumi up` waits for each service to reach steady state before failing.
    steady_state_timeout_minutes: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.steady_state_timeout_minutes <= 120:
            raise ValueError("ServiceArgs.steady_state_timeout_minutes: must be 1 to 120")
        if not 100 <= self.waf_rate_limit <= 2_000_000_000:
            raise ValueError(
                "ServiceArgs.waf_rate_limit: must be 100 to 2000000000 (AWS WAF rate-based rule limits)"
            )


class Service(pulumi.ComponentResource):
    """ECS cluster, task definitions, services, load balancer and its listeners."""

    load_balancer_dns: pulumi.Output[str]
    api_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:aws:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # ECS Exec sessions (a shell in a running task) are recorded in their own log group, under the
        # logs key, so what an operator did inside a container holding health data is on record.
        exec_log_group = aws.cloudwatch.LogGroup(
            f"{name}-exec-logs",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        # Container Insights creates this group itself, under no key of ours, when it is missing.
        insights_log_group = aws.cloudwatch.LogGroup(
            f"{name}-insights-logs",
            name=args.names.container_insights_log_group,
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            # Named: the documents key's policy allows Fargate for this cluster only (encryption context).
            name=args.names.cluster,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=aws.ecs.ClusterConfigurationArgs(
                managed_storage_configuration=aws.ecs.ClusterConfigurationManagedStorageConfigurationArgs(
                    fargate_ephemeral_storage_kms_key_id=args.ephemeral_storage_key_arn,
                    kms_key_id=args.ephemeral_storage_key_arn,
                ),
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    kms_key_id=args.logs_key_arn,
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=exec_log_group.name,
                        cloud_watch_encryption_enabled=True,
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[insights_log_group]),
        )

        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            vpc_id=args.vpc_id,
            description="Load balancer: HTTPS from anywhere, HTTP only to redirect",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="HTTPS from patients and professionals",
                ),
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=80,
                    to_port=80,
                    cidr_blocks=["0.0.0.0/0"],
                    description="HTTP, answered only by a redirect to HTTPS",
                ),
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=1024,
                    to_port=65535,
                    cidr_blocks=[args.vpc_cidr],
                    description="To the API and web tasks inside the VPC",
                )
            ],
            opts=child,
        )
        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[alb_sg.id],
            subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            opts=child,
        )
        self.web_acl = _web_acl(name, args, self.alb, child)
        https = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=args.certificate_arn,
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                        content_type="text/plain", message_body="Not found", status_code="404"
                    ),
                )
            ],
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-http-redirect",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
            opts=child,
        )

        execution_role = service_role(f"{name}-execution", "ecs-tasks.amazonaws.com", self)
        aws.iam.RolePolicyAttachment(
            f"{name}-execution-managed",
            role=execution_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-execution-secrets",
            role=execution_role.id,
            policy=pulumi.Output.all(args.database_secret_arn, args.secrets_key_arn).apply(
                lambda v: policy_document(
                    [
                        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [v[0]]},
                        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [v[1]]},
                    ]
                )
            ),
            opts=child,
        )
        task_role = service_role(f"{name}-task", "ecs-tasks.amazonaws.com", self)
        web_task_role = service_role(f"{name}-web-task", "ecs-tasks.amazonaws.com", self)
        for service, role in (("api", task_role), ("web", web_task_role)):
            # What an ECS Exec session needs: the SSM channels, the logs key (it encrypts the session)
            # and the exec log group (data/facts/aws.yaml ecs-exec-session).
            aws.iam.RolePolicy(
                f"{name}-{service}-task-exec",
                role=role.id,
                policy=pulumi.Output.all(args.logs_key_arn, exec_log_group.arn).apply(
                    lambda v: policy_document(
                        [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "ssmmessages:CreateControlChannel",
                                    "ssmmessages:CreateDataChannel",
                                    "ssmmessages:OpenControlChannel",
                                    "ssmmessages:OpenDataChannel",
                                ],
                                "Resource": ["*"],
                            },
                            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [v[0]]},
                            {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": ["*"]},
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:DescribeLogStreams",
                                    "logs:PutLogEvents",
                                ],
                                "Resource": [f"{v[1]}:*"],
                            },
                        ]
                    )
                ),
                opts=child,
            )
        aws.iam.RolePolicy(
            f"{name}-task-documents",
            role=task_role.id,
            policy=pulumi.Output.all(args.documents_bucket_arn, args.documents_key_arn).apply(
                lambda v: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                            "Resource": [f"{v[0]}/*"],
                        },
                        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [v[0]]},
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": [v[1]],
                        },
                    ]
                )
            ),
            opts=child,
        )

        self.api_security_group = aws.ec2.SecurityGroup(
            f"{name}-api-sg",
            vpc_id=args.vpc_id,
            description="Booking API and web tasks: from the load balancer only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=min(args.api.port, args.web.port),
                    to_port=max(args.api.port, args.web.port),
                    security_groups=[alb_sg.id],
                    description="From the load balancer",
                )
            ],
            # The tasks call AWS APIs only (ECR image pulls, S3, Secrets Manager, KMS, CloudWatch Logs),
            # all over HTTPS through the NAT gateways; the database port is opened by its own group.
            # DNS to the VPC resolver is not filtered by security groups.
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="HTTPS to AWS service endpoints",
                )
            ],
            opts=child,
        )

        for priority, (service, spec) in enumerate((("api", args.api), ("web", args.web)), start=10):
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-{service}-logs",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.logs_key_arn,
                opts=child,
            )
            # Only the API talks to the database; ECS resolves the secret at start, it never enters the state.
            secret_arns = [args.database_secret_arn] if service == "api" else []
            container = pulumi.Output.all(log_group.name, *secret_arns).apply(
                functools.partial(_container_definitions, service, spec, args.region)
            )
            task = aws.ecs.TaskDefinition(
                f"{name}-{service}-task",
                family=args.names.task_family(service),
                requires_compatibilities=["FARGATE"],
                network_mode="awsvpc",
                cpu=str(spec.cpu),
                memory=str(spec.memory_mb),
                execution_role_arn=execution_role.arn,
                task_role_arn=task_role.arn if service == "api" else web_task_role.arn,
                runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                    operating_system_family="LINUX", cpu_architecture="ARM64"
                ),
                container_definitions=container,
                opts=child,
            )
            target_group = aws.lb.TargetGroup(
                f"{name}-{service}-tg",
                port=spec.port,
                protocol="HTTP",
                target_type="ip",
                vpc_id=args.vpc_id,
                health_check=aws.lb.TargetGroupHealthCheckArgs(path=spec.health_check_path, matcher="200"),
                deregistration_delay=30,
                opts=child,
            )
            aws.lb.ListenerRule(
                f"{name}-{service}-route",
                listener_arn=https.arn,
                priority=priority if spec.path_pattern else 1000,
                conditions=[
                    aws.lb.ListenerRuleConditionArgs(
                        path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(
                            values=[spec.path_pattern or "/*"]
                        )
                    )
                ],
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
                opts=child,
            )
            aws.ecs.Service(
                f"{name}-{service}",
                cluster=self.cluster.arn,
                task_definition=task.arn,
                desired_count=spec.desired_count,
                launch_type="FARGATE",
                platform_version="LATEST",
                network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                    subnets=list(args.app_subnet_ids),
                    security_groups=[self.api_security_group.id, *args.extra_security_group_ids],
                    assign_public_ip=False,
                ),
                load_balancers=[
                    aws.ecs.ServiceLoadBalancerArgs(
                        target_group_arn=target_group.arn, container_name=service, container_port=spec.port
                    )
                ],
                deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                    enable=True, rollback=True
                ),
                enable_execute_command=args.enable_execute_command,
                # `pulumi up` fails when the tasks do not start (a key policy Fargate cannot use, an
                # image that does not pull) instead of reporting success with zero running tasks.
                wait_for_steady_state=True,
                propagate_tags="SERVICE",
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[https],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{args.steady_state_timeout_minutes}m",
                        update=f"{args.steady_state_timeout_minutes}m",
                    ),
                ),
            )

        self.load_balancer_dns = self.alb.dns_name
        self.api_security_group_id = self.api_security_group.id
        self.register_outputs({"loadBalancerDns": self.load_balancer_dns, "clusterArn": self.cluster.arn})


#: AWS managed rule groups in front of the public load balancer: OWASP-style common attacks, known
#: bad inputs (e.g. Log4Shell), SQL injection (PostgreSQL behind the API), and IPs AWS sees attacking.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
    return aws.wafv2.WebAclVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _web_acl(
    name: str, args: ServiceArgs, alb: aws.lb.LoadBalancer, child: pulumi.ResourceOptions
) -> aws.wafv2.WebAcl:
    """WAF web ACL on the load balancer: managed rule groups, a per-IP rate limit, logs under the logs key."""
    rules = [
        aws.wafv2.WebAclRuleArgs(
            name=group,
            priority=priority,
            # "none": the group's own block actions apply (not counted only). The SDK declares this
            # field-less args class without a typed __init__.
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()  # type: ignore[no-untyped-call]
            ),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name="AWS"
                )
            ),
            visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=group, sampled_requests_enabled=True
            ),
        )
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=10)
    ]
    rules.append(
        aws.wafv2.WebAclRuleArgs(
            name="rate-limit-per-ip",
            priority=1,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=args.waf_rate_limit, aggregate_key_type="IP"
                )
            ),
            visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name="rate-limit-per-ip",
                sampled_requests_enabled=True,
            ),
        )
    )
    acl = aws.wafv2.WebAcl(
        f"{name}-waf",
        scope="REGIONAL",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=rules,
        visibility_config=_visibility(f"{name}-waf"),
        opts=child,
    )
    aws.wafv2.WebAclAssociation(f"{name}-waf-alb", resource_arn=alb.arn, web_acl_arn=acl.arn, opts=child)
    waf_logs = aws.cloudwatch.LogGroup(
        f"{name}-waf-logs",
        name=args.names.waf_log_group,
        retention_in_days=args.log_retention_days,
        kms_key_id=args.logs_key_arn,
        opts=child,
    )
    aws.wafv2.WebAclLoggingConfiguration(
        f"{name}-waf-logging",
        resource_arn=acl.arn,
        log_destination_configs=[waf_logs.arn],
        # Credentials and session cookies never reach the logs.
        redacted_fields=[
            aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
            )
            for header in ("authorization", "cookie")
        ],
        opts=child,
    )
    return acl


def _container_definitions(service: str, spec: ContainerSpec, region: str, resolved: list[str]) -> str:
    """ECS container definitions JSON; ``resolved`` is the log group name then the secret ARN, if any."""
    log_group, *secret_arns = resolved
    secrets = {"DATABASE_CREDENTIALS": secret_arns[0]} if secret_arns else {}
    return json.dumps([_container(service, spec, region, log_group, secrets)])


def _container(
    service: str, spec: ContainerSpec, region: str, log_group: str, secrets: dict[str, str]
) -> dict[str, Any]:
    return {
        "name": service,
        "image": spec.image,
        "essential": True,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": spec.port, "protocol": "tcp"}],
        "secrets": [{"name": env, "valueFrom": arn} for env, arn in secrets.items()],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": service,
            },
        },
    }
