"""IAM helpers shared by the AWS parts: roles that one AWS service may assume, policy documents."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def service_role(name: str, service_principal: str, parent: pulumi.Resource) -> aws.iam.Role:
    """A role only ``service_principal`` (e.g. backup.amazonaws.com) may assume."""
    return aws.iam.Role(
        name,
        assume_role_policy=policy_document(
            [{"Effect": "Allow", "Principal": {"Service": service_principal}, "Action": "sts:AssumeRole"}]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
