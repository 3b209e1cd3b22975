"""Cloud Logging in the qualified region: a log bucket under the logs key receives every log."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.s3ns._options import inherited


@dataclass(frozen=True)
class LogsArgs:
    """Inputs of Logs."""

    project: str
    region: str
    logs_key_id: pulumi.Input[str]
    retention_days: int = 365


class Logs(pulumi.ComponentResource):
    """A regional log bucket under the logs key, a sink routing every log entry into it, and an
    exclusion that keeps those entries out of the provider-keyed _Default bucket.

    NO-CUSTOMER-KEY: the _Required bucket (Admin Activity and System Event audit logs, 400 days)
    cannot take a customer key and cannot be excluded from (Cloud Logging CMEK limitations); it stays
    in the universe's single region under a provider key. The policies record that exception.
    """

    bucket_id: pulumi.Output[str]

    def __init__(self, name: str, args: LogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Logs", name, None, opts)
        self._after = inherited(opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        bucket_id = f"{name}-bucket"
        self.bucket = gcp.logging.ProjectBucketConfig(
            bucket_id,
            project=args.project,
            location=args.region,
            bucket_id=bucket_id,
            retention_days=args.retention_days,
            # Locked would forbid lowering retention or deleting early: left to the operator's decision.
            locked=False,
            cmek_settings=gcp.logging.ProjectBucketConfigCmekSettingsArgs(kms_key_name=args.logs_key_id),
            opts=child,
        )
        # The sink's destination is a resource name, not a URL: it keeps the googleapis.com form in
        # every universe.
        self.sink = gcp.logging.ProjectSink(
            f"{name}-all",
            project=args.project,
            destination=f"logging.googleapis.com/projects/{args.project}/locations/{args.region}/buckets/{bucket_id}",
            filter="",
            unique_writer_identity=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._after, self.bucket]),
        )
        # Project exclusions apply to the _Default sink only: entries stop landing under a provider key.
        self.exclusion = gcp.logging.ProjectExclusion(
            f"{name}-not-default",
            project=args.project,
            description="Every entry goes to the customer-keyed bucket instead of _Default",
            filter='logName:"/logs/"',
            opts=child,
        )
        self.bucket_id = self.bucket.id
        self.register_outputs({"bucketId": self.bucket_id})
