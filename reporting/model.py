"""Builds the comparison: one column per option (A, B, C) from previews, policy results and facts.

An option whose stack is absent from stacks/ still gets its column: the legal, threat and exit facts
come from data/, and every figure that needs the preview says it is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reporting.analysis import Custody, Option, custody, inventory, option_from_preview
from reporting.bom import Assumptions, bill_of_materials, option_quantities
from reporting.cost import Bill, CostRange, RangeLine, bill_range_lines, ownership_lines, price_bill
from reporting.facts import Facts, OptionDef, TargetFacts, Text
from reporting.i18n import ui


@dataclass
class PolicySummary:
    rules: int
    passed: bool
    failed: list[dict[str, Any]]
    excepted: list[dict[str, Any]]
    #: The qualified-perimeter rules run in SecNumCloud-only mode: rule id -> failed findings; a rule
    #: id absent from the mapping does not exist in policies/ (not run).
    perimeter: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Findings of advisory rules: counted apart, they never make the audit fail.
    advisory: list[dict[str, Any]] = field(default_factory=list)


#: The qualified-perimeter rule, rerun in SecNumCloud-only mode for the SREN / circular test.
PERIMETER_RULES: tuple[str, ...] = ("BK-PROV-002",)

Auditor = Callable[[Mapping[str, Any], str, tuple[str, ...]], PolicySummary | None]


@dataclass
class Column:
    definition: OptionDef
    facts: TargetFacts
    option: Option | None
    bills: list[Bill]
    custody: Custody | None
    inventory: dict[str, Any]
    policy: PolicySummary | None
    cost: CostRange
    missing_stacks: list[str]

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def target(self) -> str:
        return self.definition.target


@dataclass
class Report:
    columns: list[Column]
    facts: Facts
    assumptions: Assumptions
    generated: str
    stacks_read: list[str]


def policy_auditor() -> Auditor:
    """The policies' audit API if present, else an auditor that reports "not available"."""
    try:
        from policies.audit import audit_preview
        from policies.rules import all_rules
        from policies.settings import PolicyConfig
    except ImportError:
        return lambda _document, _stack, _regulations: None

    def audit(document: Mapping[str, Any], stack: str, rule_ids: tuple[str, ...]) -> PolicySummary:
        result = audit_preview(document, stack)
        failed = [f.to_dict() for f in result.failed]
        # A finding that does not say it is advisory counts as mandatory (fail closed).
        summary = PolicySummary(
            len(result.rules_evaluated),
            bool(result.passed),
            [f for f in failed if f.get("mandatory", True) is not False],
            [f.to_dict() for f in result.excepted],
            advisory=[f for f in failed if f.get("mandatory", True) is False],
        )
        known = {r.id for r in all_rules()}
        if any(i in known for i in rule_ids):
            # The qualified-perimeter question is "what if this stack's data required SecNumCloud": rerun
            # with the SecNumCloud-only switch on and keep those rules' findings.
            strict = audit_preview(
                document, stack, config=PolicyConfig().model_copy(update={"secnumcloud_only": True})
            )
            for rule_id in rule_ids:
                if rule_id in known:
                    summary.perimeter[rule_id] = [f.to_dict() for f in strict.failed if f.rule_id == rule_id]
        return summary

    return audit


def scope_gaps(cost: CostRange, scope: tuple[str, ...]) -> list[RangeLine]:
    """A 'not priced' line for each category of the common scope the option has no line in, so an
    option is never totalled on a narrower scope than the others."""
    present = {line.category for line in cost.lines}
    return [
        RangeLine(
            Text(
                **{lang: ui("scope_missing", lang, category=ui(f"cat_{cat}", lang)) for lang in ("en", "fr")}
            ),
            cat,
            "EUR",
            None,
            None,
            "none",
            ("project-cost-model",),
            material=True,
        )
        for cat in scope
        if cat not in present
    ]


def build(
    previews: Mapping[str, Mapping[str, Any]],
    facts: Facts,
    assumptions: Assumptions,
    auditor: Auditor,
    generated: str | None = None,
) -> Report:
    rule_ids = PERIMETER_RULES
    columns = []
    for definition in facts.options:
        target_facts = facts.targets.get(definition.target) or TargetFacts(provider=definition.target)
        document = previews.get(definition.stack)
        option = option_from_preview(definition.stack, document) if document is not None else None
        missing = [definition.stack] if option is None else []
        bills: list[Bill] = []
        if option is not None:
            book = facts.price_book(target_facts.provider)
            bills.append(price_bill(option.stack, bill_of_materials(option, assumptions), book))
        cost = CostRange()
        for companion in definition.companion_stacks:
            if companion not in previews:
                missing.append(companion)
                continue
            ks = option_from_preview(companion, previews[companion])
            ks_facts = facts.targets.get(ks.target) or TargetFacts(provider=ks.target)
            bills.append(
                price_bill(ks.stack, bill_of_materials(ks, assumptions), facts.price_book(ks_facts.provider))
            )
        for bill in bills:
            cost.lines += bill_range_lines(bill, facts.uplift)
        cost.lines += ownership_lines(
            facts.ownership.get(definition.target, ()),
            assumptions,
            cost,
            option_quantities(option, assumptions),
        )
        if definition.companion_stacks:
            companion_target = "keystore"
            cost.lines += ownership_lines(facts.ownership.get(companion_target, ()), assumptions, cost)
        cost.lines += scope_gaps(cost, facts.scope)
        columns.append(
            Column(
                definition,
                target_facts,
                option,
                bills,
                custody(option) if option else None,
                inventory(option) if option else {},
                auditor(document, definition.stack, rule_ids) if document is not None else None,
                cost,
                missing,
            )
        )
    return Report(
        columns,
        facts,
        assumptions,
        generated or dt.date.today().isoformat(),
        sorted(s for s in previews),
    )
