"""CloudWatch log groups, Secrets Manager secrets and AWS Backup read live."""

from __future__ import annotations

from typing import Final

from policies.inputs.live.aws_client import AwsClient, UnreadableError

LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
SM_SECRET: Final = "aws:secretsmanager/secret:Secret"  # noqa: S105 (a type token)
BACKUP_VAULT: Final = "aws:backup/vault:Vault"
BACKUP_PLAN: Final = "aws:backup/plan:Plan"


def read_logs(aws: AwsClient, region: str) -> None:
    for group in aws.pages("logs", region, "DescribeLogGroups", "logGroups", "CloudWatch log groups"):
        aws.add(
            LOG_GROUP,
            group["logGroupName"],
            region,
            {
                "name": group["logGroupName"],
                "kmsKeyId": group.get("kmsKeyId"),
                "retentionInDays": group.get("retentionInDays"),
            },
        )
        if group.get("arn"):
            aws.arns.add(str(group["arn"]).removesuffix(":*"))


def read_secrets(aws: AwsClient, region: str) -> None:
    for entry in aws.pages("secretsmanager", region, "ListSecrets", "SecretList", "Secrets Manager secrets"):
        aws.arns.add(entry.get("ARN", ""))
        try:
            secret = aws.call(
                "secretsmanager",
                region,
                "DescribeSecret",
                f"secret {entry['Name']}",
                SecretId=entry["ARN"],
            )
        except UnreadableError:
            secret = dict(entry)
        replicas = [
            {"region": r.get("Region"), "kmsKeyId": r.get("KmsKeyId"), "status": r.get("Status")}
            for r in secret.get("ReplicationStatus", [])
        ]
        aws.add(
            SM_SECRET,
            entry["Name"],
            region,
            {"name": entry["Name"], "kmsKeyId": secret.get("KmsKeyId"), "replicas": replicas or None},
        )


def read_backup(aws: AwsClient, region: str) -> None:
    for vault in aws.pages("backup", region, "ListBackupVaults", "BackupVaultList", "Backup vaults"):
        aws.arns.add(vault.get("BackupVaultArn", ""))
        aws.add(
            BACKUP_VAULT,
            vault["BackupVaultName"],
            region,
            {"name": vault["BackupVaultName"], "kmsKeyArn": vault.get("EncryptionKeyArn")},
        )
    for plan in aws.pages("backup", region, "ListBackupPlans", "BackupPlansList", "Backup plans"):
        try:
            body = aws.call(
                "backup",
                region,
                "GetBackupPlan",
                f"backup plan {plan['BackupPlanName']}",
                BackupPlanId=plan["BackupPlanId"],
            )
        except UnreadableError:
            continue
        rules = [
            {
                "ruleName": r.get("RuleName"),
                "targetVaultName": r.get("TargetBackupVaultName"),
                "copyActions": [
                    {"destinationVaultArn": c.get("DestinationBackupVaultArn")}
                    for c in r.get("CopyActions", [])
                ]
                or None,
            }
            for r in body.get("BackupPlan", {}).get("Rules", [])
        ]
        aws.arns.add(plan.get("BackupPlanArn", ""))
        aws.add(BACKUP_PLAN, plan["BackupPlanName"], region, {"name": plan["BackupPlanName"], "rules": rules})
