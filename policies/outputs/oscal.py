"""OSCAL (1.x) documents for auditors, validated by compliance-trestle's typed models before writing.

- ``catalog.json``: the requirements the rules implement (policies/regulations.py ``CONTROLS``):
  ids, titles and sources only, grouped as HDS, SecNumCloud, CNIL and guidance.
- ``profiles/<option>.json``: one profile per hosting option, selecting the controls it is judged by.
- ``component-definition.json``: each blueprint component, the controls it implements and by which
  rule (``RULE_CONTROLS``).
- ``assessment-results.json``: for one audit run, one result per stack: an observation per finding
  (native rules and checkov), a finding per reviewed control (satisfied or not), and every exception
  as a risk whose status is ``deviation-approved``, with its owner and expiry as the deadline.

Documents are built as plain JSON and parsed by trestle's pydantic models, so a document that does
not match the OSCAL schema is never written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trestle.oscal import OSCAL_VERSION
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.component import ComponentDefinition
from trestle.oscal.profile import Profile

from policies.regulations import CONTROLS
from policies.rules import Rule, all_rules

DOCUMENT_VERSION = "1.0.0"
#: Fixed namespace: the same control, rule or stack gets the same UUID in every run.
_NAMESPACE = uuid.UUID("6f1c3f0e-5b7a-4d0e-9a51-0d8c1b2f7a10")
PROPERTY_NS = "https://github.com/sovereign-booking/blueprint/ns/oscal"
GROUP_TITLES = {
    "hds": "HDS certification referential v2 (2024)",
    "secnumcloud": "SecNumCloud 3.2 (ANSSI)",
    "law": "French law on hosting sensitive State data",
    "cnil": "CNIL and EDPB guidance on health data and transfers",
    "guidance": "Provider and national technical guidance",
}


@dataclass(frozen=True)
class HostingOption:
    id: str
    title: str
    #: Values of the stacks' ``booking:target`` judged by this profile.
    targets: tuple[str, ...]
    groups: tuple[str, ...]
    #: Component folders (components/<folder>) that make up the option.
    components: tuple[str, ...]


OPTIONS = (
    HostingOption("option-a-aws-xks", "Option A: AWS eu-west-3 with a French external key store",
                  ("aws", "keystore"), ("hds", "cnil", "guidance"), ("aws", "keystore")),
    HostingOption("option-b-scaleway", "Option B: Scaleway fr-par", ("scaleway",), ("hds", "cnil", "guidance"),
                  ("scaleway",)),
    HostingOption("option-c-secnumcloud", "Option C: a SecNumCloud-qualified offer", ("s3ns", "secnumcloud"),
                  ("hds", "secnumcloud", "law", "cnil", "guidance"), ("s3ns",)),
)  # fmt: skip
#: The components, by folder: which rules judge what they create (None: every rule).
COMPONENTS: dict[str, tuple[str, str, frozenset[str] | None]] = {
    "aws": ("AwsBookingPlatform", "The booking platform on AWS eu-west-3 (components/aws)",
            frozenset({"aws"})),
    "keystore": ("KeystoreHost", "The French XKS proxy host on Scaleway instances (components/keystore)",
                 frozenset({"keystore", "scaleway"})),
    "scaleway": ("ScalewayBookingPlatform", "The booking platform on Scaleway fr-par (components/scaleway)",
                 frozenset({"scaleway"})),
    "s3ns": ("S3nsBookingPlatform", "The booking platform on the SecNumCloud-qualified offer (components/s3ns)",
             frozenset({"gcp", "s3ns"})),
}  # fmt: skip
#: Rules that only judge one provider's resources (the rest judge every stack).
RULE_SCOPE: dict[str, frozenset[str]] = {
    **{r: frozenset({"aws"}) for r in ("BK-ENC-001", "BK-KEY-001", "BK-KEY-002", "BK-LIVE-001", "BK-LIVE-002",
                                      "BK-LIVE-003")},
    **{r: frozenset({"scaleway"}) for r in ("BK-ENC-002", "BK-ENC-004", "BK-KEY-003")},
    "BK-KEY-004": frozenset({"keystore"}),
}  # fmt: skip


class OscalError(ValueError):
    """A generated document does not validate against the OSCAL models (a bug, never user input)."""


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _metadata(title: str, now: dt.datetime, remarks: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"title": title, "last-modified": now.isoformat(), "version": DOCUMENT_VERSION,
                             "oscal-version": OSCAL_VERSION}  # fmt: skip
    if remarks:
        found["remarks"] = remarks
    return found


def _validated(model: Any, key: str, document: dict[str, Any]) -> dict[str, Any]:
    try:
        model.model_validate(document[key])
    except ValueError as error:
        raise OscalError(f"{key}: not valid OSCAL: {error}") from error
    return document


def catalog(now: dt.datetime) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for control in CONTROLS.values():
        groups[control.group].append(
            {
                "id": control.id,
                "title": control.title,
                "links": [{"href": control.source, "rel": "reference"}],
            }
        )
    return _validated(Catalog, "catalog", {"catalog": {
        "uuid": _uuid("catalog"),
        "metadata": _metadata("Requirements implemented by the sovereign booking blueprint's rules", now,
                              "Ids, titles and sources only: read each requirement in its source."),
        "groups": [{"id": g, "title": GROUP_TITLES[g], "controls": controls} for g, controls in groups.items()],
    }})  # fmt: skip


def profile(option: HostingOption, now: dt.datetime) -> dict[str, Any]:
    selected = [c.id for c in CONTROLS.values() if c.group in option.groups]
    return _validated(Profile, "profile", {"profile": {
        "uuid": _uuid("profile", option.id),
        "metadata": _metadata(f"{option.title}: controls judged", now),
        "imports": [{"href": "../catalog.json", "include-controls": [{"with-ids": selected}]}],
    }})  # fmt: skip


def _applies(rule: Rule, scope: frozenset[str] | None) -> bool:
    wanted = RULE_SCOPE.get(rule.id)
    return scope is None or wanted is None or bool(wanted & scope)


def component_definition(now: dt.datetime, root: Path, rules: Sequence[Rule] | None = None) -> dict[str, Any]:
    rules = list(rules if rules is not None else all_rules())
    components = []
    for folder, (title, description, scope) in COMPONENTS.items():
        if not (root / "components" / folder).is_dir():
            continue
        by_control: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            if _applies(rule, scope):
                for control in rule.controls:
                    by_control[control].append(rule)
        requirements = [
            {
                "uuid": _uuid("requirement", folder, control),
                "control-id": control,
                "description": "Checked by " + "; ".join(f"{r.id} ({r.title})" for r in judged),
                "props": [{"name": "rule", "ns": PROPERTY_NS, "value": r.id} for r in judged],
            }
            for control, judged in sorted(by_control.items())
        ]
        components.append({
            "uuid": _uuid("component", folder), "type": "software", "title": title, "description": description,
            "control-implementations": [{"uuid": _uuid("implementation", folder), "source": "catalog.json",
                                         "description": f"Controls {title} implements, each with the rules "
                                                        "that check it at every enforcement point.",
                                         "implemented-requirements": requirements}],
        })  # fmt: skip
    return _validated(ComponentDefinition, "component-definition", {"component-definition": {
        "uuid": _uuid("component-definition"),
        "metadata": _metadata("Sovereign booking blueprint components", now),
        "components": components,
    }})  # fmt: skip


@dataclass(frozen=True)
class Observed:
    """One finding of either engine, as OSCAL sees it."""

    stack: str
    source: str  # "rules" or "checkov"
    check: str  # rule id or checkov id
    title: str
    resource: str
    status: str  # "failed", "excepted" or "untriaged"
    message: str
    justification: str | None = None
    owner: str | None = None
    expires: str | None = None


def assessment_results(
    stacks: Sequence[tuple[str, str, Sequence[str]]],
    observed: Iterable[Observed],
    started: dt.datetime,
    ended: dt.datetime,
    run_id: str,
) -> dict[str, Any]:
    """``stacks`` is (name, target, rule ids evaluated) per stack."""
    by_stack: dict[str, list[Observed]] = defaultdict(list)
    for item in observed:
        by_stack[item.stack].append(item)
    rules = {r.id: r for r in all_rules()}
    results = []
    for name, target, evaluated in stacks:
        observations, risks = [], []
        failing: dict[str, list[str]] = defaultdict(list)
        excepted: dict[str, list[str]] = defaultdict(list)
        for index, item in enumerate(by_stack.get(name, [])):
            key = f"{run_id}/{name}/{index}"
            observation = _uuid("observation", key)
            observations.append(_observation(observation, item, ended))
            controls = rules[item.check].controls if item.source == "rules" and item.check in rules else ()
            if item.status == "excepted":
                risk = _uuid("risk", key)
                risks.append(_risk(risk, observation, item))
                for control in controls:
                    excepted[control].append(risk)
            else:
                for control in controls:
                    failing[control].append(observation)
        reviewed = sorted({c for rule_id in evaluated if rule_id in rules for c in rules[rule_id].controls})
        findings = [_finding(run_id, name, c, failing=failing.get(c, []), risks=excepted.get(c, []), rules=rules,
                             evaluated=evaluated)
                    for c in reviewed]  # fmt: skip
        option = next((o.title for o in OPTIONS if target in o.targets), "no hosting option")
        result: dict[str, Any] = {
            "uuid": _uuid("result", run_id, name), "title": f"Stack {name}",
            "description": f"Policy audit of stack {name} ({option}) by the project's rules and checkov.",
            "start": started.isoformat(), "end": ended.isoformat(),
            "reviewed-controls": {"control-selections": [{"include-controls": [{"control-id": c} for c in reviewed]}]}
            if reviewed else {"control-selections": [{"include-all": {}}]},
            "findings": findings,
        }  # fmt: skip
        if observations:
            result["observations"] = observations
        if risks:
            result["risks"] = risks
        if not findings:
            del result["findings"]
        results.append(result)
    return _validated(AssessmentResults, "assessment-results", {"assessment-results": {
        "uuid": _uuid("assessment-results", run_id),
        "metadata": _metadata("Sovereign booking blueprint: policy audit results", ended,
                              "No assessment plan is generated: import-ap names the component definition "
                              "that states what is assessed and how."),
        "import-ap": {"href": "component-definition.json"},
        "results": results,
    }})  # fmt: skip


def _observation(uid: str, item: Observed, collected: dt.datetime) -> dict[str, Any]:
    props = [{"name": "check", "ns": PROPERTY_NS, "value": item.check},
             {"name": "engine", "ns": PROPERTY_NS, "value": item.source},
             {"name": "status", "ns": PROPERTY_NS, "value": item.status}]  # fmt: skip
    return {
        "uuid": uid, "title": f"{item.check} {item.title}"[:500], "description": item.message or item.title,
        "props": props, "methods": ["TEST"], "types": ["finding"], "collected": collected.isoformat(),
        "subjects": [{"subject-uuid": _uuid("subject", item.resource), "type": "resource", "title": item.resource,
                      "props": [{"name": "resource-id", "value": item.resource}]}],
    }  # fmt: skip


def _risk(uid: str, observation: str, item: Observed) -> dict[str, Any]:
    risk: dict[str, Any] = {
        "uuid": uid, "title": f"Accepted deviation from {item.check} on {item.resource.rsplit('::', 1)[-1]}",
        "description": item.justification or "", "statement": f"{item.check}: {item.message or item.title}",
        "status": "deviation-approved",
        "props": [{"name": "owner", "ns": PROPERTY_NS, "value": item.owner or "unknown"},
                  {"name": "register", "ns": PROPERTY_NS, "value": "policies/exceptions.yaml"}],
        "related-observations": [{"observation-uuid": observation}],
    }  # fmt: skip
    if item.expires:
        risk["deadline"] = dt.datetime.combine(
            dt.date.fromisoformat(item.expires), dt.time(23, 59, 59), dt.UTC
        ).isoformat()
    return risk


def _finding(
    run_id: str,
    stack: str,
    control: str,
    *,
    failing: list[str],
    risks: list[str],
    rules: dict[str, Rule],
    evaluated: Sequence[str],
) -> dict[str, Any]:
    by = sorted(r for r in evaluated if r in rules and control in rules[r].controls)
    state = "not-satisfied" if failing else "satisfied"
    reason = "fail" if failing else "pass"
    finding: dict[str, Any] = {
        "uuid": _uuid("finding", run_id, stack, control), "title": f"{control}: {CONTROLS[control].title}"[:500],
        "description": f"Judged by {', '.join(by)}: {len(failing)} failing resource(s), {len(risks)} accepted "
                       "deviation(s).",
        "target": {"type": "objective-id", "target-id": control, "status": {"state": state, "reason": reason}},
    }  # fmt: skip
    if failing:
        finding["related-observations"] = [{"observation-uuid": o} for o in failing]
    if risks:
        finding["related-risks"] = [{"risk-uuid": r} for r in risks]
    return finding


def write_static(out: Path, root: Path, now: dt.datetime | None = None) -> list[Path]:
    """Catalog, one profile per hosting option and the component definition, under out/."""
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    (out / "profiles").mkdir(parents=True, exist_ok=True)
    documents = {
        out / "catalog.json": catalog(now),
        out / "component-definition.json": component_definition(now, root),
    }
    documents |= {out / "profiles" / f"{o.id}.json": profile(o, now) for o in OPTIONS}
    for path, document in documents.items():
        write_json(path, document)
    return list(documents)


def write_json(path: Path, document: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(partial, path)
