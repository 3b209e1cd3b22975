"""What the rules know about resource types: which hold data, and how each is encrypted.

Fail closed: a custom resource whose type is neither a data store the rules cover nor a type known
to hold no data is reported by BK-ENC-003, so that a new kind of data store cannot slip in unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from facts import tokens
from facts.tokens import CUSTOM_KEY_STORE, KMS_ALIAS, KMS_EXTERNAL_KEY, KMS_KEY, KMS_REPLICA_KEY, SCALEWAY_KEY
from policies.model import package_of


@dataclass(frozen=True)
class KeySetting:
    """One customer-managed-key setting of a data store."""

    #: Property holding the key reference (path of camelCase names).
    key: tuple[str, ...]
    #: What the key protects, for messages.
    protects: str
    #: Property that must be true for encryption to be on (None: the key alone turns it on).
    flag: tuple[str, ...] | None = None
    #: Property that makes this setting apply (e.g. Performance Insights enabled); None: always.
    when: tuple[str, ...] | None = None
    #: Property and value the encryption type must have (e.g. ECR ``encryptionType`` = ``KMS``).
    kind: tuple[tuple[str, ...], tuple[str, ...]] | None = None


#: AWS data stores and where each takes its customer-managed key. S3 buckets are handled apart:
#: their encryption is a separate resource (BucketServerSideEncryptionConfiguration).
AWS_DATA_STORES: dict[str, tuple[KeySetting, ...]] = {
    "aws:rds/instance:Instance": (
        KeySetting(("kmsKeyId",), "database storage", flag=("storageEncrypted",), when=None),
        KeySetting(
            ("performanceInsightsKmsKeyId",), "Performance Insights", when=("performanceInsightsEnabled",)
        ),
        KeySetting(
            ("masterUserSecretKmsKeyId",), "the master user secret", when=("manageMasterUserPassword",)
        ),
    ),
    "aws:rds/cluster:Cluster": (
        KeySetting(("kmsKeyId",), "cluster storage", flag=("storageEncrypted",)),
        KeySetting(
            ("performanceInsightsKmsKeyId",), "Performance Insights", when=("performanceInsightsEnabled",)
        ),
        KeySetting(
            ("masterUserSecretKmsKeyId",), "the master user secret", when=("manageMasterUserPassword",)
        ),
    ),
    "aws:rds/clusterInstance:ClusterInstance": (
        KeySetting(
            ("performanceInsightsKmsKeyId",), "Performance Insights", when=("performanceInsightsEnabled",)
        ),
    ),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": (
        KeySetting(("kmsKeyId",), "replicated backups"),
    ),
    # Manual snapshots and their copies (what a live read of the account finds).
    "aws:rds/snapshot:Snapshot": (KeySetting(("kmsKeyId",), "snapshot data", flag=("encrypted",)),),
    "aws:rds/clusterSnapshot:ClusterSnapshot": (
        KeySetting(("kmsKeyId",), "snapshot data", flag=("storageEncrypted",)),
    ),
    "aws:cloudwatch/logGroup:LogGroup": (KeySetting(("kmsKeyId",), "log events"),),
    "aws:secretsmanager/secret:Secret": (KeySetting(("kmsKeyId",), "secret values"),),
    "aws:sqs/queue:Queue": (KeySetting(("kmsMasterKeyId",), "queued messages"),),
    "aws:sns/topic:Topic": (KeySetting(("kmsMasterKeyId",), "published messages"),),
    "aws:ebs/volume:Volume": (KeySetting(("kmsKeyId",), "volume data", flag=("encrypted",)),),
    "aws:ebs/snapshotCopy:SnapshotCopy": (KeySetting(("kmsKeyId",), "snapshot data", flag=("encrypted",)),),
    "aws:ebs/snapshot:Snapshot": (KeySetting(("kmsKeyId",), "snapshot data", flag=("encrypted",)),),
    "aws:ecs/cluster:Cluster": (
        KeySetting(
            ("configuration", "managedStorageConfiguration", "fargateEphemeralStorageKmsKeyId"),
            "Fargate ephemeral storage",
        ),
    ),
    "aws:backup/vault:Vault": (KeySetting(("kmsKeyArn",), "recovery points"),),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        KeySetting(("kmsKeyId",), "cache data", flag=("atRestEncryptionEnabled",)),
    ),
    "aws:elasticache/serverlessCache:ServerlessCache": (KeySetting(("kmsKeyId",), "cache data"),),
    "aws:dynamodb/table:Table": (
        KeySetting(
            ("serverSideEncryption", "kmsKeyArn"), "table data", flag=("serverSideEncryption", "enabled")
        ),
    ),
    "aws:efs/fileSystem:FileSystem": (KeySetting(("kmsKeyId",), "file data", flag=("encrypted",)),),
    "aws:ecr/repository:Repository": (
        KeySetting(
            ("encryptionConfigurations", "kmsKey"),
            "container images",
            kind=(("encryptionConfigurations", "encryptionType"), ("KMS", "KMS_DSSE")),
        ),
    ),
    "aws:cloudtrail/trail:Trail": (KeySetting(("kmsKeyId",), "trail log files"),),
    "aws:kinesis/stream:Stream": (
        KeySetting(("kmsKeyId",), "stream records", kind=(("encryptionType",), ("KMS",))),
    ),
}

#: What a live read saw (tag sweep, listing) but did not read in detail: BK-LIVE-005 fails each one.
LIVE_UNREAD_AWS = "aws:live/taggedResource:TaggedResource"
LIVE_UNREAD_SCALEWAY = "scaleway:live/unreadResource:UnreadResource"
LIVE_UNREAD_TYPES = (LIVE_UNREAD_AWS, LIVE_UNREAD_SCALEWAY)
#: The value a live reader gives a setting it could not read (the gap is recorded); rules fail on it.
UNREAD_MARKER = "[unread]"

#: Snapshots whose sharing (``sharedAccounts``: account ids, or ``all`` for public) BK-EXP-005 judges.
SNAPSHOT_TYPES = (
    "aws:rds/snapshot:Snapshot",
    "aws:rds/clusterSnapshot:ClusterSnapshot",
    "aws:ebs/snapshot:Snapshot",
)
SNAPSHOT_PERMISSION_TYPES = ("aws:ebs/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",)

S3_BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)

#: Scaleway data stores. Where Scaleway offers a customer key (Key Manager), the setting names it;
#: the managed database offers none: its encryption at rest uses a Scaleway-managed key, which is
#: reported and must be a recorded exception (Scaleway's HDS guidance documents this limit).
SCALEWAY_DATA_STORES: dict[str, tuple[KeySetting, ...]] = {
    "scaleway:databases/instance:Instance": (),
    "scaleway:databases/readReplica:ReadReplica": (),
    "scaleway:databases/snapshot:Snapshot": (),
    "scaleway:object/bucket:Bucket": (),
    "scaleway:secrets/secret:Secret": (KeySetting(("keyId",), "secret versions"),),
    "scaleway:block/volume:Volume": (),
    "scaleway:instance/volume:Volume": (),
    # An instance's root volume may hold data; Scaleway offers no customer key for it.
    "scaleway:instance/server:Server": (),
    "scaleway:redis/cluster:Cluster": (),
    "scaleway:mongodb/instance:Instance": (),
    # Cockpit keeps logs and metrics under Scaleway-managed encryption; no Key Manager key can be set.
    "scaleway:observability/source:Source": (),
}
#: Data stores on Google Cloud technology (S3NS), each with its CMEK setting. A Secret Manager
#: secret's key is per replica: BK-ENC-005 reads every replica (or the automatic policy's key).
GCP_DATA_STORES: dict[str, tuple[KeySetting, ...]] = {
    tokens.GCP_SQL_INSTANCE: (
        KeySetting(("encryptionKeyName",), "database storage and its automated backups"),
    ),
    tokens.GCP_BUCKET: (KeySetting(("encryption", "defaultKmsKeyName"), "objects"),),
    tokens.GCP_SECRET: (),
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": (
        KeySetting(("cmekSettings", "kmsKeyName"), "log entries"),
    ),
    # A regional secret has one key, in its own location (the universe's Secret Manager mode).
    "gcp:secretmanager/regionalSecret:RegionalSecret": (
        KeySetting(("customerManagedEncryption", "kmsKeyName"), "secret versions"),
    ),
    # Cloud Run keeps a copy of each service's container image: under the stack's key (CMEK).
    "gcp:cloudrunv2/service:Service": (KeySetting(("template", "encryptionKey"), "container images"),),
}
GCP_SECRET = tokens.GCP_SECRET
SCALEWAY_DATABASE_TYPES = (
    "scaleway:databases/instance:Instance",
    "scaleway:databases/readReplica:ReadReplica",
)
SCALEWAY_BUCKET_TYPES = ("scaleway:object/bucket:Bucket",)
SCALEWAY_SSE_TYPES = (
    "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
)

#: Modules whose every resource is configuration, identity or networking: none holds data.
NON_DATA_MODULES: dict[str, frozenset[str]] = {
    "aws": frozenset(
        {"iam", "lb", "alb", "acm", "route53", "vpc", "wafv2", "appautoscaling", "servicediscovery", "shield"}
    ),
    # s2svpn: Site-to-Site VPN gateways, tunnels and routing policies carry traffic, store none (the
    # key store's path to the ministry's HSM; the tunnels' pre-shared keys stay in Secret Manager).
    "scaleway": frozenset({"iam", "account", "domain", "network", "loadbalancers", "ipam", "vpc", "s2svpn"}),
}

#: Individual types that hold no data (or whose data is the parent's and encrypted with it).
NON_DATA_TYPES: frozenset[str] = frozenset(
    {
        # The engine's own resources and the dynamic provider that connects the key store.
        "pulumi-python:dynamic:Resource",
        "random:index/randomPassword:RandomPassword",
        "random:index/randomId:RandomId",
        "random:index/randomString:RandomString",
        # EC2 networking.
        *(
            f"aws:ec2/{name[0].lower()}{name[1:]}:{name}"
            for name in (
                "Vpc", "Subnet", "RouteTable", "Route", "RouteTableAssociation", "InternetGateway",
                "NatGateway", "Eip", "SecurityGroup", "SecurityGroupRule", "DefaultSecurityGroup",
                "FlowLog", "VpcEndpoint", "VpcEndpointService", "NetworkAcl", "NetworkAclRule",
                "DefaultNetworkAcl", "DefaultRouteTable", "MainRouteTableAssociation",
                "EgressOnlyInternetGateway", "VpcDhcpOptions", "VpcDhcpOptionsAssociation",
                "VpcEndpointServiceAllowedPrinciple", "DefaultVpc",
            )
        ),
        # KMS: keys are judged by the key rules.
        KMS_KEY, KMS_ALIAS, CUSTOM_KEY_STORE, "aws:kms/grant:Grant",
        "aws:kms/keyPolicy:KeyPolicy", KMS_REPLICA_KEY, KMS_EXTERNAL_KEY,
        # S3 bucket settings (the bucket is the data store).
        *(
            f"aws:s3/{name[0].lower()}{name[1:]}:{name}"
            for name in (
                "BucketPolicy", "BucketPublicAccessBlock", "BucketVersioning", "BucketVersioningV2",
                "BucketLogging", "BucketLoggingV2", "BucketOwnershipControls",
                "BucketServerSideEncryptionConfiguration", "BucketServerSideEncryptionConfigurationV2",
                "BucketLifecycleConfiguration", "BucketLifecycleConfigurationV2", "BucketAcl", "BucketAclV2",
                "BucketReplicationConfig", "BucketNotification", "BucketCorsConfiguration",
                "BucketCorsConfigurationV2", "BucketObjectLockConfiguration", "BucketObjectLockConfigurationV2",
                "AccountPublicAccessBlock",
            )
        ),
        # Objects take the bucket's default encryption.
        "aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2",
        # Database settings.
        "aws:rds/parameterGroup:ParameterGroup", "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup", "aws:rds/optionGroup:OptionGroup",
        "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup",
        # Logs and monitoring settings (log groups are data stores).
        "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/dashboard:Dashboard",
        "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget",
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
        # Containers: task definitions and services run code; ephemeral storage is the cluster's key.
        "aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
        # Backup plans and selections (vaults are data stores).
        "aws:backup/plan:Plan", "aws:backup/selection:Selection", "aws:backup/vaultPolicy:VaultPolicy",
        "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
        "aws:backup/vaultNotifications:VaultNotifications",
        # Secret values belong to their secret and are encrypted with its key.
        "aws:secretsmanager/secretVersion:SecretVersion", "aws:secretsmanager/secretPolicy:SecretPolicy",
        "aws:secretsmanager/secretRotation:SecretRotation",
        "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:efs/mountTarget:MountTarget", "aws:efs/accessPoint:AccessPoint",
        "aws:efs/backupPolicy:BackupPolicy", "aws:efs/fileSystemPolicy:FileSystemPolicy",
        # Google Cloud technology (S3NS): networking, load balancing, identities and settings hold no
        # data; keys are judged by BK-KEY-005, log sinks by BK-REGION-002, the edge by BK-TLS-001.
        *(
            f"gcp:compute/{name[0].lower()}{name[1:]}:{name}"
            for name in (
                "Network", "Subnetwork", "Firewall", "Address", "GlobalAddress", "Route", "Router",
                "RouterNat", "RegionUrlMap", "RegionSslPolicy", "RegionTargetHttpsProxy",
                "RegionTargetHttpProxy", "ForwardingRule", "RegionBackendService",
                "RegionNetworkEndpointGroup", "RegionHealthCheck", "SslPolicy",
                "RegionSecurityPolicy", "RegionSecurityPolicyRule",
            )
        ),
        # Enabled APIs and audit-log settings hold no data; an EKM connection and an external key
        # version hold only a path to key material that stays at the ministry's key manager.
        "gcp:projects/service:Service", "gcp:projects/iAMAuditConfig:IAMAuditConfig",
        "gcp:kms/ekmConnection:EkmConnection", "gcp:kms/cryptoKeyVersion:CryptoKeyVersion",
        "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion",
        "gcp:secretmanager/regionalSecretIamMember:RegionalSecretIamMember",
        "gcp:servicenetworking/connection:Connection",
        tokens.GCP_KMS_KEY_RING, tokens.GCP_KMS_KEY, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        "gcp:serviceaccount/account:Account", "gcp:projects/serviceIdentity:ServiceIdentity",
        "gcp:projects/iAMMember:IAMMember",
        # A secret version's value is the secret's, under the secret's key; database and user live in
        # the instance, under its key.
        "gcp:secretmanager/secretVersion:SecretVersion", "gcp:secretmanager/secretIamMember:SecretIamMember",
        "gcp:sql/database:Database", "gcp:sql/user:User",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:logging/projectSink:ProjectSink", "gcp:logging/projectExclusion:ProjectExclusion",
        # Scaleway settings.
        SCALEWAY_KEY,
        "scaleway:object/bucketPolicy:BucketPolicy", "scaleway:object/bucketAcl:BucketAcl",
        "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "scaleway:object/bucketLockConfiguration:BucketLockConfiguration",
        "scaleway:databases/acl:Acl", "scaleway:databases/user:User", "scaleway:databases/privilege:Privilege",
        "scaleway:databases/database:Database",
        "scaleway:secrets/version:Version",
        "scaleway:containers/namespace:Namespace", "scaleway:containers/container:Container",
        "scaleway:containers/domain:Domain", "scaleway:containers/token:Token",
        "scaleway:registry/namespace:Namespace",
        "scaleway:instance/securityGroup:SecurityGroup", "scaleway:instance/securityGroupRules:SecurityGroupRules",
        "scaleway:instance/ip:Ip", "scaleway:instance/privateNic:PrivateNic",
        "scaleway:observability/token:Token",
    }
)  # fmt: skip

Classification = Literal["data-store", "no-data", "unknown"]


def classify(type_token: str) -> Classification:
    """Where a resource type stands for the fail-closed rule."""
    if (
        type_token in AWS_DATA_STORES
        or type_token in SCALEWAY_DATA_STORES
        or type_token in GCP_DATA_STORES
        or type_token in S3_BUCKET_TYPES
    ):
        return "data-store"
    if type_token in NON_DATA_TYPES or type_token.startswith("pulumi:"):
        return "no-data"
    package = package_of(type_token)
    module = type_token.split(":", 2)[1].split("/", 1)[0] if type_token.count(":") >= 2 else ""
    if module in NON_DATA_MODULES.get(package, frozenset()):
        return "no-data"
    return "unknown"
