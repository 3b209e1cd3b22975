"""BK-PROV-005 (advisory): where SecNumCloud is required, every resource's service rests on the
qualification's published scope, not only on the provider's documentation of its offer.

BK-PROV-002 fails a resource no perimeter row covers. This rule reports, separately and as advisory,
the resources whose row is backed only by provider documentation ("in the offer, not confirmed in the
qualification's scope"): ANSSI's list of qualified offers or the provider's statement of its
qualified services rank above it (data/facts/providers.yaml, evidence).
"""

from __future__ import annotations

from collections.abc import Iterator

from facts.providers import QUALIFICATION_SCOPE, perimeter
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules.providers.secnumcloud_only import applies_where_required, cloud_resources, required
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    if not required(stack, config):
        return
    for resource, _provider in cloud_resources(stack):
        row = perimeter(resource.package).get(resource.type)
        if row is not None and row.evidence != QUALIFICATION_SCOPE:
            yield Violation(
                f"{row.service}: in the offer, not confirmed in the qualification's scope "
                f"(evidence: {row.evidence}; sources: {', '.join(row.sources)})",
                resource,
            )


RULE = Rule(
    id="BK-PROV-005",
    title="Where SecNumCloud is required, every service rests on the qualification's published scope",
    severity="medium",
    mandatory=False,
    regulations=("SNC-3.2-19", "SREN-31"),
    remediation=(
        "Obtain the qualification's written scope (ANSSI's list of qualified offers, the provider's statement "
        "of its qualified services, or the contract's annex) and record it as a source of the perimeter row "
        "with evidence qualification-scope in data/facts/providers.yaml."
    ),
    rationale=(
        "A qualification covers named services; documentation that a service exists in the offer does not "
        "show it is inside the qualified scope."
    ),
    check=check,
    scope="resource",
    applies=applies_where_required,
)
