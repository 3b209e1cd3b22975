"""Every single-property mutant of a compliant stack is caught by the native rules."""

from __future__ import annotations

import pytest

from policies.audit import audit_preview
from tests.policies.policy_mutants import MUTANTS, Mutant
from tests.policies.policy_support import mandatory_failures, preview_document


def test_there_are_at_least_40_mutants_across_both_options() -> None:
    assert len(MUTANTS) >= 40
    assert {m.stack for m in MUTANTS} == {"aws-xks-paris", "scaleway-paris"}
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_by_the_expected_rule(mutant: Mutant) -> None:
    document = mutant.apply(preview_document(mutant.stack))
    result = audit_preview(document, mutant.stack)
    failed = mandatory_failures(result)
    assert not result.passed, f"{mutant.name} passed every rule"
    assert mutant.expected_rule in failed, (
        f"{mutant.name}: expected {mutant.expected_rule}, got {sorted(failed)}"
    )
