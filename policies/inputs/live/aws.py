"""Reads a live AWS account into the policies' resource model (enforcement point 4).

Every API shape is mapped to the pulumi-aws type token and (camelCase) property names the rules
read, so the rules that judge a preview judge the live account too. Properties that only a live
read can know (``keyState``, ``origin``, ``connectionState``, ``sharedAccounts``) keep their API
meaning under camelCase names; the live-only rules in ``policies/rules/live/`` read them.

Nothing unread passes. By default every enabled region is read in detail by every per-service
reader (which lists its resources whether tagged or not); then the tagging API sweeps every enabled
region, and each resource it shows that no reader read in detail (a service the readers do not
know, or a region left out by ``--regions``) enters the model as :data:`TAGGED`, which BK-LIVE-005
fails (and BK-REGION-001 too when it sits outside the allowed regions).

Plumbing (guarded clients, gaps, credentials) is in :mod:`policies.inputs.live.aws_client`; each service
has its reader and shape mappers in ``aws_<service>.py``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from policies.catalog import LIVE_UNREAD_AWS
from policies.inputs.live.aws_client import HOME_REGION, AwsClient, UnreadableError, parse_arn
from policies.inputs.live.aws_kms import read_kms
from policies.inputs.live.aws_logs_secrets_backup import read_backup, read_logs, read_secrets
from policies.inputs.live.aws_network import read_load_balancers, read_security_groups, read_task_definitions
from policies.inputs.live.aws_rds import read_rds
from policies.inputs.live.aws_s3 import read_s3
from policies.inputs.live.aws_storage import read_dynamodb, read_ebs, read_efs
from policies.model import Stack

#: A resource the tag sweep shows and no reader read in detail: failed by BK-LIVE-005.
TAGGED: Final = LIVE_UNREAD_AWS

#: Per-region readers, in order. Each lists its service's resources, tagged or not.
REGIONAL_READERS: Final[tuple[Callable[[AwsClient, str], None], ...]] = (
    read_kms,
    read_rds,
    read_logs,
    read_secrets,
    read_backup,
    read_ebs,
    read_efs,
    read_dynamodb,
    read_security_groups,
    read_load_balancers,
    read_task_definitions,
)

__all__ = ["HOME_REGION", "REGIONAL_READERS", "TAGGED", "AwsReader", "policy_document_text"]


@dataclass
class AwsReader(AwsClient):
    """Reads one AWS account; ``read()`` returns the model and what could not be checked."""

    def read(self, wanted: str | Sequence[str] = "all") -> Stack:
        """Reads the account: S3 once, every region in detail, then every enabled region's tags."""
        self.identity()
        detail, sweep = self.regions(wanted)
        self.coverage.regions = detail
        self.progress(
            f"account {self.account}: reading {len(detail)} region(s) in detail, tags in {len(sweep)}"
        )
        self.progress("s3 (global): buckets")
        with contextlib.suppress(UnreadableError):
            read_s3(self)
        for index, region in enumerate(detail, 1):
            before = len(self.resources)
            for step in REGIONAL_READERS:
                with contextlib.suppress(UnreadableError):
                    step(self, region)
            self.progress(f"[{index}/{len(detail)}] {region}: {len(self.resources) - before} resource(s)")
        sweep_tags(self, sweep)
        config: dict[str, Any] = {
            "aws:region": self.allowed_regions[0] if self.allowed_regions else HOME_REGION,
        }
        return Stack(
            self.stack_name, list(self.resources), config, gaps=tuple(self.coverage.gaps), kind="live"
        )


def sweep_tags(aws: AwsClient, sweep: Sequence[str]) -> None:
    """Every tagged resource no reader read in detail becomes a :data:`TAGGED` resource."""
    aws.progress(f"tags: {len(sweep)} region(s)")
    for region in sweep:
        try:
            mappings = aws.pages(
                "resourcegroupstaggingapi",
                region,
                "GetResources",
                "ResourceTagMappingList",
                "tagged resources",
            )
        except UnreadableError:
            continue
        for mapping in mappings:
            arn = mapping.get("ResourceARN", "")
            parsed = parse_arn(arn)
            if not parsed or arn in aws.arns or arn.removesuffix(":*") in aws.arns:
                continue
            kind, name = _resource_kind(parsed)
            aws.coverage.not_read.append(arn)
            aws.add(
                TAGGED,
                name,
                parsed.get("region") or region,
                {
                    "arn": arn,
                    "resourceType": parsed["service"]
                    if kind == parsed["service"]
                    else f"{parsed['service']}:{kind}",
                    "tags": {t["Key"]: t.get("Value", "") for t in mapping.get("Tags", [])},
                },
                ident=arn,
            )


def _resource_kind(parsed: Mapping[str, str]) -> tuple[str, str]:
    """(resource type, name) from an ARN's resource part: ``db:booking`` -> (``db``, ``booking``)."""
    resource = parsed.get("resource", "")
    cuts = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    if cuts:
        return resource[: min(cuts)], resource[min(cuts) + 1 :]
    return parsed.get("service", ""), resource


def policy_document_text() -> str:
    from policies.inputs.live.guard import policy_document

    return json.dumps(policy_document(), indent=2) + "\n"
