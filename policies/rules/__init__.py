"""Rules: one per file under ``policies/rules/<topic>/``, each exposing ``RULE``.

A rule is a pure function ``(Stack, PolicyConfig) -> violations`` plus the metadata an auditor
needs: a stable id, a title stating the positive outcome, severity, enforcement level, the
regulations it implements and the remediation. ``scope`` tells the CrossGuard pack whether the rule
can judge one resource alone (``resource``: run by ``Analyze``) or needs the whole stack
(``stack``: run by ``AnalyzeStack``).

Applicability is part of a rule: :meth:`Rule.not_applicable` says, from the stack alone (what it was
read from, which providers it holds, the policy config), whether the rule can judge it, and if not why.
An inapplicable rule is reported "not applicable: <reason>", never "pass". Three declarations decide:

* ``inputs``: the input kinds the rule can judge. Default: ``("live",)`` for rules under ``live/``,
  every kind otherwise.
* ``providers``: the provider packages whose resources the rule judges. Default: the file name's
  prefix (``aws_``, ``scaleway_``, ``gcp_``), none (any provider) otherwise.
* ``applies``: an extra condition, ``(stack, config) -> reason or None`` (BK-PROV-002: only where
  SecNumCloud is required).

A rule written without any of them applies everywhere, as before: fail closed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from facts.providers import by_package
from policies.model import DESIRED_STATE, INPUT_KINDS, InputKind, Resource, Stack
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
#: An extra applicability condition: None when the rule applies, otherwise why it does not.
Applies = Callable[[Stack, PolicyConfig], str | None]

_KIND_WORDS: dict[str, str] = {
    "preview": "a preview",
    "export": "a stack export",
    "crossguard": "CrossGuard",
    "plan": "an exported plan",
    "live": "a live account",
}


def _cloud_packages() -> frozenset[str]:
    """Packages that create resources in a cloud (data/facts/providers.yaml; engine packages do not):
    a rule file named ``<package>_….py`` judges that package's resources."""
    return frozenset(package for package, provider in by_package().items() if not provider.engine)


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
    #: Judges what the other rules read (BK-STATE-001), so it runs after all of them.
    runs_last: bool = False
    #: Input kinds the rule can judge; empty: derived (``live/`` rules: live only; others: every kind).
    inputs: tuple[InputKind, ...] = ()
    #: Provider packages whose resources the rule judges; empty: derived from the file name, else any.
    providers: tuple[str, ...] = ()
    #: Extra condition from the stack and the policy config (None: the rule applies).
    applies: Applies | None = None

    def __post_init__(self) -> None:
        unknown = [r for r in self.regulations if r not in REGULATIONS]
        if unknown:
            raise ValueError(f"{self.id}: unknown regulation id(s) {unknown}")
        wrong = [k for k in self.inputs if k not in INPUT_KINDS]
        if wrong:
            raise ValueError(f"{self.id}: unknown input kind(s) {wrong} (allowed: {', '.join(INPUT_KINDS)})")

    def not_applicable(self, stack: Stack, config: PolicyConfig) -> str | None:
        """Why the rule cannot judge this stack, or None when it applies.

        Fail closed: a stack whose kind is unknown, or a rule that declares nothing, applies.
        """
        inputs = self.inputs or (("live",) if self.topic == "live" else INPUT_KINDS)
        if stack.kind is not None and stack.kind not in inputs:
            judged = " or ".join(_KIND_WORDS[k] for k in inputs)
            if tuple(inputs) == DESIRED_STATE:
                judged = "the desired state (a preview, an export, CrossGuard or a plan)"
            return f"judges {judged} only; this stack was read from {_KIND_WORDS[stack.kind]}"
        if self.providers:
            present = sorted({r.package for r in stack.resources if r.custom and r.package})
            if not set(self.providers) & set(present):
                return (
                    f"judges {', '.join(self.providers)} resources; the stack holds none "
                    f"(providers present: {', '.join(present) or 'none'})"
                )
        if self.applies is not None:
            return self.applies(stack, config)
        return None

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
            rules[rule.id] = _with_defaults(rule, info.name)
    return tuple(rules[k] for k in sorted(rules))


def _with_defaults(rule: Rule, module: str) -> Rule:
    """Fills what a rule leaves to its place: its topic (the folder) and provider (the file prefix)."""
    from dataclasses import replace

    topic = rule.topic or module.split(".")[-2]
    prefix = module.rsplit(".", 1)[-1].split("_", 1)[0]
    providers = rule.providers or ((prefix,) if prefix in _cloud_packages() else ())
    if (topic, providers) == (rule.topic, rule.providers):
        return rule
    return replace(rule, topic=topic, providers=providers)
