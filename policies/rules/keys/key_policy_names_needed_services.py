"""BK-KEY-006: each KMS key's policy names exactly the AWS service principals its uses need, with the
condition keys AWS documents for them (data/facts/aws.yaml, key_uses).

A key's uses are read from the stack: every resource type the facts file lists as a consumer, whose
key property resolves to the key. A use whose service calls KMS as itself (Fargate, CloudWatch Logs,
CloudTrail) needs its statements; a use served through the caller's IAM permissions needs none, and a
service principal no use needs is a finding (a key policy grants no more than its uses need).
Under a preview where a reference cannot be pinned to one key, the use is required of at least one of
the candidate keys and tolerated on each of them. A live read that missed part of the account cannot
establish that a principal is unneeded (its user may be what was not read): extras are then not
judged, and BK-LIVE-004 reports what was not read (the audit is incomplete, exit 3).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from facts import aws as aws_facts
from facts.tokens import KMS_KEY
from policies.catalog import UNREAD_MARKER
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list
from policies.rules._keys.aws import resolve_kms_key
from policies.settings import PolicyConfig


@dataclass
class _Uses:
    #: Uses pinned to this key, by use name.
    certain: set[str] = field(default_factory=set)
    #: Uses that may be this key's (an ambiguous reference in a preview).
    possible: set[str] = field(default_factory=set)


def _uses_by_key(stack: Stack) -> tuple[dict[str, _Uses], list[tuple[str, tuple[Resource, ...]]]]:
    """Uses per key URN, and the ambiguous (use, candidate keys) pairs to satisfy on one of them."""
    uses: dict[str, _Uses] = {k.urn: _Uses() for k in stack.of_type(KMS_KEY)}
    ambiguous: list[tuple[str, tuple[Resource, ...]]] = []
    for name, use in aws_facts.key_uses().items():
        for consumer in use.consumers:
            for resource in stack.of_type(consumer.type):
                value = resource.get(*consumer.key)
                if value is None or value == "":
                    continue
                keys = tuple(k for k in resolve_kms_key(stack, resource, value).keys if k.type == KMS_KEY)
                if len(keys) == 1:
                    uses[keys[0].urn].certain.add(name)
                elif keys:
                    for key in keys:
                        uses[key.urn].possible.add(name)
                    ambiguous.append((name, keys))
    return uses, ambiguous


def _service_statements(policy: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for statement in as_list(policy.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        for service in as_list(services):
            found.setdefault(str(service), []).append(statement)
    return found


def _covers(statement: dict[str, Any], wanted: aws_facts.Statement) -> bool:
    actions = {str(a) for a in as_list(statement.get("Action"))}
    if not set(wanted.actions) <= actions:
        return False
    conditions = statement.get("Condition") or {}
    for operator, keys in wanted.conditions.items():
        present = conditions.get(operator)
        if not isinstance(present, dict):
            return False
        for key in keys:
            value = present.get(key)
            values = [str(v) for v in as_list(value)]
            # A documented key set to "*" (or nothing) scopes nothing.
            if not values or all(v in ("", "*") for v in values):
                return False
    return True


def _missing(key: Resource, name: str, statements: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What the key policy lacks for use ``name`` (empty when it has everything)."""
    use = aws_facts.key_uses()[name]
    if use.principal is None:
        return []
    principal = aws_facts.fill(use.principal, {"region": key.region or "?"})
    source = aws_facts.load().sources[use.source].url
    found = statements.get(principal, [])
    problems = []
    for wanted in use.statements:
        if not any(_covers(s, wanted) for s in found):
            conditions = "; ".join(f"{op} {', '.join(keys)}" for op, keys in wanted.conditions.items())
            problems.append(
                f"{principal} is not allowed {', '.join(wanted.actions)}"
                + (f" with {conditions}" if conditions else "")
                + f" ({name}: {source})"
            )
    return problems


def _principal(name: str, key: Resource) -> str | None:
    use = aws_facts.key_uses()[name]
    return None if use.principal is None else aws_facts.fill(use.principal, {"region": key.region or "?"})


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    uses, ambiguous = _uses_by_key(stack)
    statements_of: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key in stack.of_type(KMS_KEY):
        raw = key.get("policy")
        if not isinstance(raw, str) or raw == UNREAD_MARKER or not is_known(raw):
            yield Violation("its key policy cannot be read, so the services it admits are unknown", key)
            continue
        try:
            policy = json.loads(raw)
        except ValueError:
            yield Violation("its key policy is not JSON", key)
            continue
        statements = _service_statements(policy if isinstance(policy, dict) else {})
        statements_of[key.urn] = statements
        own = uses[key.urn]
        for name in sorted(own.certain):
            for problem in _missing(key, name, statements):
                yield Violation(problem, key)
        needed = {p for n in own.certain | own.possible if (p := _principal(n, key))}
        for extra in sorted(set(statements) - needed) if not stack.gaps else ():
            yield Violation(f"names {extra}, which none of the key's uses needs", key)
    for name, candidates in ambiguous:
        readable = [k for k in candidates if k.urn in statements_of]
        if readable and all(_missing(k, name, statements_of[k.urn]) for k in readable):
            shown = ", ".join(k.name for k in readable)
            yield Violation(
                f"none of the keys it may be ({shown}) allows what {name} needs: "
                + _missing(readable[0], name, statements_of[readable[0].urn])[0],
                readable[0],
            )


RULE = Rule(
    id="BK-KEY-006",
    title="Every KMS key's policy names exactly the AWS services its uses need, with AWS's condition keys",
    severity="high",
    mandatory=True,
    regulations=("AWS-XKS", "HDS-2024"),
    remediation=(
        "Build the key policy from data/facts/aws.yaml key_uses (components/aws/keys.py does): Fargate "
        "ephemeral storage needs fargate.amazonaws.com (GenerateDataKeyWithoutPlaintext, CreateGrant for "
        "Decrypt, DescribeKey) scoped by the cluster's encryption context; CloudWatch Logs needs "
        "logs.<region>.amazonaws.com scoped by kms:EncryptionContext:aws:logs:arn; CloudTrail needs "
        "cloudtrail.amazonaws.com scoped by aws:SourceArn. Remove service principals no use needs."
    ),
    rationale=(
        "A missing statement fails the first deployment (Fargate tasks never start, log groups are refused); "
        "an extra one lets a service use a key holding health data for something the stack does not do."
    ),
    check=check,
    scope="stack",
    providers=("aws",),
)
