"""RDS read live: instances, clusters, their TLS parameters, manual snapshots and their sharing, replicated backups."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Final

from policies.inputs.live.aws_client import UNREAD, AwsClient, UnreadableError, parse_arn

RDS_INSTANCE: Final = "aws:rds/instance:Instance"
RDS_CLUSTER_INSTANCE: Final = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER: Final = "aws:rds/cluster:Cluster"
RDS_PARAMETER_GROUP: Final = "aws:rds/parameterGroup:ParameterGroup"
RDS_CLUSTER_PARAMETER_GROUP: Final = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
#: Parameters that decide whether a database accepts plaintext connections (read by BK-TLS-002).
TLS_PARAMETERS: Final = ("rds.force_ssl", "require_secure_transport")
RDS_SNAPSHOT: Final = "aws:rds/snapshot:Snapshot"
RDS_CLUSTER_SNAPSHOT: Final = "aws:rds/clusterSnapshot:ClusterSnapshot"
RDS_BACKUP_REPLICATION: Final = (
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
)


def read_rds(aws: AwsClient, region: str) -> None:
    for step in (
        _rds_instances,
        _rds_clusters,
        _rds_snapshots,
        _rds_cluster_snapshots,
        _rds_backup_replications,
    ):
        with contextlib.suppress(UnreadableError):
            step(aws, region)


def _rds_instances(aws: AwsClient, region: str) -> None:
    for db in aws.pages("rds", region, "DescribeDBInstances", "DBInstances", "RDS instances"):
        _db_instance(aws, region, db)


def _rds_clusters(aws: AwsClient, region: str) -> None:
    for cluster in aws.pages("rds", region, "DescribeDBClusters", "DBClusters", "RDS clusters"):
        _db_cluster(aws, region, cluster)


def _rds_snapshots(aws: AwsClient, region: str) -> None:
    for snap in aws.pages("rds", region, "DescribeDBSnapshots", "DBSnapshots", "RDS snapshots"):
        # Automated snapshots are the instance's own, in its region under its key; manual
        # snapshots and copies (SnapshotType manual, or copied in from another region) are judged.
        if snap.get("SnapshotType") == "automated":
            continue
        aws.arns.add(snap.get("DBSnapshotArn", ""))
        shared = _shared_accounts(
            aws, region, "DescribeDBSnapshotAttributes", "DBSnapshotAttributesResult",
            DBSnapshotIdentifier=snap["DBSnapshotIdentifier"],
        )  # fmt: skip
        aws.add(
            RDS_SNAPSHOT,
            snap["DBSnapshotIdentifier"],
            region,
            {
                "dbSnapshotIdentifier": snap["DBSnapshotIdentifier"],
                "dbInstanceIdentifier": snap.get("DBInstanceIdentifier"),
                "dbSnapshotArn": snap.get("DBSnapshotArn"),
                "encrypted": snap.get("Encrypted", False),
                "kmsKeyId": snap.get("KmsKeyId"),
                "snapshotType": snap.get("SnapshotType"),
                "sourceRegion": snap.get("SourceRegion"),
                "sourceDbSnapshotIdentifier": snap.get("SourceDBSnapshotIdentifier"),
                "sharedAccounts": shared,
            },
        )


def _rds_cluster_snapshots(aws: AwsClient, region: str) -> None:
    snaps = aws.pages(
        "rds", region, "DescribeDBClusterSnapshots", "DBClusterSnapshots", "RDS cluster snapshots"
    )
    for snap in snaps:
        if snap.get("SnapshotType") == "automated":
            continue
        aws.arns.add(snap.get("DBClusterSnapshotArn", ""))
        shared = _shared_accounts(
            aws, region, "DescribeDBClusterSnapshotAttributes", "DBClusterSnapshotAttributesResult",
            DBClusterSnapshotIdentifier=snap["DBClusterSnapshotIdentifier"],
        )  # fmt: skip
        aws.add(
            RDS_CLUSTER_SNAPSHOT,
            snap["DBClusterSnapshotIdentifier"],
            region,
            {
                "dbClusterSnapshotIdentifier": snap["DBClusterSnapshotIdentifier"],
                "dbClusterIdentifier": snap.get("DBClusterIdentifier"),
                "dbClusterSnapshotArn": snap.get("DBClusterSnapshotArn"),
                "storageEncrypted": snap.get("StorageEncrypted", False),
                "kmsKeyId": snap.get("KmsKeyId"),
                "snapshotType": snap.get("SnapshotType"),
                "sharedAccounts": shared,
            },
        )


def _shared_accounts(aws: AwsClient, region: str, operation: str, key: str, **params: str) -> Any:
    """Who may restore a manual snapshot: account ids, or ``all`` for public (the ``restore`` attribute).

    Unreadable, it is the unknown marker ``[unread]``: the exposure rule fails closed on it.
    """
    what = f"sharing of snapshot {next(iter(params.values()))}"
    try:
        result = aws.call("rds", region, operation, what, **params)
    except UnreadableError:
        return [UNREAD]
    attributes = result.get(key, {}).get(
        f"{key.removesuffix('Result').removesuffix('Attributes')}Attributes", []
    )
    values = [
        v for a in attributes if a.get("AttributeName") == "restore" for v in a.get("AttributeValues", [])
    ]
    return values or None


def _rds_backup_replications(aws: AwsClient, region: str) -> None:
    backups = aws.pages(
        "rds",
        region,
        "DescribeDBInstanceAutomatedBackups",
        "DBInstanceAutomatedBackups",
        "RDS automated backups",
    )
    for backup in backups:
        source = backup.get("DBInstanceArn", "")
        parsed = parse_arn(source)
        # Only replicated backups: a source instance in another region than the backup.
        if not parsed or parsed.get("region") == region:
            continue
        aws.add(
            RDS_BACKUP_REPLICATION,
            backup.get("DBInstanceAutomatedBackupsArn", source).rsplit(":", 1)[-1],
            region,
            {
                "sourceDbInstanceArn": source,
                "kmsKeyId": backup.get("KmsKeyId"),
                "retentionPeriod": backup.get("BackupRetentionPeriod"),
            },
        )


def _parameter_group(aws: AwsClient, region: str, name: str, cluster: bool) -> None:
    type_token = RDS_CLUSTER_PARAMETER_GROUP if cluster else RDS_PARAMETER_GROUP
    if not name or any(r.type == type_token and r.name == name and r.region == region for r in aws.resources):
        return
    operation = "DescribeDBClusterParameters" if cluster else "DescribeDBParameters"
    argument = "DBClusterParameterGroupName" if cluster else "DBParameterGroupName"
    try:
        parameters = aws.pages(
            "rds", region, operation, "Parameters", f"parameter group {name}", **{argument: name}
        )
    except UnreadableError:
        return
    wanted = [
        {"name": p["ParameterName"], "value": p.get("ParameterValue")}
        for p in parameters
        if p.get("ParameterName") in TLS_PARAMETERS and p.get("ParameterValue") is not None
    ]
    aws.arns.add(f"arn:aws:rds:{region}:{aws.account}:{'cluster-pg' if cluster else 'pg'}:{name}")
    aws.add(type_token, name, region, {"name": name, "parameters": wanted})


def _db_instance(aws: AwsClient, region: str, db: Mapping[str, Any]) -> None:
    secret = db.get("MasterUserSecret") or {}
    groups = db.get("DBParameterGroups") or [{}]
    group_name = groups[0].get("DBParameterGroupName", "")
    aws.arns.add(db.get("DBInstanceArn", ""))
    if not db.get("DBClusterIdentifier"):
        _parameter_group(aws, region, group_name, cluster=False)
    common = {
        "identifier": db["DBInstanceIdentifier"],
        "engine": db.get("Engine"),
        "publiclyAccessible": db.get("PubliclyAccessible", False),
        "performanceInsightsEnabled": db.get("PerformanceInsightsEnabled", False),
        "performanceInsightsKmsKeyId": db.get("PerformanceInsightsKMSKeyId"),
    }
    if db.get("DBClusterIdentifier"):
        aws.add(
            RDS_CLUSTER_INSTANCE,
            db["DBInstanceIdentifier"],
            region,
            {**common, "clusterIdentifier": db["DBClusterIdentifier"]},
        )
        return
    aws.add(
        RDS_INSTANCE,
        db["DBInstanceIdentifier"],
        region,
        {
            **common,
            "storageEncrypted": db.get("StorageEncrypted", False),
            "kmsKeyId": db.get("KmsKeyId"),
            "manageMasterUserPassword": bool(secret),
            "masterUserSecretKmsKeyId": secret.get("KmsKeyId"),
            "replicateSourceDb": db.get("ReadReplicaSourceDBInstanceIdentifier"),
            "replicas": db.get("ReadReplicaDBInstanceIdentifiers") or None,
            "backupRetentionPeriod": db.get("BackupRetentionPeriod"),
            "parameterGroupName": group_name or None,
        },
    )


def _db_cluster(aws: AwsClient, region: str, cluster: Mapping[str, Any]) -> None:
    secret = cluster.get("MasterUserSecret") or {}
    group_name = cluster.get("DBClusterParameterGroup", "")
    aws.arns.add(cluster.get("DBClusterArn", ""))
    _parameter_group(aws, region, group_name, cluster=True)
    aws.add(
        RDS_CLUSTER,
        cluster["DBClusterIdentifier"],
        region,
        {
            "clusterIdentifier": cluster["DBClusterIdentifier"],
            "engine": cluster.get("Engine"),
            "storageEncrypted": cluster.get("StorageEncrypted", False),
            "kmsKeyId": cluster.get("KmsKeyId"),
            "performanceInsightsEnabled": cluster.get("PerformanceInsightsEnabled", False),
            "performanceInsightsKmsKeyId": cluster.get("PerformanceInsightsKMSKeyId"),
            "manageMasterUserPassword": bool(secret),
            "masterUserSecretKmsKeyId": secret.get("KmsKeyId"),
            "replicationSourceIdentifier": cluster.get("ReplicationSourceIdentifier"),
            "dbClusterParameterGroupName": group_name or None,
        },
    )
