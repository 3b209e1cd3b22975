"""The exit plan figures and the weighted decision matrix.

The matrix has one 0-1 scale and one derivation per criterion; each fact feeds one criterion only, and
each score carries the facts it was computed from (so a test can check that a criterion equal for every
option rests on equal facts). The legal requirements are a gate, not a criterion: an option answered
"no" (reporting/answer.py) is not eligible, and its score is shown apart, never ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

from facts.s3ns import EXTERNAL_VPC
from facts.tokens import CUSTOM_KEY_STORE, GCP_KMS_KEY, GCP_SQL_INSTANCE
from reporting.analysis import Option
from reporting.answer import Answer, answers
from reporting.facts import Cited, Text
from reporting.model import Column, Report


@dataclass(frozen=True)
class ExitFigures:
    volume_gb: float | None
    hours: float | None
    egress: tuple[float, float] | None  # low (Data Act: no switching charge) .. high (at today's rate)
    currency: str
    #: The sources of the egress rate used (the option's own egress line in data/prices/ownership.yaml).
    sources: tuple[str, ...] = ()


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
        volume,
        hours,
        (0.0, round(volume * egress_line.unit_price.high, 2)),
        egress_line.currency,
        egress_line.sources,
    )


@dataclass(frozen=True)
class Score:
    value: float | None  # 0..1; None: left out (cost not comparable)
    facts: tuple[object, ...]  # what the score was computed from


@dataclass(frozen=True)
class Matrix:
    criteria: list[tuple[str, Text, Text, float, float]]  # key, label, why, weight given, weight used
    scores: dict[str, dict[str, Score]]  # option key -> criterion key -> score
    totals: dict[str, float]  # 0..100
    eligible: dict[str, bool]  # the legal gate: False when the option is answered "no"
    ranking: list[str]  # eligible options, best first
    notes: list[str]


#: Key protection levels of the S3NS stack (booking:keyProtectionLevel) whose key material stays with
#: the customer, outside the provider (Cloud EKM through a VPC); SOFTWARE keys are the provider's.
CUSTOMER_HELD_LEVELS = frozenset({EXTERNAL_VPC, "EXTERNAL"})


def key_holder(option: Option | None) -> str:
    """Who holds the key material: the customer's HSM (an XKS key store, or S3NS keys under an external
    protection level) or the provider's key service; unknown (no preview) counts as the provider."""
    if option is None:
        return "unknown"
    if any(
        (s.get("inputs") or {}).get("customKeyStoreType") == "EXTERNAL_KEY_STORE"
        for s in option.of_type(CUSTOM_KEY_STORE)
    ):
        return "customer-hsm"
    if option.config.get("booking:keyProtectionLevel", "").upper() in CUSTOMER_HELD_LEVELS:
        return "customer-hsm"
    levels = {
        str(((s.get("inputs") or {}).get("versionTemplate") or {}).get("protectionLevel", "")).upper()
        for s in option.of_type(GCP_KMS_KEY)
    }
    # Every key of the stack external (Cloud EKM): the material is the customer's.
    if levels and levels <= CUSTOMER_HELD_LEVELS:
        return "customer-hsm"
    return "provider"


def custody_facts(column: Column) -> tuple[str, str, int, int]:
    """(key holder, who can cut access, data stores under a key of the stack, data stores in all)."""
    holder = key_holder(column.option)
    cutter = (
        "customer" if holder == "customer-hsm" else ("unknown" if holder == "unknown" else "provider-api")
    )
    if column.custody is None:
        return holder, cutter, 0, 0
    keyed = {store for key in column.custody.keys for store in key.protects if "Container" not in store}
    return holder, cutter, len(keyed), len(keyed) + len(column.custody.unkeyed)


def custody_score(facts: tuple[str, str, int, int]) -> float:
    holder, cutter, keyed, total = facts
    return round(
        (
            (1.0 if holder == "customer-hsm" else 0.0)
            + {"customer": 1.0, "provider-api": 0.5}.get(cutter, 0.0)
            + (keyed / total if total else 0.0)
        )
        / 3,
        3,
    )


def request_path(column: Column) -> tuple[str, ...]:
    """The operators every request that decrypts depends on, read from the stack's own resources (not
    from who holds the key material, which is custody's fact): the platform's provider; for an external
    key store reached through a proxy (XKS custom key store with a proxy endpoint), the host of that
    proxy (the companion stacks) and the key custodian's HSM; for keys whose backend is a Cloud EKM
    connection, the ministry's external key manager."""
    operators = [column.facts.provider]
    option = column.option
    if option is None:
        return tuple(operators)
    if any((s.get("inputs") or {}).get("xksProxyUriEndpoint") for s in option.of_type(CUSTOM_KEY_STORE)):
        hosts = [f"{companion} host" for companion in column.definition.companion_stacks]
        operators += hosts or ["key store proxy host"]
        operators.append("key custodian HSM")
    if any(
        "/ekmConnections/" in str((s.get("inputs") or {}).get("cryptoKeyBackend") or "")
        for s in option.of_type(GCP_KMS_KEY)
    ):
        operators.append("external key manager")
    return tuple(operators)


def availability_facts(column: Column) -> tuple[tuple[str, ...], str]:
    """(operators in the request path, key-store failover: n/a | measured-ok | measured-failed | unmeasured)."""
    operators = request_path(column)
    if len(operators) == 1:
        return operators, "n/a"
    measured = column.facts.keystore_failover
    if measured is None:
        return operators, "unmeasured"
    ok = measured.failed_after_kill == 0 and measured.over_kms_timeout == 0
    return operators, "measured-ok" if ok else "measured-failed"


def availability_score(facts: tuple[tuple[str, ...], str]) -> float:
    operators, failover = facts
    path = 1.0 / len(operators)
    if failover == "n/a":
        return round(path, 3)
    return round((path + {"measured-ok": 1.0, "measured-failed": 0.5}.get(failover, 0.0)) / 2, 3)


def matrix(report: Report, found: dict[str, Answer] | None = None) -> Matrix:
    w = report.facts.weights
    found = found if found is not None else answers(report)
    laws = report.facts.legal.exposures
    cost_ok = _costs_comparable(report)
    scores: dict[str, dict[str, Score]] = {c.key: {} for c in report.columns}
    notes: list[str] = []
    for column in report.columns:
        row = scores[column.key]
        for criterion in w.criteria:
            if criterion.key == "jurisdiction":
                statuses = tuple(
                    law.cells[column.target].status if column.target in law.cells else "exposed"
                    for law in laws
                )
                value = sum(w.exposure_scores[s] for s in statuses) / len(statuses)
                row["jurisdiction"] = Score(round(value, 3), statuses)
            elif criterion.key == "custody":
                facts = custody_facts(column)
                row["custody"] = Score(custody_score(facts), facts)
            elif criterion.key == "availability":
                avail = availability_facts(column)
                row["availability"] = Score(availability_score(avail), avail)
            elif criterion.key == "exit":
                plan = report.facts.exit.targets.get(column.target)
                exit_facts = (
                    ()
                    if plan is None
                    else (plan.standard_formats, plan.swipo_declared, not plan.extra_custody_to_unwind)
                )
                value = sum(exit_facts) / 3 if exit_facts else 0.0
                row["exit"] = Score(round(value, 3), exit_facts)
            else:
                row["cost"] = Score(cost_ok.get(column.key), (cost_ok.get(column.key),))
    used: dict[str, float] = {str(c.key): c.weight for c in w.criteria}
    if not cost_ok:
        used = {k: (0.0 if k == "cost" else v) for k, v in used.items()}
        notes.append("cost-withheld")
    total_weight = sum(used.values()) or 1.0
    totals = {
        key: round(100 * sum((s.value or 0.0) * used[crit] for crit, s in row.items()) / total_weight, 1)
        for key, row in scores.items()
    }
    eligible = {c.key: found[c.key].verdict != "no" for c in report.columns}
    ranking = sorted((k for k, ok in eligible.items() if ok), key=lambda k: -totals[k])
    if not any(a.verdict == "yes" for a in found.values()):
        notes.append("none-yes")
    criteria = [
        (str(c.key), c.label, c.why, c.weight, round(100 * used[c.key] / total_weight, 1)) for c in w.criteria
    ]
    return Matrix(criteria, scores, totals, eligible, ranking, notes)


def _costs_comparable(report: Report) -> dict[str, float]:
    """Cost scores (cheapest 1, others by ratio of high ends) only when every option has a complete
    total in euros on the common scope; otherwise empty (cost left out)."""
    highs: dict[str, float] = {}
    for column in report.columns:
        total = column.cost.in_eur(report.facts.exchange_rates)
        if not total.complete:
            return {}
        highs[column.key] = total.high
    if not highs:
        return {}
    cheapest = min(highs.values()) or 1.0
    return {k: round(cheapest / v, 3) if v else 1.0 for k, v in highs.items()}


def citation_of(statement: Cited) -> tuple[str, ...]:
    return statement.sources
