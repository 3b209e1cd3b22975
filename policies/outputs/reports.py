# ruff: noqa: PLR0912, PLR0915 - table-like rule logic reads better whole
"""Report writers: JUnit XML, SARIF 2.1.0, findings.json and an HTML summary.

Every report shows the same findings, each traced to its rule and regulation; excepted findings
appear as such (SARIF suppressions, JUnit properties, an HTML table) with justification, owner and
expiry, so that no exception is ever invisible.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from policies.audit import AuditResult, Finding
from policies.regulations import CONTROLS, REGULATIONS
from policies.rules import Rule, all_rules
from tooling.cli import atomic_write_text, atomic_writer

TOOL_NAME = "sovereign-booking-policies"
TOOL_VERSION = "1.0.0"
TOOL_URI = "https://github.com/sovereign-booking/blueprint/blob/main/docs/policies.md"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: GitHub code scanning reads security-severity (0-10) to rank results.
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rules_of(results: Sequence[AuditResult]) -> list[Rule]:
    """Every rule judged or found inapplicable on some stack (SARIF describes both)."""
    wanted = {rule_id for result in results for rule_id in result.rules_evaluated}
    wanted |= {rule_id for result in results for rule_id in result.not_applicable}
    return [r for r in all_rules() if r.id in wanted]


def _considered(result: AuditResult) -> list[str]:
    """The rule ids a stack's report lists: judged or not applicable, in id order."""
    return sorted({*result.rules_evaluated, *result.not_applicable})


def junit_xml(results: Sequence[AuditResult]) -> str:
    """One testsuite per stack, one testcase per rule; a failed mandatory rule is a <failure>."""
    rules = {r.id: r for r in all_rules()}
    suites = ET.Element("testsuites", name=TOOL_NAME)
    total_tests = total_failures = total_skipped = 0
    for result in results:
        by_rule: dict[str, list[Finding]] = defaultdict(list)
        for finding in result.findings:
            by_rule[finding.rule_id].append(finding)
        suite = ET.SubElement(suites, "testsuite", name=f"policies.{result.stack}")
        failures = skipped = 0
        not_applicable = result.not_applicable
        for rule_id in _considered(result):
            rule = rules[rule_id]
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"policies.{result.stack}.{rule.topic}",
                name=f"{rule.id} {rule.title}",
            )
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="severity", value=rule.severity)
            ET.SubElement(properties, "property", name="enforcement", value=rule.enforcement)
            ET.SubElement(properties, "property", name="regulation", value=rule.regulation)
            if rule_id in not_applicable:
                # Never a pass: the rule had nothing it could judge here, and says why.
                skipped += 1
                ET.SubElement(case, "skipped", message=f"not applicable: {not_applicable[rule_id]}")
                continue
            outcome = result.outcome(rule_id)
            if outcome is not None:
                ET.SubElement(properties, "property", name="outcome", value=outcome.describe())
            findings = by_rule.get(rule_id, [])
            failed = [f for f in findings if f.status == "failed"]
            excepted = [f for f in findings if f.status == "excepted"]
            for f in excepted:
                ET.SubElement(
                    properties,
                    "property",
                    name="exception",
                    value=f"{f.resource_urn}: {f.justification} (owner {f.owner}, expires {f.expires})",
                )
            if failed and rule.mandatory:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=f"{len(failed)} resource(s) fail {rule.id}", type=rule.severity
                )
                failure.text = "\n".join(f"{f.resource_urn}: {f.message}" for f in failed) + (
                    f"\n\nRemediation: {rule.remediation}\nRegulation: {rule.regulation}"
                )
            elif failed:
                out = ET.SubElement(case, "system-out")
                out.text = "advisory: " + "\n".join(f"{f.resource_urn}: {f.message}" for f in failed)
            if excepted and not failed:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"excepted {f.resource_urn}: {f.justification}" for f in excepted)
        tests = len(_considered(result))
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
        total_tests += tests
        total_failures += failures
        total_skipped += skipped
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    suites.set("skipped", str(total_skipped))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    regulations = [REGULATIONS[r] for r in rule.regulations]
    help_text = (
        f"{rule.title}.\n\n{rule.rationale}\n\nRemediation: {rule.remediation}\n\nRegulation: "
        + "; ".join(f"{r.title}: {r.citation}" for r in regulations)
    )
    help_markdown = (
        f"**{rule.title}**\n\n{rule.rationale}\n\n**Remediation.** {rule.remediation}\n\n**Regulation.**\n\n"
        + "\n".join(f"- [{r.title}]({r.url}): {r.citation}" for r in regulations)
        + "\n\n**Controls.**\n\n"
        + "\n".join(f"- `{c}` [{CONTROLS[c].title}]({CONTROLS[c].source})" for c in rule.controls)
    )
    return {
        "id": rule.id,
        "name": _pascal_identifier(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale or rule.title},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": regulations[0].url if regulations else TOOL_URI,
        "defaultConfiguration": {"level": "error" if rule.mandatory else "warning"},
        "properties": {
            "tags": ["security", "compliance", rule.topic, *rule.regulations],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "regulations": [
                {"id": r.id, "title": r.title, "citation": r.citation, "url": r.url} for r in regulations
            ],
            "controls": [
                {"id": c, "title": CONTROLS[c].title, "source": CONTROLS[c].source} for c in rule.controls
            ],
        },
    }


def _pascal_identifier(title: str) -> str:
    """SARIF's rule friendly name: one Pascal-case identifier (§3.49.7), e.g. EveryDataStoreIsEncrypted."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(word.capitalize() for word in words)[:120]
    return name if name[:1].isalpha() else f"Rule{name}"


def _read_lines(uri: str, root: Path | None) -> list[str]:
    path = Path(uri) if root is None or Path(uri).is_absolute() else root / uri
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _line_index(lines: list[str]) -> dict[str, int]:
    """URN -> first line naming it, built once per input file (a per-finding scan is quadratic)."""
    index: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        for match in _URN_IN_LINE.finditer(line):
            index.setdefault(match.group(1), number)
    return index


_URN_IN_LINE = re.compile(r'"(urn:pulumi:[^"]+)"')


def _region_of(lines: list[str], index: dict[str, int], urn: str) -> dict[str, int] | None:
    """Where a finding sits in its input file (SARIF §3.30).

    A preview or export names the resource by URN: point at that line. A stack file does not (its
    resources come from the components), so the finding covers the whole file. No readable file,
    no physical location: a region-less one is what SARIF validators warn about (SARIF2017).
    """
    if not lines:
        return None
    number = index.get(urn)
    if number is not None:
        return {"startLine": number, "endLine": number}
    return {"startLine": 1, "endLine": len(lines)}


class _Artifacts:
    """Each stack's input file, read once, with its URN line index."""

    def __init__(self, artifact_for: dict[str, str] | None, root: Path | None) -> None:
        self.artifact_for = artifact_for or {}
        self._lines = {uri: _read_lines(uri, root) for uri in set(self.artifact_for.values())}
        self._index = {uri: _line_index(lines) for uri, lines in self._lines.items()}

    def location(self, stack: str, urn: str) -> dict[str, Any] | None:
        artifact = self.artifact_for.get(stack)
        if not artifact:
            return None
        region = _region_of(self._lines[artifact], self._index[artifact], urn)
        if region is None:
            return None
        return {"artifactLocation": {"uri": artifact}, "region": region}


def _sarif_result(
    result: AuditResult, finding: Finding, index: dict[str, int], artifacts: _Artifacts
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "fullyQualifiedName": finding.resource_urn,
                "name": finding.resource_urn.rsplit("::", 1)[-1],
                "kind": "resource",
            }
        ]
    }
    physical = artifacts.location(result.stack, finding.resource_urn)
    if physical:
        location["physicalLocation"] = physical
    entry: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": "error" if finding.mandatory else "warning",
        "message": {"text": f"{finding.resource_type} {finding.resource_urn}: {finding.message}"},
        "locations": [location],
        "partialFingerprints": {"resourceRule/v1": f"{finding.rule_id}|{finding.resource_urn}"},
        "properties": {"stack": result.stack, "resourceType": finding.resource_type},
    }
    if finding.status == "excepted":
        entry["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{finding.justification} (owner {finding.owner}, expires {finding.expires})",
                "properties": {"owner": finding.owner, "expires": finding.expires},
            }
        ]
    return entry


def _sarif_run_head(result: AuditResult, rules: list[Rule]) -> dict[str, Any]:
    return {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": TOOL_VERSION,
                "informationUri": TOOL_URI,
                "rules": [_sarif_rule(r) for r in rules],
            }
        },
        "automationDetails": {"id": f"policies/{result.stack}/"},
        "properties": {
            "stack": result.stack,
            "passed": result.passed,
            "resources": result.resources,
            # Results are findings only: a rule that does not apply has none, and is listed here with
            # its reason rather than reported as passing.
            "notApplicable": [
                {"ruleId": rule_id, "reason": reason}
                for rule_id, reason in sorted(result.not_applicable.items())
            ],
        },
    }


def sarif(
    results: Sequence[AuditResult], artifact_for: dict[str, str] | None = None, root: Path | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run per stack, one result per finding.

    artifact_for maps a stack to its input file (relative to root when root is given).
    """
    rules = _rules_of(results)
    index = {r.id: i for i, r in enumerate(rules)}
    artifacts = _Artifacts(artifact_for, root)
    runs = []
    for result in results:
        run = _sarif_run_head(result, rules)
        run["results"] = [_sarif_result(result, f, index, artifacts) for f in result.findings]
        runs.append(run)
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": runs}


def write_sarif(
    handle: IO[str],
    results: Sequence[AuditResult],
    artifact_for: dict[str, str] | None = None,
    root: Path | None = None,
) -> None:
    """The same log as :func:`sarif`, streamed one result at a time (memory bounded by one finding)."""
    rules = _rules_of(results)
    index = {r.id: i for i, r in enumerate(rules)}
    artifacts = _Artifacts(artifact_for, root)
    handle.write(f'{{"$schema": {json.dumps(SARIF_SCHEMA_URI)}, "version": "2.1.0", "runs": [')
    for number, result in enumerate(results):
        head = json.dumps(_sarif_run_head(result, rules), indent=1)
        handle.write(("," if number else "") + "\n" + head[:-2] + ',\n "results": [')
        for count, finding in enumerate(result.findings):
            entry = json.dumps(_sarif_result(result, finding, index, artifacts))
            handle.write(("," if count else "") + "\n  " + entry)
        handle.write("\n ]}")
    handle.write("\n]}\n")


def findings_json(results: Sequence[AuditResult]) -> str:
    document = {
        "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
        "passed": all(r.passed for r in results),
        "stacks": [r.to_dict() for r in results],
    }
    return json.dumps(document, indent=2) + "\n"


def write_findings_json(handle: IO[str], results: Sequence[AuditResult]) -> None:
    """The same document as :func:`findings_json`, streamed one finding at a time."""
    tool = json.dumps({"name": TOOL_NAME, "version": TOOL_VERSION})
    handle.write(f'{{"tool": {tool}, "passed": {json.dumps(all(r.passed for r in results))}, "stacks": [')
    for number, result in enumerate(results):
        head = result.to_dict(findings=False)
        unused = head.pop("unused_exceptions")
        handle.write(("," if number else "") + "\n" + json.dumps(head)[:-1] + ', "findings": [')
        for count, finding in enumerate(result.findings):
            handle.write(("," if count else "") + "\n  " + json.dumps(finding.to_dict()))
        handle.write(f'\n ], "unused_exceptions": {json.dumps(unused)}}}')
    handle.write("\n]}\n")


# Rule ids never wrap (.rid); long URNs and messages wrap anywhere, and a table wider than the window
# scrolls inside its own box (.wide), so the page itself never scrolls sideways (tests/policies browser test).
_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;max-width:75rem}
@media (max-width:800px){body{margin:.75rem}}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem;
overflow-wrap:anywhere}
th{background:#f1f1f1}.pass{color:#0a6b2d;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.excepted{color:#8a5a00;font-weight:bold}.na{color:#555;font-style:italic}
code{font-size:.85rem;word-break:break-all}
code.rid,.rid{white-space:nowrap;word-break:normal;overflow-wrap:normal}
"""


def _rid(rule_id: str) -> str:
    return f"<code class='rid'>{html.escape(rule_id)}</code>"


def _status(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def _rule_cell(result: AuditResult, rule_id: str, reasons: dict[str, int]) -> str:
    """One rule on one stack, from its outcome (the words every report uses)."""
    outcome = result.outcome(rule_id)
    if outcome is None:
        # Fail closed: a rule with no recorded outcome was not shown to pass.
        return '<span class="fail">no outcome</span>'
    if outcome.status == "not_applicable":
        number = reasons.setdefault(outcome.reason, len(reasons) + 1)
        return (
            f"<span class='na' title='{html.escape(outcome.reason, quote=True)}'>n/a</span> "
            f"<a href='#na-{number}'>({number})</a>"
        )
    if outcome.status == "fail":
        return f'<span class="fail">{outcome.failed} failed</span>' + (
            f", {outcome.excepted} excepted" if outcome.excepted else ""
        )
    if outcome.status == "excepted":
        return f'<span class="excepted">{outcome.excepted} excepted</span>'
    plural = "" if outcome.resources == 1 else "s"
    return f'<span class="pass">pass</span>, {outcome.resources} resource{plural}'


def index_html(results: Sequence[AuditResult], checkov: dict[str, str] | None = None) -> str:
    """A one-page summary: per stack, per rule, per regulation, and every exception."""
    esc = html.escape
    rules = _rules_of(results)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Policy audit</title><style>{_CSS}</style></head><body>",
        "<h1>Policy audit: sovereign booking platform</h1>",
        f"<p>Overall: {_status(all(r.passed for r in results))}. A stack fails when a mandatory rule fails; "
        "excepted findings are listed with their justification, owner and expiry.</p>",
        "<p>Each rule on each stack is <em>pass</em> (with the number of resources it looked at: "
        "<em>pass, 0 resources</em> means it found nothing to check), <em>failed</em>, <em>excepted</em> or "
        "<em>n/a</em> (not applicable, with the reason): a rule that cannot apply is never shown as a pass.</p>",
        "<h2>Stacks</h2><div class='wide'><table><tr><th>Stack</th><th>Result</th><th>Resources</th>"
        "<th>Rules pass</th><th>Rules fail</th><th>Rules excepted</th><th>Rules n/a</th>"
        "<th>Failed findings (mandatory)</th><th>Failed findings (advisory)</th><th>Excepted findings</th></tr>",
    ]
    for r in results:
        failed = r.failed
        counts = r.counts()
        parts.append(
            f"<tr><td>{esc(r.stack)}</td><td>{_status(r.passed)}</td><td>{r.resources}</td>"
            f"<td>{counts['pass']}</td><td>{counts['fail']}</td><td>{counts['excepted']}</td>"
            f"<td>{counts['not_applicable']}</td><td>{sum(f.mandatory for f in failed)}</td>"
            f"<td>{sum(not f.mandatory for f in failed)}</td><td>{len(r.excepted)}</td></tr>"
        )
    parts.append(
        "</table></div><h2>Rules</h2><div class='wide'><table><tr><th>Rule</th><th>Title</th>"
        "<th>Severity</th><th>Level</th>"
    )
    parts += [f"<th>{esc(r.stack)}</th>" for r in results]
    parts.append("</tr>")
    # Each distinct reason once, numbered under the table: the cells stay narrow, the reason is one click away.
    reasons: dict[str, int] = {}
    for rule in rules:
        parts.append(
            f"<tr><td>{_rid(rule.id)}</td><td>{esc(rule.title)}</td><td>{rule.severity}</td>"
            f"<td>{rule.enforcement}</td>"
        )
        for r in results:
            parts.append(f"<td>{_rule_cell(r, rule.id, reasons)}</td>")
        parts.append("</tr>")
    parts.append("</table></div>")
    if reasons:
        parts.append("<p>Why a rule is n/a (not applicable):</p><ol class='reasons'>")
        parts += [f"<li id='na-{n}'>{esc(text)}</li>" for text, n in reasons.items()]
        parts.append("</ol>")
    parts.append(
        "<h2>Regulations</h2><div class='wide'><table><tr><th>Regulation</th><th>Rules</th><th>Failed findings</th>"
    )
    parts.append("<th>Excepted findings</th></tr>")
    counts_failed: Counter[str] = Counter()
    counts_excepted: Counter[str] = Counter()
    by_id = {rule.id: rule for rule in rules}
    for r in results:
        for f in r.findings:
            for reg_id in by_id[f.rule_id].regulations:
                (counts_failed if f.status == "failed" else counts_excepted)[reg_id] += 1
    for reg in REGULATIONS.values():
        covering = [rule.id for rule in rules if reg.id in rule.regulations]
        if not covering:
            continue
        parts.append(
            f"<tr><td><a href='{esc(reg.url)}'>{esc(reg.title)}</a><br><small>{esc(reg.citation)}</small></td>"
            f"<td>{', '.join(_rid(c) for c in covering)}</td><td>{counts_failed[reg.id]}</td>"
            f"<td>{counts_excepted[reg.id]}</td></tr>"
        )
    parts.append(
        "</table></div><h2>Findings</h2><div class='wide'><table><tr><th>Stack</th><th>Rule</th><th>Status</th>"
    )
    parts.append("<th>Resource</th><th>Message</th><th>Remediation</th></tr>")
    any_finding = False
    for r in results:
        for f in r.findings:
            if f.status != "failed":
                continue
            any_finding = True
            parts.append(
                f"<tr><td>{esc(r.stack)}</td><td>{_rid(f.rule_id)}</td>"
                f"<td><span class='fail'>{'failed' if f.mandatory else 'advisory'}</span></td>"
                f"<td><code>{esc(f.resource_urn)}</code></td><td>{esc(f.message)}</td><td>{esc(f.remediation)}</td></tr>"
            )
    if not any_finding:
        parts.append("<tr><td colspan='6'>No failed finding.</td></tr>")
    parts.append(
        "</table></div><h2>Exceptions</h2><div class='wide'><table><tr><th>Stack</th><th>Rule</th><th>Resource</th>"
    )
    parts.append("<th>Justification</th><th>Owner</th><th>Expires</th></tr>")
    any_exception = False
    for r in results:
        for f in r.findings:
            if f.status == "excepted" or f.justification:
                any_exception = True
                state = "excepted" if f.status == "excepted" else "EXPIRED"
                parts.append(
                    f"<tr><td>{esc(r.stack)}</td><td>{_rid(f.rule_id)} <span class='excepted'>{state}</span>"
                    f"</td><td><code>{esc(f.resource_urn)}</code></td><td>{esc(f.justification or '')}</td>"
                    f"<td>{esc(f.owner or '')}</td><td>{esc(f.expires or '')}</td></tr>"
                )
    if not any_exception:
        parts.append("<tr><td colspan='6'>No exception applied.</td></tr>")
    parts.append("</table></div>")
    if checkov:
        parts.append("<h2>checkov cross-check</h2><ul>")
        parts += [f"<li>{esc(k)}: {esc(v)}</li>" for k, v in checkov.items()]
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_all(
    results: Sequence[AuditResult],
    out: Path,
    artifact_for: dict[str, str] | None = None,
    checkov: dict[str, str] | None = None,
    root: Path | None = None,
) -> dict[str, Path]:
    """Writes the four reports, each atomically; the two large ones are streamed."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "junit": out / "junit.xml",
        "sarif": out / "results.sarif",
        "findings": out / "findings.json",
        "html": out / "index.html",
    }
    atomic_write_text(paths["junit"], junit_xml(results))
    with atomic_writer(paths["sarif"]) as handle:
        write_sarif(handle, results, artifact_for, root)
    with atomic_writer(paths["findings"]) as handle:
        write_findings_json(handle, results)
    atomic_write_text(paths["html"], index_html(results, checkov))
    return paths
