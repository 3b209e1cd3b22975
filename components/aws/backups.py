"""AWS Backup: a vault under the backups key and a plan that never copies outside the region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.iam import service_role


@dataclass(frozen=True)
class BackupsArgs:
    """Inputs of Backups."""

    backups_key_arn: pulumi.Input[str]
    #: ARNs of what to back up (the database instance, the documents bucket).
    resource_arns: Sequence[pulumi.Input[str]]
    retention_days: int = 35
    #: Daily at 02:00 UTC, after the RDS backup window.
    schedule: str = "cron(0 2 * * ? *)"

    def __post_init__(self) -> None:
        if not 1 <= self.retention_days <= 36500:
            raise ValueError("BackupsArgs.retention_days: must be 1 to 36500")


class Backups(pulumi.ComponentResource):
    """Vault, plan and selection. Copies stay in the vault's region: the plan has no copy action."""

    vault_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:aws:Backups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Retained on destroy: its recovery points are health data (AWS also refuses to delete a vault
        # that still holds recovery points, which would leave a destroy half-done).
        self.vault = aws.backup.Vault(
            f"{name}-vault",
            kms_key_arn=args.backups_key_arn,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        plan = aws.backup.Plan(
            f"{name}-plan",
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily-in-region",
                    target_vault_name=self.vault.name,
                    schedule=args.schedule,
                    start_window=60,
                    completion_window=360,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days),
                    # No copy_actions: a copy to another region would take health data out of France.
                )
            ],
            opts=child,
        )
        role = service_role(f"{name}-role", "backup.amazonaws.com", self)
        for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}",
                role=role.name,
                policy_arn=f"arn:aws:iam::aws:policy/service-role/{policy}",
                opts=child,
            )
        for policy in ("AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore"):
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}", role=role.name, policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=child
            )
        aws.backup.Selection(
            f"{name}-selection",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=list(args.resource_arns),
            opts=child,
        )
        self.vault_arn = self.vault.arn
        self.register_outputs({"vaultArn": self.vault_arn, "planId": plan.id})
