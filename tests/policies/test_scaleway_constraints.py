"""Scaleway's documented constraints under the rules: the shipped Option B and key store pass; each
mutant of a constraint is caught by the expected rule in preview form and in `pulumi stack export` form."""

from __future__ import annotations

import pytest

from policies.audit import audit_export, audit_preview
from tests.policies.policy_mutants import Mutant
from tests.policies.policy_support import as_export, mandatory_failures, preview_document, stack_config
from tests.policies.scaleway_constraint_mutants import KEYSTORE, SCALEWAY_CONSTRAINT_MUTANTS, SCW


@pytest.mark.parametrize("stack", [SCW, KEYSTORE])
def test_shipped_stacks_pass_in_both_forms(stack: str) -> None:
    document = preview_document(stack)
    assert audit_preview(document, stack).passed
    assert audit_export(as_export(document), stack, stack_config=stack_config(document)).passed


def test_every_constraint_rule_has_mutants() -> None:
    rules = {m.expected_rule for m in SCALEWAY_CONSTRAINT_MUTANTS}
    assert {"BK-SCW-001", "BK-SCW-002", "BK-IAM-001", "BK-IAM-002", "BK-KEY-007"} <= rules
    assert len({m.name for m in SCALEWAY_CONSTRAINT_MUTANTS}) == len(SCALEWAY_CONSTRAINT_MUTANTS)


@pytest.mark.parametrize("mutant", SCALEWAY_CONSTRAINT_MUTANTS, ids=lambda m: m.name)
def test_mutant_caught_in_preview_form(mutant: Mutant) -> None:
    result = audit_preview(mutant.apply(preview_document(mutant.stack)), mutant.stack)
    failed = mandatory_failures(result)
    assert mutant.expected_rule in failed, (
        f"{mutant.name}: expected {mutant.expected_rule}, got {sorted(failed)}"
    )


@pytest.mark.parametrize("mutant", SCALEWAY_CONSTRAINT_MUTANTS, ids=lambda m: m.name)
def test_mutant_caught_in_export_form(mutant: Mutant) -> None:
    document = mutant.apply(preview_document(mutant.stack))
    result = audit_export(as_export(document), mutant.stack, stack_config=stack_config(document))
    failed = mandatory_failures(result)
    assert mutant.expected_rule in failed, (
        f"{mutant.name}: expected {mutant.expected_rule}, got {sorted(failed)}"
    )
