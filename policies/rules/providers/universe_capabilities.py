"""BK-PROV-004: every S3NS resource asks only for what the universe offers (data/facts/s3ns.yaml).

A setting the universe does not offer fails at ``pulumi up``, or works only in Google Cloud's public
universe: a global Secret Manager secret (the universe documents regional secrets), a service identity
created through generateServiceIdentity, bucket usage logs (their grant is not documented there).
Key protection levels are BK-KEY-005's, SSL policy profiles BK-TLS-004's.
"""

from __future__ import annotations

from collections.abc import Iterator

from facts import s3ns as universe
from facts.tokens import GCP_BUCKET, GCP_SECRET
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    if universe.secret_manager_mode() == "regional":
        for secret in stack.of_type(GCP_SECRET):
            yield Violation(
                "a global Secret Manager secret: the universe documents regional secrets only "
                f"(gcp.secretmanager.RegionalSecret; {universe.cite('secret_manager_mode')})",
                secret,
            )
    if universe.refused("service_identity_api"):
        for identity in stack.of_type(SERVICE_IDENTITY):
            yield Violation(
                "generateServiceIdentity is not established in the universe: give the service agent as config "
                "(data/facts/s3ns.yaml service_identity_api)",
                identity,
            )
    if universe.refused("bucket_access_logs"):
        for bucket in stack.of_type(GCP_BUCKET):
            if bucket.get("logging", "logBucket"):
                yield Violation(
                    "bucket usage logs need a grant to Google's analytics group, not documented in the universe "
                    "(data/facts/s3ns.yaml bucket_access_logs): use Data Access audit logs",
                    bucket,
                )


RULE = Rule(
    id="BK-PROV-004",
    title="Every S3NS resource asks only for what the universe offers",
    severity="high",
    mandatory=True,
    regulations=("SNC-3.2-19",),
    remediation=(
        "Use what data/facts/s3ns.yaml records for the universe: regional secrets "
        "(gcp.secretmanager.RegionalSecret), service agents given as config rather than "
        "gcp.projects.ServiceIdentity, and Data Access audit logs (gcp.projects.IAMAuditConfig) rather than "
        "bucket usage logs."
    ),
    rationale=(
        "A stack that passes every rule offline must also deploy: a setting the universe lacks stops the "
        "first `pulumi up`, or only works outside the qualified offer."
    ),
    check=check,
    scope="stack",
)
