"""Rules: one per file under ``policies/rules/<topic>/``, each exposing ``RULE``.

A rule is a pure function ``(Stack, PolicyConfig) -> violations`` plus the metadata an auditor
needs: a stable id, a title stating the positive outcome, severity, enforcement level, the
regulations it implements and the remediation. ``scope`` tells the CrossGuard pack whether the rule
can judge one resource alone (``resource``: run by ``Analyze``) or needs the whole stack
(``stack``: run by ``AnalyzeStack``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from policies.model import Resource, Stack
from policies.regulations import CONTROLS, REGULATIONS, controls_of, describe
from policies.settings import PolicyConfig

Severity = Literal["critical", "high", "medium", "low"]
Scope = Literal["resource", "stack"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One resource (or the stack itself, when ``resource`` is None) failing one rule."""

    message: str
    resource: Resource | None = None


Check = Callable[[Stack, PolicyConfig], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    mandatory: bool
    regulations: tuple[str, ...]
    remediation: str
    check: Check
    scope: Scope
    topic: str = ""
    #: Why the rule exists, in a sentence or two (shown in reports and SARIF help).
    rationale: str = ""

    def __post_init__(self) -> None:
        unknown = [r for r in self.regulations if r not in REGULATIONS]
        if unknown:
            raise ValueError(f"{self.id}: unknown regulation id(s) {unknown}")

    @property
    def controls(self) -> tuple[str, ...]:
        """Ids of the catalog controls this rule implements (policies/regulations.py)."""
        return controls_of(self.id, self.regulations)

    @property
    def regulation(self) -> str:
        controls = "; ".join(CONTROLS[c].title for c in self.controls)
        return describe(self.regulations) + (f". Controls: {controls}" if controls else "")

    @property
    def enforcement(self) -> str:
        return "mandatory" if self.mandatory else "advisory"


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, found by walking this package, sorted by id."""
    rules: dict[str, Rule] = {}
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if info.ispkg or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Rule):
            if rule.id in rules:
                raise ValueError(f"duplicate rule id {rule.id} in {info.name}")
            topic = info.name.split(".")[-2]
            rules[rule.id] = rule if rule.topic else _with_topic(rule, topic)
    return tuple(rules[k] for k in sorted(rules))


def _with_topic(rule: Rule, topic: str) -> Rule:
    from dataclasses import replace

    return replace(rule, topic=topic)


def rule_by_id(rule_id: str) -> Rule:
    for rule in all_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)
