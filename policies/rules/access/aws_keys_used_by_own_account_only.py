"""BK-ACCESS-001: only the stack's own account may use a KMS key protecting its data.

A key policy's Allow statement or a grant that names another account's principal, or everyone
("*"), lets identities outside the stack's account decrypt health data (data/facts/kms_access.yaml,
sourced). The same rule judges the desired state (the key's ``policy``, ``aws:kms/keyPolicy``,
``aws:kms/grant``) and a live read (GetKeyPolicy, ListGrants). Service principals are AWS services
acting for the account; which ones a key needs is judged elsewhere (its uses), not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from facts import kms_access
from facts.tokens import KMS_KEY
from policies.catalog import UNREAD_MARKER
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.rules._helpers import ARN, as_list, statements
from policies.settings import PolicyConfig

KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
GRANT = "aws:kms/grant:Grant"
#: Properties by which a key policy or grant names its key.
_KEY_NAMES = ("keyId", "arn", "id")


def _account_of_arn(value: Any) -> str | None:
    match = ARN.match(value) if isinstance(value, str) else None
    return match.group("account") or None if match else None


def _stack_accounts(stack: Stack) -> set[str]:
    """The stack's accounts: the provider's ``aws:allowedAccountIds``, else its keys' own ARNs."""
    allowed = stack.config.get("aws:allowedAccountIds")
    if isinstance(allowed, str) and allowed.startswith("["):
        import json

        try:
            allowed = json.loads(allowed)
        except ValueError:
            allowed = None
    accounts = {str(a) for a in as_list(allowed) if isinstance(a, str | int)}
    for key in stack.of_type(KMS_KEY):
        account = _account_of_arn(key.get("arn"))
        if account:
            accounts.add(account)
    return accounts


def _principals(statement: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, principal) of a statement; NotPrincipal in an Allow means almost everyone."""
    if "NotPrincipal" in statement:
        yield "NotPrincipal", "*"
    principal = statement.get("Principal")
    if principal == kms_access.everyone():
        yield "AWS", kms_access.everyone()
    elif isinstance(principal, dict):
        for kind, values in principal.items():
            for value in as_list(values):
                yield str(kind), str(value)


def _judge_principal(kind: str, principal: str, own: set[str], where: str) -> str | None:  # noqa: PLR0911 - one answer per principal form
    everyone = kms_access.everyone()
    if kind == "Service":
        return None  # an AWS service acting for the account (which services: the key's uses)
    if kind == "NotPrincipal":
        return f"{where}: an Allow with NotPrincipal lets everyone not listed use the key"
    if kind != "AWS":
        return f"{where}: a {kind} principal ({principal}) is not an identity of the stack's account"
    if principal == everyone:
        return f'{where}: principal "*": every identity of every AWS account may use the key'
    account = kms_access.account_of(principal)
    if account is None:
        return f"{where}: principal {principal!r} names no account, so it cannot be shown to be the stack's"
    if not own:
        return (
            f"{where}: principal {principal} of account {account}, and the stack's own account cannot be "
            "established (no key ARN, no aws:allowedAccountIds)"
        )
    if account not in own:
        return f"{where}: principal {principal} of account {account}, outside the stack's ({', '.join(sorted(own))})"
    return None


def _limited_to(statement: dict[str, Any], own: set[str]) -> bool:
    """Whether a condition the sourced facts accept limits the statement to the stack's accounts.

    data/facts/kms_access.yaml lists none today (no source read establishes one): "*" always fails.
    """
    accepted = kms_access.restricting_conditions()
    conditions = statement.get("Condition")
    if not accepted or not own or not isinstance(conditions, dict):
        return False
    equals = conditions.get("StringEquals")
    if not isinstance(equals, dict):
        return False
    return any(
        key in accepted and {str(v) for v in as_list(value)} <= own and as_list(value)
        for key, value in equals.items()
    )


def _policy_findings(policy: Any, own: set[str], what: str) -> Iterator[str]:
    if not isinstance(policy, str) or policy == UNREAD_MARKER or not is_known(policy):
        yield f"{what} is not known or could not be read: who may use the key cannot be established"
        return
    found = statements(policy)
    if not found:
        yield f"{what} has no statement this rule can read"
        return
    for index, statement in enumerate(found):
        if statement.get("Effect") != "Allow":
            continue
        where = f"{what} statement {statement.get('Sid') or index}"
        for kind, principal in _principals(statement):
            if principal == kms_access.everyone() and _limited_to(statement, own):
                continue
            problem = _judge_principal(kind, principal, own, where)
            if problem:
                yield problem


def _grant_findings(grant: Any, own: set[str], where: str) -> Iterator[str]:
    grantee = grant.get("granteePrincipal") if isinstance(grant, dict | Resource) else None
    if not isinstance(grantee, str) or not is_known(grantee) or not grantee:
        yield f"{where}: its grantee is not known, so it cannot be shown to be of the stack's account"
        return
    if kms_access.is_service_principal(grantee):
        return
    problem = _judge_principal("AWS", grantee, own, where)
    if problem:
        yield problem


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    accounts = _stack_accounts(stack)
    for key in stack.of_type(KMS_KEY):
        own_account = _account_of_arn(key.get("arn"))
        own = {own_account} if own_account else accounts
        problems: list[str] = []
        policy = key.get("policy")
        if policy is not None:  # absent: the default key policy, which names the key's own account
            problems += _policy_findings(policy, own, "key policy")
        for attached in stack.referrers(key, KEY_POLICY, "keyId", _KEY_NAMES):
            problems += _policy_findings(attached.get("policy"), own, f"key policy {attached.name}")
        grants = key.get("grants")
        if grants == UNREAD_MARKER:
            problems.append("its grants could not be read: who may use the key cannot be established")
        else:
            for grant in as_list(grants):
                problems += _grant_findings(grant, own, f"grant {grant.get('grantId') or '?'}")
        for grant in stack.referrers(key, GRANT, "keyId", _KEY_NAMES):
            problems += _grant_findings(
                {"granteePrincipal": grant.get("granteePrincipal")}, own, f"grant {grant.name}"
            )
        for problem in problems:
            yield Violation(problem, key)


RULE = Rule(
    id="BK-ACCESS-001",
    title="Only the stack's own account may use a key protecting its data",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II", "AWS-XKS"),
    remediation=(
        'Remove from the key policy every Allow statement whose principal is "*", uses NotPrincipal, or names '
        "another account; revoke grants to principals of other accounts (aws kms revoke-grant). Share data with "
        "another account by a reviewed copy, never by sharing the key."
    ),
    rationale=(
        "A key in the French HSM protects health data only if no one outside the stack's account can ask KMS to "
        "use it: a key policy or a grant naming another account, or everyone, hands them decryption."
    ),
    check=check,
    scope="stack",
)
