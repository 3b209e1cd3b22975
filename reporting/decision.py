"""Legal verdicts (facts + policy rule results), the exit plan figures and the weighted matrix."""

from __future__ import annotations

from dataclasses import dataclass

from facts.tokens import GCP_SQL_INSTANCE
from reporting.facts import Cited, LegalRule, Text, VerdictCell
from reporting.model import Column, Report


@dataclass(frozen=True)
class RuleResult:
    """What the policy rules implementing a legal rule found on the option's stack."""

    status: str  # "passed" | "failed" | "not-run"
    rule_ids: tuple[str, ...]
    failures: int


@dataclass(frozen=True)
class Judgement:
    verdict: str
    cell: VerdictCell | None
    rule: RuleResult | None

    @property
    def overridden(self) -> bool:
        return self.cell is not None and self.verdict != self.cell.verdict


def judge(rule: LegalRule, column: Column) -> Judgement:
    """The data's verdict, tightened by the policy rules: a failed rule makes it not admissible; a stack
    that could not be checked makes an 'admissible' verdict conditional (fail closed)."""
    cell = rule.verdicts.get(column.target)
    verdict = cell.verdict if cell else "conditional"
    result: RuleResult | None = None
    if rule.policy_rules:
        ran = {
            i: column.policy.perimeter[i]
            for i in rule.policy_rules
            if column.policy and i in column.policy.perimeter
        }
        if not ran:
            result = RuleResult("not-run", rule.policy_rules, 0)
            if verdict == "admissible":
                verdict = "conditional"
        else:
            failed = [f for findings in ran.values() for f in findings]
            failing = tuple(sorted({i for i, findings in ran.items() if findings}))
            result = RuleResult("failed" if failed else "passed", failing or tuple(ran), len(failed))
            if failed:
                verdict = "not-admissible"
    return Judgement(verdict, cell, result)


@dataclass(frozen=True)
class ExitFigures:
    volume_gb: float | None
    hours: float | None
    egress: tuple[float, float] | None  # low (Data Act: no switching charge) .. high (at today's rate)
    currency: str


def exit_figures(report: Report, column: Column) -> ExitFigures:
    """Volume to move (database storage from the preview + retained documents), time at the assumed
    rate, and egress at the option's internet egress price (low 0: charges banned from 12 January 2027)."""
    a = report.assumptions
    if column.option is None:
        return ExitFigures(None, None, None, "")
    db = sum(
        float(s.get("inputs", {}).get(k, 0) or 0)
        for s in column.option.states
        for k in ("allocatedStorage", "volumeSizeInGb")
        if s["type"] in ("aws:rds/instance:Instance", "scaleway:databases/instance:Instance")
    ) + sum(
        float((s.get("inputs", {}).get("settings") or {}).get("diskSize", 0) or 0)
        for s in column.option.of_type(GCP_SQL_INSTANCE)
    )
    volume = db + a.appointments_per_month * a.document_share * a.document_kb * a.retention_months / (
        1024 * 1024
    )
    hours = volume * 8 * 1024 / a.exit_bandwidth_mbps / 3600
    egress_line = next(
        (
            line
            for line in report.facts.ownership.get(column.target, ())
            if line.quantity == "egress_gb" and line.unit_price is not None
        ),
        None,
    )
    if egress_line is None or egress_line.unit_price is None:
        return ExitFigures(volume, hours, None, "")
    return ExitFigures(
        volume, hours, (0.0, round(volume * egress_line.unit_price.high, 2)), egress_line.currency
    )


@dataclass(frozen=True)
class Score:
    value: float | None  # 0..1; None: left out (cost not comparable)
    basis: str


@dataclass(frozen=True)
class Matrix:
    criteria: list[tuple[str, Text, Text, float, float]]  # key, label, why, weight given, weight used
    scores: dict[str, dict[str, Score]]  # option key -> criterion key -> score
    totals: dict[str, float]
    notes: list[str]


def matrix(report: Report) -> Matrix:
    w = report.facts.weights
    rules = {r.id: r for r in report.facts.legal.rules}
    threats = {t.id: t for t in report.facts.threats}
    cost_ok = _costs_comparable(report)
    scores: dict[str, dict[str, Score]] = {c.key: {} for c in report.columns}
    notes: list[str] = []
    for column in report.columns:
        for criterion in w.criteria:
            values: list[float] = []
            spec = criterion.source
            for rule_id in spec.get("verdicts", []):
                values.append(w.verdict_scores[judge(rules[rule_id], column).verdict])  # type: ignore[index]
            for threat_id in spec.get("threats", []):
                cell = threats[threat_id].cells.get(column.target)
                values.append(w.status_scores[cell.status] if cell else 0.0)
            if spec.get("exit"):
                plan = report.facts.exit.targets.get(column.target)
                values.append(
                    0.0
                    if plan is None
                    else (plan.standard_formats + plan.swipo_declared + (not plan.extra_custody_to_unwind))
                    / 3
                )
            if spec.get("cost"):
                scores[column.key][criterion.key] = Score(cost_ok.get(column.key), "cost")
                continue
            scores[column.key][criterion.key] = Score(sum(values) / len(values) if values else 0.0, "data")
    used = {c.key: c.weight for c in w.criteria}
    if not cost_ok:
        used = {k: (0.0 if k == "cost" else v) for k, v in used.items()}
        notes.append("cost-withheld")
    total_weight = sum(used.values()) or 1.0
    totals = {
        key: round(
            100 * sum((s.value or 0.0) * used[crit] for crit, s in row.items()) / total_weight,
            1,
        )
        for key, row in scores.items()
    }
    criteria = [
        (c.key, c.label, c.why, c.weight, round(100 * used[c.key] / total_weight, 1)) for c in w.criteria
    ]
    return Matrix(criteria, scores, totals, notes)


def _costs_comparable(report: Report) -> dict[str, float]:
    """Cost scores (cheapest 1, others by ratio of high ends) only when every option has a complete total
    in one and the same single currency; otherwise empty."""
    highs: dict[str, float] = {}
    currencies = set()
    for column in report.columns:
        totals = column.cost.totals()
        if not column.cost.complete or len(totals) != 1:
            return {}
        ((currency, (_low, high)),) = totals.items()
        currencies.add(currency)
        highs[column.key] = high
    if len(currencies) != 1 or not highs:
        return {}
    cheapest = min(highs.values()) or 1.0
    return {k: round(cheapest / v, 3) if v else 1.0 for k, v in highs.items()}


def citation_of(statement: Cited) -> tuple[str, ...]:
    return statement.sources
