"""BK-EXP-001: no bucket is public."""

from __future__ import annotations

from collections.abc import Iterator

from facts import tokens
from policies.catalog import S3_BUCKET_TYPES, SCALEWAY_BUCKET_TYPES
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list, is_true, settings_of, statements
from policies.settings import PolicyConfig

PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICIES = ("aws:s3/bucketPolicy:BucketPolicy",)
AWS_BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
SCALEWAY_BUCKET_ACLS = ("scaleway:object/bucketAcl:BucketAcl",)
SCALEWAY_BUCKET_POLICIES = ("scaleway:object/bucketPolicy:BucketPolicy",)
_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
GCP_BUCKET = tokens.GCP_BUCKET
GCP_BUCKET_IAM = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)
_GCP_PUBLIC = ("allUsers", "allAuthenticatedUsers")


def _public_grants(policy: object) -> bool:
    for statement in statements(policy):
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))
        if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
            return True
    return False


def _acl_public(resource: Resource) -> bool:
    return resource.get("acl") in _PUBLIC_ACLS or resource.get(
        "accessControlPolicy", "grants", "grantee", "uri"
    ) in (
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    )


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for bucket in stack.of_type(*S3_BUCKET_TYPES):
        blocks = settings_of(stack, bucket, PUBLIC_ACCESS_BLOCK)
        if not any(all(is_true(b.get(flag)) for flag in _BLOCK_FLAGS) for b in blocks):
            yield Violation("no public access block with all four settings true", bucket)
        if _acl_public(bucket) or any(_acl_public(a) for a in settings_of(stack, bucket, AWS_BUCKET_ACLS)):
            yield Violation("a public ACL grants access to everyone", bucket)
        if any(_public_grants(p.get("policy")) for p in settings_of(stack, bucket, BUCKET_POLICIES)):
            yield Violation("the bucket policy allows everyone ('*') without condition", bucket)
    for bucket in stack.of_type(GCP_BUCKET):
        if bucket.get("publicAccessPrevention") != "enforced":
            yield Violation("publicAccessPrevention is not 'enforced': the bucket can be made public", bucket)
        if not is_true(bucket.get("uniformBucketLevelAccess")):
            yield Violation("uniformBucketLevelAccess is off: object ACLs can grant public access", bucket)
    for member in stack.of_type(*GCP_BUCKET_IAM):
        members = [member.get("member"), *as_list(member.get("members"))]
        if any(m in _GCP_PUBLIC for m in members):
            yield Violation("an IAM binding grants the bucket to allUsers or allAuthenticatedUsers", member)
    for bucket in stack.of_type(*SCALEWAY_BUCKET_TYPES):
        if _acl_public(bucket) or any(
            _acl_public(a) for a in settings_of(stack, bucket, SCALEWAY_BUCKET_ACLS)
        ):
            yield Violation("a public ACL grants access to everyone", bucket)
        if any(_public_grants(p.get("policy")) for p in settings_of(stack, bucket, SCALEWAY_BUCKET_POLICIES)):
            yield Violation("the bucket policy allows everyone ('*') without condition", bucket)


RULE = Rule(
    id="BK-EXP-001",
    title="No bucket is public",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II"),
    remediation=(
        "Give every S3 bucket a BucketPublicAccessBlock with the four settings true, use no public ACL, and "
        "grant no Allow to Principal '*' without a condition."
    ),
    rationale="Patient documents must never be readable from the Internet.",
    check=check,
    scope="stack",
)
