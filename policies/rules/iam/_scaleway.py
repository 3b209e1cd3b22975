"""What the Scaleway IAM rules share: the types and how a policy names its application."""

from __future__ import annotations

from typing import Any

from policies.model import Resource, Stack, is_known

APPLICATION = "scaleway:iam/application:Application"
POLICY = "scaleway:iam/policy:Policy"
#: components tag an IAM application with what it does (``use:<name>``, data/facts/scaleway.yaml).
USE_TAG = "use:"


def uuid_of(value: Any) -> str:
    return str(value).split("/")[-1]


def application_of(policy: Resource, stack: Stack) -> Resource | None:
    """The application a policy grants to: by its ``applicationId`` or, failing that, its dependency."""
    found = stack.references(policy.get("applicationId"), APPLICATION, ())
    if found is None:
        wanted = policy.get("applicationId")
        if isinstance(wanted, str) and is_known(wanted):
            found = next((a for a in stack.of_type(APPLICATION) if uuid_of(a.id) == uuid_of(wanted)), None)
    if found is None:
        deps = stack.dependencies_of(policy, APPLICATION)
        found = deps[0] if len(deps) == 1 else None
    return found


def rules_of(policy: Resource) -> list[dict[str, Any]]:
    rules = policy.get("rules", default=[])
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []
