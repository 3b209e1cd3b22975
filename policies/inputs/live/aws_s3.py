"""S3 read live: each bucket's encryption, public access block, policy, ACL grants, replication, logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from policies.inputs.live.aws_client import HOME_REGION, AwsClient, UnreadableError

S3_BUCKET: Final = "aws:s3/bucket:Bucket"
S3_SSE: Final = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_PAB: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
S3_ACL: Final = "aws:s3/bucketAcl:BucketAcl"
S3_REPLICATION: Final = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
S3_LOGGING: Final = "aws:s3/bucketLogging:BucketLogging"

#: S3 error codes meaning "this setting is absent", which is a fact, not a gap.
_S3_ABSENT: Final = frozenset(
    {
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "NoSuchBucketPolicy",
        "ReplicationConfigurationNotFoundError",
    }
)


def read_s3(aws: AwsClient) -> None:
    """Every bucket once (S3 lists them account-wide), each read in its own region."""
    home = aws.session.region_name or HOME_REGION
    try:
        buckets = aws.pages("s3", home, "ListBuckets", "Buckets", "S3 buckets")
    except UnreadableError:
        return
    for bucket in buckets:
        name = bucket["Name"]
        try:
            _bucket(aws, name, home)
        except UnreadableError:
            continue


def _bucket(aws: AwsClient, name: str, home: str) -> None:
    what = f"bucket {name}"
    location = aws.call("s3", home, "GetBucketLocation", what, Bucket=name).get("LocationConstraint")
    region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    assert isinstance(region, str)
    sse = aws.call("s3", region, "GetBucketEncryption", f"{what} encryption", absent=_S3_ABSENT, Bucket=name)
    pab = aws.call(
        "s3",
        region,
        "GetPublicAccessBlock",
        f"{what} public access block",
        absent=_S3_ABSENT,
        Bucket=name,
    )
    policy = aws.call("s3", region, "GetBucketPolicy", f"{what} policy", absent=_S3_ABSENT, Bucket=name)
    acl = aws.call("s3", region, "GetBucketAcl", f"{what} ACL", Bucket=name)
    replication = aws.call(
        "s3", region, "GetBucketReplication", f"{what} replication", absent=_S3_ABSENT, Bucket=name
    )
    logging = aws.call("s3", region, "GetBucketLogging", f"{what} logging", Bucket=name)
    arn = f"arn:aws:s3:::{name}"
    aws.arns.add(arn)
    aws.add(S3_BUCKET, name, region, {"bucket": name, "arn": arn})
    rules = sse.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if rules:
        aws.add(S3_SSE, name, region, {"bucket": name, "rules": [_sse_rule(r) for r in rules]})
    block = pab.get("PublicAccessBlockConfiguration")
    if block:
        aws.add(
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
        aws.add(S3_POLICY, name, region, {"bucket": name, "policy": policy["Policy"]})
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
    aws.add(S3_ACL, name, region, {"bucket": name, "accessControlPolicy": {"grants": grants}})
    if replication.get("ReplicationConfiguration"):
        config = replication["ReplicationConfiguration"]
        aws.add(
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
        aws.add(S3_LOGGING, name, region, {"bucket": name, "targetBucket": target})


def _sse_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return {
        "applyServerSideEncryptionByDefault": {
            "sseAlgorithm": default.get("SSEAlgorithm"),
            "kmsMasterKeyId": default.get("KMSMasterKeyID"),
        },
        "bucketKeyEnabled": rule.get("BucketKeyEnabled", False),
    }
