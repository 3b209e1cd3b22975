"""Reads a live AWS account into the policies' resource model (enforcement point 4).

Every API shape is mapped to the pulumi-aws type token and (camelCase) property names the rules
read, so the rules that judge a preview judge the live account too. Properties that only a live
read can know (``keyState``, ``origin``, ``connectionState``, ``connectionErrorCode``) keep their
API meaning under camelCase names; the live-only rules in ``policies/rules/live/`` read them.

Reads go through a :func:`policies.inputs.live.guard.read_only_session`: only allow-listed read calls
can be made. A denied permission becomes a :class:`~policies.inputs.live.errors.Gap` (what could not be
checked, and the IAM action that was missing) and the read carries on; missing or expired
credentials stop the run with a :class:`~policies.inputs.live.errors.CredentialError`; throttling is
retried with exponential backoff by botocore (standard retry mode) and counted.

Judging needs complete facts: a bucket whose encryption or public access block cannot be read is
left out of the model (and reported as not checked) rather than reported as unencrypted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import boto3
from botocore.client import BaseClient
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)
from botocore.utils import ArnParser

from facts import providers as provider_facts
from facts.tokens import CUSTOM_KEY_STORE, KMS_ALIAS, KMS_KEY
from policies.inputs.live.errors import (
    CREDENTIAL_CODES,
    DENIED_CODES,
    THROTTLING_CODES,
    Coverage,
    CredentialError,
    Gap,
    UnknownRegionError,
)
from policies.inputs.live.guard import MAX_ATTEMPTS, RETRY_CONFIG, iam_action
from policies.model import SECRET, Resource, Stack

PROJECT: Final = "sovereign-booking"
#: Where the account-level calls (STS, region list, bucket list) are made when no region is set.
HOME_REGION: Final = "eu-west-3"
#: Stack config key holding the gaps, read by BK-LIVE-004.
GAPS_KEY: Final = "verify:gaps"

S3_BUCKET: Final = "aws:s3/bucket:Bucket"
S3_SSE: Final = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_PAB: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
S3_ACL: Final = "aws:s3/bucketAcl:BucketAcl"
S3_REPLICATION: Final = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
S3_LOGGING: Final = "aws:s3/bucketLogging:BucketLogging"
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
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
SM_SECRET: Final = "aws:secretsmanager/secret:Secret"  # noqa: S105 (a type token)
BACKUP_VAULT: Final = "aws:backup/vault:Vault"
BACKUP_PLAN: Final = "aws:backup/plan:Plan"
#: A resource seen only through the tagging API, outside the regions read in detail: its
#: encryption was not read, so it is not given a data-store type the rules would judge on absent facts.
TAGGED: Final = "aws:live/taggedResource:TaggedResource"

#: S3 error codes meaning "this setting is absent", which is a fact, not a gap.
_S3_ABSENT: Final = frozenset(
    {
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "NoSuchBucketPolicy",
        "ReplicationConfigurationNotFoundError",
    }
)

#: Service + operation whose throttled responses were retried (event handler counts them).
ClientFactory = Callable[[str, str], BaseClient]
Progress = Callable[[str], None]

_ABSENT: Final[dict[str, Any]] = {}


class _UnreadableError(Exception):
    """Internal: a read failed and was recorded as a gap."""


def _no_progress(_: str) -> None:
    return None


@dataclass
class AwsReader:
    """Reads one AWS account; ``read()`` returns the model and what could not be checked."""

    session: boto3.Session
    allowed_regions: tuple[str, ...] = field(default_factory=lambda: provider_facts.allowed_regions()["aws"])
    stack_name: str = ""
    progress: Progress = _no_progress
    #: Clients to use instead of the session's, by (service, region) or (service, region + "#role").
    clients: dict[str, BaseClient] = field(default_factory=dict)
    endpoint_url: str | None = None
    coverage: Coverage = field(default_factory=Coverage)
    account: str = ""
    _resources: list[Resource] = field(default_factory=list)
    _arns: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.session.events.register("response-received", self._count, unique_id="sovereign-booking-count")

    # -- plumbing -------------------------------------------------------------------------------

    def _count(self, parsed_response: Any = None, **_: Any) -> None:
        self.coverage.calls += 1
        if isinstance(parsed_response, Mapping):
            code = parsed_response.get("Error", {}).get("Code")
            if code in THROTTLING_CODES:
                self.coverage.retries += 1

    def client(self, service: str, region: str, role: str = "") -> BaseClient:
        key = f"{service}@{region}" + (f"#{role}" if role else "")
        if key not in self.clients:
            self.clients[key] = self.session.client(  # type: ignore[call-overload]
                service, region_name=region, config=RETRY_CONFIG, endpoint_url=self.endpoint_url
            )
        return self.clients[key]

    def _gap(self, region: str, what: str, service: str, operation: str, error: Exception) -> None:
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code in DENIED_CODES:
                self.coverage.add(
                    Gap("aws", region, what, iam_action(service, operation), f"access denied ({code})")
                )
                return
            if code in THROTTLING_CODES:
                reason = f"still throttled after {MAX_ATTEMPTS} attempts ({code})"
                self.coverage.add(Gap("aws", region, what, "", reason))
                return
            self.coverage.add(Gap("aws", region, what, "", f"{code}: {message}".strip(": ")))
            return
        self.coverage.add(Gap("aws", region, what, "", f"{type(error).__name__}: {error}"))

    def call(
        self,
        service: str,
        region: str,
        operation: str,
        what: str,
        *,
        absent: Iterable[str] = (),
        role: str = "",
        **params: Any,
    ) -> dict[str, Any]:
        """One read; raises :class:`_UnreadableError` after recording the gap; ``{}`` when absent."""
        client = self.client(service, region, role)
        method = getattr(client, _snake(operation))
        try:
            result: dict[str, Any] = method(**params)
            return result
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in absent:
                return _ABSENT
            _raise_on_credentials(error)
            self._gap(region, what, service, operation, error)
            raise _UnreadableError from error
        except (EndpointConnectionError, BotoCoreError) as error:
            _raise_on_credentials(error)
            self._gap(region, what, service, operation, error)
            raise _UnreadableError from error

    def pages(
        self, service: str, region: str, operation: str, key: str, what: str, **params: Any
    ) -> list[Any]:
        client = self.client(service, region)
        items: list[Any] = []
        try:
            if client.can_paginate(_snake(operation)):
                for page in client.get_paginator(_snake(operation)).paginate(**params):
                    items.extend(page.get(key, []))
            else:
                items.extend(getattr(client, _snake(operation))(**params).get(key, []))
        except (ClientError, BotoCoreError) as error:
            _raise_on_credentials(error)
            self._gap(region, what, service, operation, error)
            raise _UnreadableError from error
        return items

    def add(
        self, type_token: str, name: str, region: str | None, properties: dict[str, Any], *, ident: str = ""
    ) -> Resource:
        qualified = name if region is None or type_token.startswith("aws:s3/") else f"{region}/{name}"
        urn = f"urn:pulumi:{self.stack_name}::{PROJECT}::{type_token}::{qualified}"
        resource = Resource(
            type=type_token,
            name=name,
            urn=urn,
            properties={k: v for k, v in properties.items() if v is not None},
            provider="aws",
            region=region,
            id=ident or name,
        )
        self._resources.append(resource)
        return resource

    # -- account ----------------------------------------------------------------------------------

    def identity(self) -> str:
        """The account id (STS); raises :class:`CredentialError` with what to do."""
        try:
            client = self.client("sts", self.session.region_name or HOME_REGION)
            self.account = str(cast(Any, client).get_caller_identity()["Account"])
        except ClientError as error:
            _raise_on_credentials(error)
            raise CredentialError(f"cannot identify the account: {error}") from error
        except (NoCredentialsError, PartialCredentialsError, ProfileNotFound, TokenRetrievalError) as error:
            _raise_on_credentials(error)
        if not self.stack_name:
            self.stack_name = f"live-aws-{self.account}"
        return self.account

    def regions(self, wanted: str | Sequence[str]) -> tuple[list[str], list[str]]:
        """(regions to read in detail, every enabled region for the tagging sweep)."""
        home = self.session.region_name or HOME_REGION
        known: list[str] = []
        enabled: list[str] = []
        try:
            everything = self.call("ec2", home, "DescribeRegions", "region list", AllRegions=True)["Regions"]
            known = sorted(r["RegionName"] for r in everything)
            enabled = sorted(
                r["RegionName"]
                for r in everything
                if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
            )
        except _UnreadableError:
            known = enabled = sorted(self.session.get_available_regions("ec2"))
        if wanted == "all":
            return enabled, enabled
        chosen = list(dict.fromkeys(wanted))
        unknown = [r for r in chosen if r not in known]
        if unknown:
            raise UnknownRegionError(
                f"unknown AWS region(s) {', '.join(unknown)}; known regions: {', '.join(known)}"
            )
        return chosen, enabled

    def read(self, wanted: str | Sequence[str] = "all") -> Stack:
        """Reads the account: S3 once, then every region in detail, then every region's tags."""
        self.identity()
        detail, sweep = self.regions(wanted)
        self.coverage.regions = detail
        self.progress(
            f"account {self.account}: reading {len(detail)} region(s) in detail, tags in {len(sweep)}"
        )
        self.progress("s3 (global): buckets")
        self._s3(detail)
        for index, region in enumerate(detail, 1):
            before = len(self._resources)
            for step in (self._kms, self._rds, self._logs, self._secrets, self._backup):
                with contextlib.suppress(_UnreadableError):
                    step(region)
            self.progress(f"[{index}/{len(detail)}] {region}: {len(self._resources) - before} resource(s)")
        self._tags(sweep)
        config: dict[str, Any] = {
            "aws:region": self.allowed_regions[0] if self.allowed_regions else HOME_REGION,
            GAPS_KEY: [g.to_dict() for g in self.coverage.gaps],
        }
        return Stack(self.stack_name, list(self._resources), config)

    # -- S3 ----------------------------------------------------------------------------------------

    def _s3(self, detail: Sequence[str]) -> None:
        home = self.session.region_name or HOME_REGION
        try:
            buckets = self.pages("s3", home, "ListBuckets", "Buckets", "S3 buckets")
        except _UnreadableError:
            return
        for bucket in buckets:
            name = bucket["Name"]
            try:
                self._bucket(name, home)
            except _UnreadableError:
                continue
        del detail

    def _bucket(self, name: str, home: str) -> None:
        what = f"bucket {name}"
        location = self.call("s3", home, "GetBucketLocation", what, Bucket=name).get("LocationConstraint")
        region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
        assert isinstance(region, str)
        sse = self.call(
            "s3", region, "GetBucketEncryption", f"{what} encryption", absent=_S3_ABSENT, Bucket=name
        )
        pab = self.call(
            "s3",
            region,
            "GetPublicAccessBlock",
            f"{what} public access block",
            absent=_S3_ABSENT,
            Bucket=name,
        )
        policy = self.call("s3", region, "GetBucketPolicy", f"{what} policy", absent=_S3_ABSENT, Bucket=name)
        acl = self.call("s3", region, "GetBucketAcl", f"{what} ACL", Bucket=name)
        replication = self.call(
            "s3", region, "GetBucketReplication", f"{what} replication", absent=_S3_ABSENT, Bucket=name
        )
        logging = self.call("s3", region, "GetBucketLogging", f"{what} logging", Bucket=name)
        arn = f"arn:aws:s3:::{name}"
        self._arns.add(arn)
        self.add(S3_BUCKET, name, region, {"bucket": name, "arn": arn})
        rules = sse.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        if rules:
            self.add(S3_SSE, name, region, {"bucket": name, "rules": [_sse_rule(r) for r in rules]})
        block = pab.get("PublicAccessBlockConfiguration")
        if block:
            self.add(
                S3_PAB,
                name,
                region,
                {
                    "bucket": name,
                    "blockPublicAcls": block.get("BlockPublicAcls", False),
                    "blockPublicPolicy": block.get("BlockPublicPolicy", False),
                    "ignorePublicAcls": block.get("IgnorePublicAcls", False),
                    "restrictPublicBuckets": block.get("RestrictPublicBuckets", False),
                },
            )
        if policy.get("Policy"):
            self.add(S3_POLICY, name, region, {"bucket": name, "policy": policy["Policy"]})
        grants = [
            {
                "grantee": {
                    "type": g.get("Grantee", {}).get("Type"),
                    "uri": g.get("Grantee", {}).get("URI"),
                    "id": g.get("Grantee", {}).get("ID"),
                },
                "permission": g.get("Permission"),
            }
            for g in acl.get("Grants", [])
        ]
        self.add(S3_ACL, name, region, {"bucket": name, "accessControlPolicy": {"grants": grants}})
        if replication.get("ReplicationConfiguration"):
            config = replication["ReplicationConfiguration"]
            self.add(
                S3_REPLICATION,
                name,
                region,
                {
                    "bucket": name,
                    "role": config.get("Role"),
                    "rules": [
                        {
                            "id": r.get("ID"),
                            "status": r.get("Status"),
                            "destination": {"bucket": r.get("Destination", {}).get("Bucket")},
                        }
                        for r in config.get("Rules", [])
                    ],
                },
            )
        target = logging.get("LoggingEnabled", {}).get("TargetBucket")
        if target:
            self.add(S3_LOGGING, name, region, {"bucket": name, "targetBucket": target})

    # -- KMS -------------------------------------------------------------------------------------

    def _kms(self, region: str) -> None:
        try:
            stores = self.call(
                "kms", region, "DescribeCustomKeyStores", "KMS custom key stores", role="stores"
            )
            for store in stores.get("CustomKeyStores", []):
                self._key_store(region, store)
        except _UnreadableError:
            pass
        keys = self.pages("kms", region, "ListKeys", "Keys", "KMS keys")
        for entry in keys:
            try:
                meta = self.call(
                    "kms", region, "DescribeKey", f"KMS key {entry['KeyId']}", KeyId=entry["KeyId"]
                )
            except _UnreadableError:
                continue
            self._key(region, meta["KeyMetadata"])
        try:
            aliases = self.pages("kms", region, "ListAliases", "Aliases", "KMS aliases")
        except _UnreadableError:
            return
        for alias in aliases:
            name = alias.get("AliasName", "")
            if name.startswith("alias/aws/") or not alias.get("TargetKeyId"):
                continue
            self.add(
                KMS_ALIAS,
                name,
                region,
                {"name": name, "arn": alias.get("AliasArn"), "targetKeyId": alias.get("TargetKeyId")},
                ident=name,
            )

    def _key_store(self, region: str, store: Mapping[str, Any]) -> None:
        proxy = store.get("XksProxyConfiguration", {})
        # KMS holds the proxy credential; in the model it is what Pulumi makes it, a secret.
        credential = SECRET if proxy.get("AccessKeyId") else None
        self.add(
            CUSTOM_KEY_STORE,
            store.get("CustomKeyStoreName", store["CustomKeyStoreId"]),
            region,
            {
                "customKeyStoreId": store["CustomKeyStoreId"],
                "customKeyStoreName": store.get("CustomKeyStoreName"),
                "customKeyStoreType": store.get("CustomKeyStoreType", "AWS_CLOUDHSM"),
                "cloudHsmClusterId": store.get("CloudHsmClusterId"),
                "xksProxyUriEndpoint": proxy.get("UriEndpoint"),
                "xksProxyUriPath": proxy.get("UriPath"),
                "xksProxyConnectivity": proxy.get("Connectivity"),
                "xksProxyVpcEndpointServiceName": proxy.get("VpcEndpointServiceName"),
                "xksProxyAuthenticationCredential": credential,
                "connectionState": store.get("ConnectionState"),
                "connectionErrorCode": store.get("ConnectionErrorCode"),
            },
            ident=store["CustomKeyStoreId"],
        )

    def _key(self, region: str, meta: Mapping[str, Any]) -> None:
        if meta.get("KeyManager") == "AWS":
            return  # AWS-managed keys (aws/s3, aws/rds...): data stores using them fail BK-ENC-001
        self._arns.add(meta["Arn"])
        self.add(
            KMS_KEY,
            meta["KeyId"],
            region,
            {
                "arn": meta["Arn"],
                "keyId": meta["KeyId"],
                "description": meta.get("Description"),
                "isEnabled": meta.get("Enabled"),
                "keyUsage": meta.get("KeyUsage"),
                "customerMasterKeySpec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec")),
                "multiRegion": meta.get("MultiRegion", False),
                "customKeyStoreId": meta.get("CustomKeyStoreId"),
                "xksKeyId": (meta.get("XksKeyConfiguration") or {}).get("Id"),
                "keyState": meta.get("KeyState"),
                "origin": meta.get("Origin"),
            },
            ident=meta["KeyId"],
        )

    # -- RDS ---------------------------------------------------------------------------------------

    def _rds(self, region: str) -> None:
        for step in (
            self._rds_instances,
            self._rds_clusters,
            self._rds_snapshots,
            self._rds_cluster_snapshots,
            self._rds_backup_replications,
        ):
            with contextlib.suppress(_UnreadableError):
                step(region)

    def _rds_instances(self, region: str) -> None:
        for db in self.pages("rds", region, "DescribeDBInstances", "DBInstances", "RDS instances"):
            self._db_instance(region, db)

    def _rds_clusters(self, region: str) -> None:
        for cluster in self.pages("rds", region, "DescribeDBClusters", "DBClusters", "RDS clusters"):
            self._db_cluster(region, cluster)

    def _rds_snapshots(self, region: str) -> None:
        for snap in self.pages("rds", region, "DescribeDBSnapshots", "DBSnapshots", "RDS snapshots"):
            # Automated snapshots are the instance's own, in its region under its key; manual
            # snapshots and copies (SnapshotType manual, or copied in from another region) are judged.
            if snap.get("SnapshotType") == "automated":
                continue
            self._arns.add(snap.get("DBSnapshotArn", ""))
            self.add(
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
                },
            )

    def _rds_cluster_snapshots(self, region: str) -> None:
        snaps = self.pages(
            "rds", region, "DescribeDBClusterSnapshots", "DBClusterSnapshots", "RDS cluster snapshots"
        )
        for snap in snaps:
            if snap.get("SnapshotType") == "automated":
                continue
            self._arns.add(snap.get("DBClusterSnapshotArn", ""))
            self.add(
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
                },
            )

    def _rds_backup_replications(self, region: str) -> None:
        backups = self.pages(
            "rds",
            region,
            "DescribeDBInstanceAutomatedBackups",
            "DBInstanceAutomatedBackups",
            "RDS automated backups",
        )
        for backup in backups:
            source = backup.get("DBInstanceArn", "")
            parsed = _arn(source)
            # Only replicated backups: a source instance in another region than the backup.
            if not parsed or parsed.get("region") == region:
                continue
            self.add(
                RDS_BACKUP_REPLICATION,
                backup.get("DBInstanceAutomatedBackupsArn", source).rsplit(":", 1)[-1],
                region,
                {
                    "sourceDbInstanceArn": source,
                    "kmsKeyId": backup.get("KmsKeyId"),
                    "retentionPeriod": backup.get("BackupRetentionPeriod"),
                },
            )

    def _parameter_group(self, region: str, name: str, cluster: bool) -> None:
        type_token = RDS_CLUSTER_PARAMETER_GROUP if cluster else RDS_PARAMETER_GROUP
        if not name or any(
            r.type == type_token and r.name == name and r.region == region for r in self._resources
        ):
            return
        operation = "DescribeDBClusterParameters" if cluster else "DescribeDBParameters"
        argument = "DBClusterParameterGroupName" if cluster else "DBParameterGroupName"
        try:
            parameters = self.pages(
                "rds", region, operation, "Parameters", f"parameter group {name}", **{argument: name}
            )
        except _UnreadableError:
            return
        wanted = [
            {"name": p["ParameterName"], "value": p.get("ParameterValue")}
            for p in parameters
            if p.get("ParameterName") in TLS_PARAMETERS and p.get("ParameterValue") is not None
        ]
        self.add(type_token, name, region, {"name": name, "parameters": wanted})

    def _db_instance(self, region: str, db: Mapping[str, Any]) -> None:
        secret = db.get("MasterUserSecret") or {}
        groups = db.get("DBParameterGroups") or [{}]
        group_name = groups[0].get("DBParameterGroupName", "")
        if not db.get("DBClusterIdentifier"):
            self._parameter_group(region, group_name, cluster=False)
        common = {
            "identifier": db["DBInstanceIdentifier"],
            "engine": db.get("Engine"),
            "publiclyAccessible": db.get("PubliclyAccessible", False),
            "performanceInsightsEnabled": db.get("PerformanceInsightsEnabled", False),
            "performanceInsightsKmsKeyId": db.get("PerformanceInsightsKMSKeyId"),
        }
        if db.get("DBClusterIdentifier"):
            self.add(
                RDS_CLUSTER_INSTANCE,
                db["DBInstanceIdentifier"],
                region,
                {**common, "clusterIdentifier": db["DBClusterIdentifier"]},
            )
            return
        self.add(
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

    def _db_cluster(self, region: str, cluster: Mapping[str, Any]) -> None:
        secret = cluster.get("MasterUserSecret") or {}
        group_name = cluster.get("DBClusterParameterGroup", "")
        self._parameter_group(region, group_name, cluster=True)
        self.add(
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

    # -- logs, secrets, backup --------------------------------------------------------------------

    def _logs(self, region: str) -> None:
        for group in self.pages("logs", region, "DescribeLogGroups", "logGroups", "CloudWatch log groups"):
            self.add(
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
                self._arns.add(str(group["arn"]).removesuffix(":*"))

    def _secrets(self, region: str) -> None:
        for entry in self.pages(
            "secretsmanager", region, "ListSecrets", "SecretList", "Secrets Manager secrets"
        ):
            self._arns.add(entry.get("ARN", ""))
            try:
                secret = self.call(
                    "secretsmanager",
                    region,
                    "DescribeSecret",
                    f"secret {entry['Name']}",
                    SecretId=entry["ARN"],
                )
            except _UnreadableError:
                secret = dict(entry)
            replicas = [
                {"region": r.get("Region"), "kmsKeyId": r.get("KmsKeyId"), "status": r.get("Status")}
                for r in secret.get("ReplicationStatus", [])
            ]
            self.add(
                SM_SECRET,
                entry["Name"],
                region,
                {"name": entry["Name"], "kmsKeyId": secret.get("KmsKeyId"), "replicas": replicas or None},
            )

    def _backup(self, region: str) -> None:
        for vault in self.pages("backup", region, "ListBackupVaults", "BackupVaultList", "Backup vaults"):
            self._arns.add(vault.get("BackupVaultArn", ""))
            self.add(
                BACKUP_VAULT,
                vault["BackupVaultName"],
                region,
                {"name": vault["BackupVaultName"], "kmsKeyArn": vault.get("EncryptionKeyArn")},
            )
        for plan in self.pages("backup", region, "ListBackupPlans", "BackupPlansList", "Backup plans"):
            try:
                body = self.call(
                    "backup",
                    region,
                    "GetBackupPlan",
                    f"backup plan {plan['BackupPlanName']}",
                    BackupPlanId=plan["BackupPlanId"],
                )
            except _UnreadableError:
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
            self._arns.add(plan.get("BackupPlanArn", ""))
            self.add(
                BACKUP_PLAN, plan["BackupPlanName"], region, {"name": plan["BackupPlanName"], "rules": rules}
            )

    # -- every region's tagged resources ------------------------------------------------------------

    def _tags(self, sweep: Sequence[str]) -> None:
        detail = set(self.coverage.regions)
        self.progress(f"tags: {len(sweep)} region(s)")
        for region in sweep:
            try:
                mappings = self.pages(
                    "resourcegroupstaggingapi",
                    region,
                    "GetResources",
                    "ResourceTagMappingList",
                    "tagged resources",
                )
            except _UnreadableError:
                continue
            for mapping in mappings:
                arn = mapping.get("ResourceARN", "")
                parsed = _arn(arn)
                if not parsed or arn in self._arns or arn.removesuffix(":*") in self._arns:
                    continue
                where = parsed.get("region") or region
                kind = _resource_kind(parsed)
                if where in self.allowed_regions or where in detail:
                    if where not in detail or kind[0] not in _READ_SERVICES:
                        self.coverage.not_read.append(arn)
                    continue
                self.add(
                    TAGGED,
                    kind[1],
                    where,
                    {
                        "resourceType": f"{parsed['service']}:{kind[0]}",
                        "tags": {t["Key"]: t.get("Value", "") for t in mapping.get("Tags", [])},
                    },
                    ident=arn,
                )


_READ_SERVICES: Final = frozenset({"s3", "rds", "logs", "secretsmanager", "backup", "kms"})


def _arn(value: str) -> dict[str, str]:
    try:
        parsed: dict[str, str] = ArnParser().parse_arn(value)
    except ValueError:
        return {}
    return parsed


def _resource_kind(parsed: Mapping[str, str]) -> tuple[str, str]:
    """(resource type, name) from an ARN's resource part: ``db:booking`` -> (``db``, ``booking``)."""
    resource = parsed.get("resource", "")
    cuts = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    if cuts:
        return resource[: min(cuts)], resource[min(cuts) + 1 :]
    return parsed.get("service", ""), resource


def _sse_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return {
        "applyServerSideEncryptionByDefault": {
            "sseAlgorithm": default.get("SSEAlgorithm"),
            "kmsMasterKeyId": default.get("KMSMasterKeyID"),
        },
        "bucketKeyEnabled": rule.get("BucketKeyEnabled", False),
    }


def _snake(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def _raise_on_credentials(error: Exception) -> None:
    """Turns a credential problem into a :class:`CredentialError` that says what to do."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        raise CredentialError(
            "no AWS credentials found: set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws sso login` for an SSO profile"
        ) from error
    if isinstance(error, ProfileNotFound):
        raise CredentialError(f"{error}: check --profile and ~/.aws/config") from error
    if isinstance(error, TokenRetrievalError):
        raise CredentialError(
            f"the SSO token could not be refreshed ({error}): run `aws sso login`"
        ) from error
    if isinstance(error, NoRegionError):
        raise CredentialError("no region configured: pass --regions or set AWS_REGION") from error
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in CREDENTIAL_CODES:
            hint = (
                "the session token has expired: refresh it (`aws sso login`, or a new `aws sts assume-role`)"
                if "Expired" in code or code == "RequestExpired"
                else "the access key is not valid for this account: check the profile's keys"
            )
            raise CredentialError(f"AWS rejected the credentials ({code}): {hint}") from error


def policy_document_text() -> str:
    from policies.inputs.live.guard import policy_document

    return json.dumps(policy_document(), indent=2) + "\n"
