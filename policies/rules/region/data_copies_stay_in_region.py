# ruff: noqa: PLR0912 - table-like rule logic reads better whole
"""BK-REGION-002: no replication, backup copy, snapshot copy or log destination outside the allowed regions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from facts import tokens
from facts.tokens import KMS_KEY
from policies.catalog import S3_BUCKET_TYPES
from policies.model import Resource, Stack, is_known, region_of_zone
from policies.rules import Rule, Violation
from policies.rules._helpers import ARN, as_list, is_true, walk_strings
from policies.settings import PolicyConfig

#: Nested properties that name the region of a copy (DynamoDB replicas, Secrets Manager replicas, ...).
#: ``awslogs-region``: where a container's logs are shipped (ECS task definitions, in their JSON text).
_COPY_REGION_KEYS = frozenset(
    {"sourceRegion", "destinationRegion", "regionName", "replicaRegion", "region", "awslogs-region"}
)
#: Properties naming an S3 bucket that receives a copy of data (replication, access logs, flow logs).
_S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
_S3_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")


def _nested_regions(value: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if depth > 0 and key in _COPY_REGION_KEYS and isinstance(item, str) and is_known(item) and item:
                yield key, item
            yield from _nested_regions(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_regions(item, depth + 1)
    elif isinstance(value, str) and value[:1] in ("[", "{") and "awslogs-region" in value:
        # Container definitions are a JSON document held in a string (pulumi-aws and the live reader).
        try:
            inner = json.loads(value)
        except ValueError:
            return
        yield from _nested_regions(inner, depth + 1)


def _stack_bucket(stack: Stack, reference: str) -> Resource | None:
    name = reference.removeprefix("arn:aws:s3:::").split("/", 1)[0]
    for bucket_type in S3_BUCKET_TYPES:
        found = stack.references(name, bucket_type, ("bucket", "id", "arn")) or stack.references(
            reference, bucket_type, ("bucket", "id", "arn")
        )
        if found:
            return found
    return None


def _bucket_destination(
    stack: Stack, resource: Resource, reference: Any, what: str, allowed: tuple[str, ...]
) -> Iterator[Violation]:
    """A bucket receiving copies must be one of the stack's buckets in an allowed region."""
    if not isinstance(reference, str) or not is_known(reference) or not reference:
        return
    target = _stack_bucket(stack, reference)
    if target is None:
        # When the stack's buckets have no known names (a preview without outputs), a dependency on a
        # stack bucket is all that can be shown.
        named = any(b.get("bucket") or b.id for t in S3_BUCKET_TYPES for b in stack.of_type(t))
        deps = [d for t in S3_BUCKET_TYPES for d in stack.dependencies_of(resource, t)]
        if not named and deps and all(d.region in allowed for d in deps):
            return
        yield Violation(f"{what} goes to bucket {reference}, which is not a bucket of this stack", resource)
    elif target.region not in allowed:
        yield Violation(f"{what} goes to bucket {reference} in {target.region}", resource)


_GCP_LOG_BUCKET = re.compile(
    r"^logging\.googleapis\.com/projects/[^/]+/locations/(?P<location>[^/]+)/buckets/[^/]+$"
)


def _gcp_copies(stack: Stack, allowed: tuple[str, ...]) -> Iterator[Violation]:
    """Google Cloud technology (S3NS): backup locations, secret replicas and log sink destinations."""
    for database in stack.of_type(tokens.GCP_SQL_INSTANCE):
        location = database.get("settings", "backupConfiguration", "location")
        if not location:
            # Unset, Cloud SQL stores backups in the multi-region nearest the instance.
            yield Violation(
                "backupConfiguration.location is unset: backups may go to a multi-region", database
            )
        elif is_known(location) and location not in allowed:
            yield Violation(f"backups are stored in {location}", database)
    for secret in stack.of_type(tokens.GCP_SECRET):
        if secret.get("replication", "automatic") is not None:
            yield Violation("automatic replication lets Secret Manager place copies in any location", secret)
        for replica in as_list(secret.get("replication", "userManaged", "replicas")):
            location = replica.get("location") if isinstance(replica, dict) else None
            if isinstance(location, str) and is_known(location) and location not in allowed:
                yield Violation(f"a replica is stored in {location}", secret)
    for sink in stack.of_type("gcp:logging/projectSink:ProjectSink"):
        destination = sink.get("destination")
        if not isinstance(destination, str) or not is_known(destination):
            continue
        match = _GCP_LOG_BUCKET.match(destination)
        if match is None:
            # Storage, BigQuery or Pub/Sub destinations would need their own location checks: refused.
            yield Violation(
                f"log sink destination {destination} is not a log bucket of the allowed region", sink
            )
        elif match["location"] not in allowed:
            yield Violation(f"log sink sends logs to {match['location']}", sink)


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    yield from _gcp_copies(stack, config.regions_for("gcp"))
    aws_allowed = config.regions_for("aws")
    for resource in stack:
        if not resource.custom or resource.is_provider:
            continue
        allowed = config.regions_for(resource.package)
        # Any ARN naming a region outside the allowed set: a copy, a log destination, a source.
        for path, text in walk_strings(resource.properties):
            for match in ARN.finditer(text):
                region = match.group("region")
                if region and region != "*" and aws_allowed and region not in aws_allowed:
                    yield Violation(f"{path} points to {match.group(0)}… in region {region}", resource)
                    break
        if allowed:
            for key, region in _nested_regions(resource.properties):
                if region_of_zone(region) not in allowed:
                    yield Violation(f"{key} {region} copies data outside the allowed regions", resource)
        if resource.type == KMS_KEY and is_true(resource.get("multiRegion")):
            yield Violation("a multi-Region key can be replicated to other regions", resource)
    for replication in stack.of_type(_S3_REPLICATION):
        for rule in as_list(replication.get("rules")):
            destination = rule.get("destination") if isinstance(rule, dict) else None
            for dest in as_list(destination):
                if isinstance(dest, dict):
                    yield from _bucket_destination(
                        stack, replication, dest.get("bucket"), "replication", aws_allowed
                    )
    for logging in stack.of_type(*_S3_LOGGING):
        yield from _bucket_destination(
            stack, logging, logging.get("targetBucket"), "access logging", aws_allowed
        )
    for flow_log in stack.of_type("aws:ec2/flowLog:FlowLog"):
        destination = flow_log.get("logDestination")
        if flow_log.get("logDestinationType") == "s3" and isinstance(destination, str):
            yield from _bucket_destination(stack, flow_log, destination, "flow logs", aws_allowed)
    for trail in stack.of_type("aws:cloudtrail/trail:Trail"):
        yield from _bucket_destination(
            stack, trail, trail.get("s3BucketName"), "trail log files", aws_allowed
        )


RULE = Rule(
    id="BK-REGION-002",
    title="Replicas, backup and snapshot copies and log destinations stay in the allowed regions",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II"),
    remediation=(
        "Remove cross-region replication, backup copy actions and snapshot copies to other regions; send "
        "logs only to log groups and buckets of this stack in the allowed region."
    ),
    rationale="A copy of health data outside the EEA breaks the HDS localisation requirement as surely as the original.",
    check=check,
    scope="stack",
)
