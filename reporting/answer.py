"""The one question, answered per option from data: may a State service host this platform's health data
on it today? Yes, not yet (what is missing, who must act, when it could change) or no (why).

Nothing here is written by hand per option. The answer combines three derived tests:

- SecNumCloud: DINUM's sensitivity test of SREN art. 31 applied to the platform's data
  (data/facts/decision.yaml); when the data is sensitive, the provider's SecNumCloud status
  (data/facts/providers.yaml) and the qualified-perimeter rule run over the stack;
- HDS: the provider's HDS status and, when recorded from the ANS list, the activities it covers, against
  the activities the option asks of its provider;
- the audit: the stack's mandatory policy results.

Fail closed: a status the code does not know, a stack that was not audited, activities that were not
recorded are "not yet", never "yes". The recommendation of data/facts/decision.yaml is checked against
the answers (:func:`check_decision`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reporting.facts import Cited, Facts, Provider, Requirement
from reporting.model import PERIMETER_RULES, Column, Report

Verdict = Literal["yes", "not-yet", "no"]
Status = Literal["compliant", "compliant-under-conditions", "not-compliant"]
#: Who must act for a missing item (a key of the interface catalogue, reporting/i18n.py).
Actor = Literal["provider", "ministry", "platform-team"]

#: Statuses of data/facts/providers.yaml, read the same way the policies' allow-lists read them.
QUALIFIED = "qualified"
CERTIFIED = "certified"
#: A SecNumCloud status meaning the provider cannot be qualified as it stands (answer "no").
EXCLUDED_SNC = frozenset({"not-qualified", "withdrawn"})
#: HDS statuses meaning a certificate was lost (answer "no" until a new one is recorded).
LOST_HDS = frozenset({"withdrawn", "suspended", "expired"})
PERIMETER_RULE = PERIMETER_RULES[0]


@dataclass(frozen=True)
class Gap:
    """One thing that stands between an option and "yes": a catalogue key with its values, who acts,
    when it could change (None: no date in the sources read), and whether it is final ("no")."""

    key: str
    values: tuple[tuple[str, str], ...]
    actor: Actor
    final: bool
    sources: tuple[str, ...]
    when: str | None = None


@dataclass(frozen=True)
class TestResult:
    """One requirement's derived status for one option, with the gaps behind it."""

    status: Status
    gaps: tuple[Gap, ...]
    conditions: tuple[Gap, ...] = ()


@dataclass(frozen=True)
class Answer:
    option: str
    verdict: Verdict
    gaps: tuple[Gap, ...]
    sensitive_because: tuple[Cited, ...]
    tests: dict[str, TestResult]


class DecisionError(ValueError):
    """data/facts/decision.yaml contradicts the derived answers (one line: field and why)."""


def _provider(report: Report, column: Column) -> Provider | None:
    return report.facts.providers.get(column.facts.provider)


def short_name(provider: Provider | None, fallback: str) -> str:
    """'S3NS' for 'S3NS — Cloud de Confiance ...', 'Scaleway' for 'Scaleway (Iliad group)'."""
    if provider is None:
        return fallback
    return provider.name.split(" — ")[0].split(" (")[0].strip()


def sensitive_because(facts: Facts) -> tuple[Cited, ...]:
    """DINUM's criteria met by this platform's data (empty: not sensitive under SREN art. 31)."""
    return tuple(c for c in facts.decision.sensitivity.criteria if c.met)


def secnumcloud_test(report: Report, column: Column) -> TestResult:  # noqa: PLR0911 (one return per outcome)
    """SREN art. 31 / circular 6519/SG: a qualified provider, every resource inside its qualified
    perimeter, when the data is sensitive."""
    if not sensitive_because(report.facts):
        return TestResult("compliant", ())
    provider = _provider(report, column)
    status = provider.secnumcloud if provider else None
    sources = status.sources if status else ("project-policies",)
    name = short_name(provider, column.target)
    if status is None:
        return TestResult(
            "not-compliant", (Gap("gap_snc_unknown", (("provider", name),), "ministry", False, sources),)
        )
    if status.status in EXCLUDED_SNC:
        return TestResult(
            "not-compliant",
            (Gap("gap_snc_excluded", (("provider", name),), "provider", True, (*sources, "snc-19-6")),),
        )
    if status.status != QUALIFIED:
        when = getattr(status, "expected", None)
        key = "gap_snc_in_progress" if status.status == "in-progress" else "gap_snc_unknown"
        return TestResult(
            "not-compliant", (Gap(key, (("provider", name),), "provider", False, sources, when),)
        )
    policy = column.policy
    if policy is None or PERIMETER_RULE not in policy.perimeter:
        return TestResult(
            "not-compliant",
            (Gap("gap_perimeter_unchecked", (), "platform-team", False, ("project-policies",)),),
        )
    outside = policy.perimeter[PERIMETER_RULE]
    if outside:
        return TestResult(
            "not-compliant",
            (
                Gap(
                    "gap_perimeter",
                    (("n", str(len(outside))),),
                    "platform-team",
                    False,
                    ("project-policies",),
                ),
            ),
        )
    # Qualified and every resource inside the recorded perimeter; the perimeter rows rest on the offer's
    # documentation, so the contract must confirm them (a condition, not a gap).
    condition = Gap("cond_perimeter_contract", (), "ministry", False, status.sources)
    return TestResult("compliant-under-conditions", (), (condition,))


def _activities(status: object) -> tuple[int, ...] | None:
    raw = getattr(status, "activities", None)
    if not isinstance(raw, list | tuple):
        return None
    out = []
    for item in raw:
        try:
            out.append(int(str(item).strip().split()[0].rstrip(".")))
        except (ValueError, IndexError):
            return None
    return tuple(out)


def hds_test(report: Report, column: Column) -> TestResult:
    """L.1111-8 CSP: an HDS certificate covering every activity the option asks of its provider."""
    needed = report.facts.decision.hds_activities.used.get(column.target)
    provider = _provider(report, column)
    status = provider.hds if provider else None
    name = short_name(provider, column.target)
    sources = (*(status.sources if status else ()), *report.facts.decision.hds_activities.sources)
    if needed is None:
        return TestResult("not-compliant", (Gap("gap_hds_scope_unknown", (), "ministry", False, sources),))
    listed = ", ".join(str(a) for a in needed)
    if status is None or status.status in LOST_HDS:
        # A certificate withdrawn, suspended or expired is final like a lost qualification: the host may
        # not hold health data (L.1111-8 CSP) and nothing dated says when a new one could be issued; the
        # answer stays "no" until a new certificate is recorded from the ANS list.
        lost = status is not None
        return TestResult(
            "not-compliant",
            (
                Gap(
                    "gap_hds_lost" if lost else "gap_hds_missing",
                    (("provider", name), ("activities", listed)),
                    "provider",
                    lost,
                    sources,
                ),
            ),
        )
    if status.status != CERTIFIED:
        when = getattr(status, "expected", None)
        return TestResult(
            "not-compliant",
            (
                Gap(
                    "gap_hds_missing",
                    (("provider", name), ("activities", listed)),
                    "provider",
                    False,
                    sources,
                    when,
                ),
            ),
        )
    covered = _activities(status)
    if covered is None:
        # Certified, but which activities the certificate covers is not recorded from the ANS list.
        return TestResult(
            "compliant-under-conditions",
            (),
            (
                Gap(
                    "cond_hds_activities",
                    (("provider", name), ("activities", listed)),
                    "ministry",
                    False,
                    sources,
                ),
            ),
        )
    missing = [a for a in needed if a not in covered]
    if missing:
        return TestResult(
            "not-compliant",
            (
                Gap(
                    "gap_hds_activities",
                    (("provider", name), ("activities", ", ".join(map(str, missing)))),
                    "provider",
                    False,
                    sources,
                ),
            ),
        )
    return TestResult("compliant", ())


def audit_gaps(column: Column) -> tuple[Gap, ...]:
    """The stack's own mandatory results: not audited, or mandatory findings, is "not yet"."""
    if column.policy is None:
        return (Gap("gap_not_audited", (), "platform-team", False, ("project-policies",)),)
    if not column.policy.passed:
        n = len(column.policy.failed)
        return (Gap("gap_audit", (("n", str(n)),), "platform-team", False, ("project-policies",)),)
    return ()


TESTS = {"secnumcloud": secnumcloud_test, "hds": hds_test}


def requirement_status(report: Report, column: Column, requirement: Requirement) -> TestResult:
    return TESTS[requirement.test](report, column)


def answer(report: Report, column: Column) -> Answer:
    """The option's answer: "no" when a gap is final, "not yet" when any gap remains, else "yes"."""
    tests: dict[str, TestResult] = {
        str(r.test): requirement_status(report, column, r) for r in report.facts.legal.requirements
    }
    gaps = [g for t in tests.values() for g in t.gaps]
    gaps += audit_gaps(column)
    if column.missing_stacks:
        gaps.append(Gap("gap_not_audited", (), "platform-team", False, ("project-preview",)))
    unique = tuple(dict.fromkeys(gaps))
    verdict: Verdict = "no" if any(g.final for g in unique) else ("not-yet" if unique else "yes")
    return Answer(column.key, verdict, unique, sensitive_because(report.facts), tests)


def answers(report: Report) -> dict[str, Answer]:
    return {c.key: answer(report, c) for c in report.columns}


RANK = {"yes": 0, "not-yet": 1, "no": 2}


def check_decision(report: Report, found: dict[str, Answer] | None = None) -> None:
    """Refuses a recommendation that contradicts the answers: an unknown option, recommending or falling
    back on an option answered "no", or recommending a "not yet" while another option is "yes"."""
    d = report.facts.decision.decision
    found = found if found is not None else answers(report)
    where = "data/facts/decision.yaml: decision"
    for field, option in (
        ("recommended.option", d.recommended.option),
        ("fallback.option", d.fallback.option),
    ):
        if option not in found:
            raise DecisionError(f"{where}.{field}: {option!r} is not an option (known: {', '.join(found)})")
        if found[option].verdict == "no":
            raise DecisionError(
                f"{where}.{field}: option {option} is answered 'no' (may not host the data); recommend an option answered 'yes' or 'not yet'"
            )
    if d.recommended.option == d.fallback.option:
        raise DecisionError(f"{where}.fallback.option: must differ from the recommended option")
    best = min(RANK[a.verdict] for a in found.values())
    if RANK[found[d.recommended.option].verdict] > best:
        better = [k for k, a in found.items() if RANK[a.verdict] == best]
        raise DecisionError(
            f"{where}.recommended.option: option {d.recommended.option} is answered "
            f"'{found[d.recommended.option].verdict}' while option(s) {', '.join(better)} are answered "
            f"'{found[better[0]].verdict}'"
        )
