"""BK-IAM-001: every Scaleway principal holds exactly the permission sets its uses need."""

from __future__ import annotations

import json
from collections.abc import Iterator

from facts.scaleway import permission_needs
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.rules.iam._scaleway import APPLICATION, POLICY, USE_TAG, application_of, rules_of, uuid_of
from policies.settings import PolicyConfig

BUCKET_POLICY = "scaleway:object/bucketPolicy:BucketPolicy"
SSE = "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
#: The use a principal of an SSE-KMS bucket's policy must declare (data/facts/scaleway.yaml).
SSE_KMS_USE = "documents-read-write"


def _declared_uses(app: Resource) -> list[str]:
    tags = app.get("tags", default=[])
    return (
        [t[len(USE_TAG) :] for t in tags if isinstance(t, str) and t.startswith(USE_TAG)]
        if isinstance(tags, list)
        else []
    )


def _sse_kms_principals(stack: Stack) -> set[str]:
    """Principal ids (uuid part) named by the policy of a bucket encrypted with SSE-KMS."""
    kms_buckets = {
        s.get("bucket")
        for s in stack.of_type(SSE)
        if any(
            isinstance(r, dict)
            and (r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") == "aws:kms"
            for r in (s.get("rules", default=[]) or [])
        )
    }
    found: set[str] = set()
    for policy in stack.of_type(BUCKET_POLICY):
        document = policy.get("policy")
        if policy.get("bucket") not in kms_buckets or not isinstance(document, str) or not is_known(document):
            continue
        try:
            statements = json.loads(document).get("Statement", [])
        except (ValueError, AttributeError):
            continue
        for statement in statements if isinstance(statements, list) else []:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if not any(str(a).startswith(("s3:GetObject", "s3:PutObject", "s3:*")) for a in actions):
                continue
            principal = statement.get("Principal")
            scw = principal.get("SCW", []) if isinstance(principal, dict) else []
            for name in [scw] if isinstance(scw, str) else scw:
                if str(name).startswith("application_id:"):
                    found.add(uuid_of(str(name).split(":", 1)[1]))
    return found


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    needs_by_use = permission_needs()
    granted: dict[str, set[str]] = {}
    for policy in stack.of_type(POLICY):
        app = application_of(policy, stack)
        if app is None:
            # Fail closed: a grant to a user, a group or an application outside the stack has uses
            # this rule cannot establish.
            yield Violation(
                "the policy's principal is not an IAM application of this stack: its uses cannot be "
                "established, so neither can whether its permission sets are what they need",
                policy,
            )
            continue
        for rule in rules_of(policy):
            sets = rule.get("permissionSetNames", [])
            granted.setdefault(app.urn, set()).update(str(s) for s in sets if isinstance(s, str))
    sse_principals = _sse_kms_principals(stack)
    for app in stack.of_type(APPLICATION):
        uses = _declared_uses(app)
        unknown = sorted(u for u in uses if u not in needs_by_use)
        if unknown:
            yield Violation(
                f"declares use(s) {unknown} that data/facts/scaleway.yaml does not know "
                f"(known: {sorted(needs_by_use)})",
                app,
            )
            continue
        if uuid_of(app.id) in sse_principals and SSE_KMS_USE not in uses:
            uses.append(SSE_KMS_USE)
            yield Violation(
                f"is a principal of an SSE-KMS bucket's policy but does not declare use:{SSE_KMS_USE}", app
            )
        needed = {p for u in uses for p in needs_by_use[u]}
        has = granted.get(app.urn, set())
        missing, extra = sorted(needed - has), sorted(has - needed)
        if missing:
            yield Violation(
                f"its uses {sorted(uses)} need {missing}, which no policy of the stack grants it", app
            )
        if extra:
            yield Violation(f"holds {extra}, more than its uses {sorted(uses)} need", app)


RULE = Rule(
    id="BK-IAM-001",
    title="Every Scaleway principal holds exactly the permission sets its uses need",
    severity="high",
    mandatory=True,
    regulations=("SCW-DOCS", "HDS-2024"),
    remediation=(
        "Tag the IAM application with each use (use:documents-read-write, use:envelope-encryption, "
        "use:secret-read ...) and grant exactly the permission sets data/facts/scaleway.yaml lists for them: "
        "SSE-KMS buckets need KeyManagerKeyEncrypt/Decrypt besides the Object Storage sets."
    ),
    rationale=(
        "A missing permission set fails at run time (a bucket under SSE-KMS answers 403 without Key Manager "
        "permissions); an extra one widens what a leaked API key can reach."
    ),
    check=check,
    scope="stack",
)
