"""BK-SCW-002: Serverless Containers use no environment name Scaleway reserves (SCW_*, PORT)."""

from __future__ import annotations

from collections.abc import Iterator

from facts.scaleway import is_reserved_environment_name
from policies.model import SECRET, Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

CONTAINERS = ("scaleway:containers/container:Container", "scaleway:containers/namespace:Namespace")
#: A secret map hides its names; components/scaleway declares each one in a tag ``secret-env:<NAME>``.
SECRET_ENV_TAG = "secret-env:"  # noqa: S105 - a tag prefix, not a secret


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for resource in stack.of_type(*CONTAINERS):
        names: list[str] = []
        plain = resource.get("environmentVariables")
        if isinstance(plain, dict):
            names += list(plain)
        secret = resource.get("secretEnvironmentVariables")
        tags = resource.get("tags", default=[])
        declared = (
            [t[len(SECRET_ENV_TAG) :] for t in tags if isinstance(t, str) and t.startswith(SECRET_ENV_TAG)]
            if isinstance(tags, list)
            else []
        )
        if isinstance(secret, dict):
            names += list(secret)
        elif secret is SECRET:
            if not declared:
                yield Violation(
                    "secretEnvironmentVariables is a secret whose names cannot be read and no "
                    f"'{SECRET_ENV_TAG}<NAME>' tag declares them",
                    resource,
                )
            names += declared
        reserved = sorted(n for n in names if is_reserved_environment_name(n))
        if reserved:
            yield Violation(
                f"environment variable(s) {reserved} are reserved by Serverless Containers (SCW_*, PORT; "
                "data/facts/scaleway.yaml)",
                resource,
            )


RULE = Rule(
    id="BK-SCW-002",
    title="Serverless Containers use no environment name Scaleway reserves",
    severity="medium",
    mandatory=True,
    regulations=("SCW-DOCS",),
    remediation=(
        "Rename the variables (BOOKING_*, DATABASE_* ...): SCW_* is reserved for product configuration and PORT "
        "is set by Scaleway from the container's port."
    ),
    rationale="A reserved name is overridden by the platform: the application silently reads another value.",
    check=check,
    scope="resource",
)
