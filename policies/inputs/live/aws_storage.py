"""EBS volumes and snapshots (with their sharing), EFS file systems and DynamoDB tables read live."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from policies.inputs.live.aws_client import UNREAD, AwsClient, UnreadableError

EBS_VOLUME: Final = "aws:ebs/volume:Volume"
EBS_SNAPSHOT: Final = "aws:ebs/snapshot:Snapshot"
EFS_FILE_SYSTEM: Final = "aws:efs/fileSystem:FileSystem"
DYNAMODB_TABLE: Final = "aws:dynamodb/table:Table"


def volume_properties(volume: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "availabilityZone": volume.get("AvailabilityZone"),
        "encrypted": volume.get("Encrypted", False),
        "kmsKeyId": volume.get("KmsKeyId"),
        "size": volume.get("Size"),
        "snapshotId": volume.get("SnapshotId") or None,
        "type": volume.get("VolumeType"),
    }


def snapshot_properties(snapshot: Mapping[str, Any], shared: list[str] | None) -> dict[str, Any]:
    return {
        "volumeId": snapshot.get("VolumeId"),
        "encrypted": snapshot.get("Encrypted", False),
        "kmsKeyId": snapshot.get("KmsKeyId"),
        # Live-only: who may create a volume from it (account ids, or "all" when public).
        "sharedAccounts": shared,
    }


def file_system_properties(system: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "creationToken": system.get("CreationToken"),
        "encrypted": system.get("Encrypted", False),
        "kmsKeyId": system.get("KmsKeyId"),
        "arn": system.get("FileSystemArn"),
    }


def table_properties(table: Mapping[str, Any]) -> dict[str, Any]:
    sse = table.get("SSEDescription") or {}
    # No SSEDescription means the AWS-owned key: encrypted, but under no customer key.
    customer = sse.get("SSEType") == "KMS" and sse.get("Status") in ("ENABLED", "UPDATING")
    return {
        "name": table.get("TableName"),
        "arn": table.get("TableArn"),
        "serverSideEncryption": {"enabled": customer, "kmsKeyArn": sse.get("KMSMasterKeyArn")},
    }


def read_ebs(aws: AwsClient, region: str) -> None:
    for volume in aws.pages("ec2", region, "DescribeVolumes", "Volumes", "EBS volumes"):
        ident = volume["VolumeId"]
        aws.arns.add(f"arn:aws:ec2:{region}:{aws.account}:volume/{ident}")
        aws.add(EBS_VOLUME, ident, region, volume_properties(volume), ident=ident)
    snapshots = aws.pages("ec2", region, "DescribeSnapshots", "Snapshots", "EBS snapshots", OwnerIds=["self"])
    for snapshot in snapshots:
        ident = snapshot["SnapshotId"]
        try:
            attribute = aws.call(
                "ec2",
                region,
                "DescribeSnapshotAttribute",
                f"sharing of EBS snapshot {ident}",
                SnapshotId=ident,
                Attribute="createVolumePermission",
            )
            permissions = attribute.get("CreateVolumePermissions", [])
            shared = [p.get("Group") or p.get("UserId") for p in permissions] or None
        except UnreadableError:
            shared = [UNREAD]
        aws.arns.add(f"arn:aws:ec2:{region}::snapshot/{ident}")
        aws.add(EBS_SNAPSHOT, ident, region, snapshot_properties(snapshot, shared), ident=ident)


def read_efs(aws: AwsClient, region: str) -> None:
    for system in aws.pages("efs", region, "DescribeFileSystems", "FileSystems", "EFS file systems"):
        ident = system["FileSystemId"]
        aws.arns.add(system.get("FileSystemArn", ""))
        aws.add(EFS_FILE_SYSTEM, ident, region, file_system_properties(system), ident=ident)


def read_dynamodb(aws: AwsClient, region: str) -> None:
    for name in aws.pages("dynamodb", region, "ListTables", "TableNames", "DynamoDB tables"):
        try:
            table = aws.call("dynamodb", region, "DescribeTable", f"DynamoDB table {name}", TableName=name)
        except UnreadableError:
            continue
        description = table.get("Table", {})
        aws.arns.add(description.get("TableArn", ""))
        aws.add(DYNAMODB_TABLE, name, region, table_properties(description), ident=name)
