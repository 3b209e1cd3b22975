"""``ApiIdentity``: the API's IAM application, its API key and exactly the permissions its uses need."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX, tags_for
from facts.scaleway import permissions_for

#: What the API does with Scaleway services; each use's permission sets are sourced rows of
#: data/facts/scaleway.yaml (permission-need). The application's tags carry them (``use:<name>``) so
#: the policies check that the granted sets cover them, and no more (BK-IAM-001).
API_USES: tuple[str, ...] = ("documents-read-write", "envelope-encryption", "secret-read")
USE_TAG_PREFIX = "use:"


class ApiIdentity(pulumi.ComponentResource):
    """The API's own principal: nothing else reads documents, wraps data keys or reads its secret."""

    def __init__(self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"{TYPE_PREFIX}:ApiIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.application = scw.iam.Application(
            f"{name}-app",
            name=f"{args.name_prefix}-api",
            description="Booking API: documents (SSE-KMS), envelope key, database secret",
            tags=[*tags_for(args, "iam"), *(f"{USE_TAG_PREFIX}{use}" for use in API_USES)],
            opts=child,
        )
        self.api_key = scw.iam.ApiKey(
            f"{name}-api-key",
            application_id=self.application.id,
            description="Booking API (Serverless Container secret)",
            default_project_id=args.project_id,
            expires_at=args.api_key_expires_at,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_key"]),
        )
        self.policy = scw.iam.Policy(
            f"{name}-policy",
            name=f"{args.name_prefix}-api",
            application_id=self.application.id,
            rules=[
                scw.iam.PolicyRuleArgs(
                    permission_set_names=list(permissions_for(API_USES)),
                    # Scaleway requires a project or organization per rule: the stack's project only.
                    project_ids=[args.project_id],
                )
            ],
            opts=child,
        )
        self.register_outputs(
            {"application_id": self.application.id, "permission_sets": list(permissions_for(API_USES))}
        )
