"""Security groups, load balancer listeners (TLS policy) and ECS task definitions (log shipping) read live."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from policies.inputs.live.aws_client import AwsClient, UnreadableError

SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
LOAD_BALANCER: Final = "aws:lb/loadBalancer:LoadBalancer"
LISTENER: Final = "aws:lb/listener:Listener"
TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"


def _permission(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "protocol": str(rule.get("IpProtocol", "-1")),
        "fromPort": rule.get("FromPort", 0),
        "toPort": rule.get("ToPort", 0),
        "cidrBlocks": [r["CidrIp"] for r in rule.get("IpRanges", []) if r.get("CidrIp")],
        "ipv6CidrBlocks": [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", []) if r.get("CidrIpv6")],
        "securityGroups": [g["GroupId"] for g in rule.get("UserIdGroupPairs", []) if g.get("GroupId")],
    }


def security_group_properties(group: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": group.get("GroupName"),
        "vpcId": group.get("VpcId"),
        "description": group.get("Description"),
        "ingress": [_permission(r) for r in group.get("IpPermissions", [])],
        "egress": [_permission(r) for r in group.get("IpPermissionsEgress", [])],
    }


def listener_properties(listener: Mapping[str, Any]) -> dict[str, Any]:
    certificates = listener.get("Certificates") or [{}]
    return {
        "arn": listener.get("ListenerArn"),
        "loadBalancerArn": listener.get("LoadBalancerArn"),
        "protocol": listener.get("Protocol"),
        "port": listener.get("Port"),
        "sslPolicy": listener.get("SslPolicy"),
        "certificateArn": certificates[0].get("CertificateArn"),
        "defaultActions": [
            {
                "type": action.get("Type"),
                "redirect": {
                    "protocol": (action.get("RedirectConfig") or {}).get("Protocol"),
                    "port": (action.get("RedirectConfig") or {}).get("Port"),
                    "statusCode": (action.get("RedirectConfig") or {}).get("StatusCode"),
                }
                if action.get("RedirectConfig")
                else None,
            }
            for action in listener.get("DefaultActions", [])
        ],
    }


#: Stands for a container environment value read live: the value itself is never kept in the model.
PLAINTEXT_NOT_KEPT = "[plaintext value, not kept]"


def task_definition_properties(definition: Mapping[str, Any]) -> dict[str, Any]:
    containers = [
        {
            "name": c.get("name"),
            "image": c.get("image"),
            # Where the container's logs go (driver and options such as awslogs-region).
            "logConfiguration": {
                "logDriver": (c.get("logConfiguration") or {}).get("logDriver"),
                "options": (c.get("logConfiguration") or {}).get("options"),
            },
            # Names only: a plaintext value is marked, never kept (BK-EXP-004 fails a credential name
            # with a plain value; the model, hence no report, ever holds the value itself).
            "environment": [
                {"name": e.get("name"), "value": PLAINTEXT_NOT_KEPT} for e in c.get("environment") or []
            ],
            # References to Secrets Manager or SSM (valueFrom): where the value is, not the value.
            "secrets": [
                {"name": s.get("name"), "valueFrom": s.get("valueFrom")} for s in c.get("secrets") or []
            ],
        }
        for c in definition.get("containerDefinitions", [])
    ]
    ephemeral = definition.get("ephemeralStorage") or {}
    return {
        "arn": definition.get("taskDefinitionArn"),
        "family": definition.get("family"),
        # pulumi-aws takes container definitions as a JSON string; the rules read that form.
        "containerDefinitions": json.dumps(containers),
        "ephemeralStorage": {"sizeInGib": ephemeral.get("sizeInGiB")} if ephemeral else None,
    }


def _untouched_default(group: Mapping[str, Any]) -> bool:
    ingress = [_permission(r) for r in group.get("IpPermissions", [])]
    return group.get("GroupName") == "default" and not any(
        r["cidrBlocks"] or r["ipv6CidrBlocks"] or set(r["securityGroups"]) - {group.get("GroupId")}
        for r in ingress
    )


def read_security_groups(aws: AwsClient, region: str) -> None:
    groups = aws.pages("ec2", region, "DescribeSecurityGroups", "SecurityGroups", "security groups")
    for group in groups:
        ident = group["GroupId"]
        if _untouched_default(group) and region not in aws.allowed_regions:
            # AWS creates a default VPC and its "default" group in every region; left as created it
            # admits only its own members and holds nothing, so it is not a resource of the platform.
            continue
        aws.arns.add(f"arn:aws:ec2:{region}:{aws.account}:security-group/{ident}")
        aws.add(SECURITY_GROUP, ident, region, security_group_properties(group), ident=ident)


def read_load_balancers(aws: AwsClient, region: str) -> None:
    balancers = aws.pages("elbv2", region, "DescribeLoadBalancers", "LoadBalancers", "load balancers")
    for balancer in balancers:
        arn = balancer["LoadBalancerArn"]
        aws.arns.add(arn)
        aws.add(
            LOAD_BALANCER,
            balancer.get("LoadBalancerName", arn),
            region,
            {
                "arn": arn,
                "name": balancer.get("LoadBalancerName"),
                "internal": balancer.get("Scheme") == "internal",
                "loadBalancerType": balancer.get("Type"),
            },
            ident=arn,
        )
        try:
            listeners = aws.pages(
                "elbv2", region, "DescribeListeners", "Listeners", f"listeners of {arn}", LoadBalancerArn=arn
            )
        except UnreadableError:
            continue
        for listener in listeners:
            aws.arns.add(listener["ListenerArn"])
            name = f"{balancer.get('LoadBalancerName')}-{listener.get('Protocol')}-{listener.get('Port')}"
            aws.add(LISTENER, name, region, listener_properties(listener), ident=listener["ListenerArn"])


def read_task_definitions(aws: AwsClient, region: str) -> None:
    arns = aws.pages(
        "ecs", region, "ListTaskDefinitions", "taskDefinitionArns", "ECS task definitions", status="ACTIVE"
    )
    for arn in arns:
        try:
            found = aws.call(
                "ecs", region, "DescribeTaskDefinition", f"task definition {arn}", taskDefinition=arn
            )
        except UnreadableError:
            continue
        definition = found.get("taskDefinition", {})
        aws.arns.add(arn)
        name = f"{definition.get('family')}:{definition.get('revision')}"
        aws.add(TASK_DEFINITION, name, region, task_definition_properties(definition), ident=arn)
