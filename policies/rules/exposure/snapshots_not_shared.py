"""BK-EXP-005: no snapshot is shared publicly or with another account."""

from __future__ import annotations

from collections.abc import Iterator

from policies.catalog import SNAPSHOT_PERMISSION_TYPES, SNAPSHOT_TYPES, UNREAD_MARKER
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for snapshot in stack.of_type(*SNAPSHOT_TYPES):
        shared = [str(v) for v in as_list(snapshot.get("sharedAccounts"))]
        if "all" in shared:
            yield Violation("shared publicly: anyone may restore or copy it (restore=all)", snapshot)
        elif UNREAD_MARKER in shared:
            yield Violation("its sharing could not be read, so it may be shared", snapshot)
        elif shared:
            yield Violation(f"shared with account(s) {', '.join(sorted(shared))}", snapshot)
    for permission in stack.of_type(*SNAPSHOT_PERMISSION_TYPES):
        yield Violation(
            f"snapshot {permission.get('snapshotId')} shared with account {permission.get('accountId')}",
            permission,
        )


RULE = Rule(
    id="BK-EXP-005",
    title="No snapshot is shared publicly or with another account",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II"),
    remediation=(
        "Remove the sharing (RDS: modify-db-snapshot-attribute --attribute-name restore --values-to-remove "
        "all; EBS: modify-snapshot-attribute --create-volume-permission Remove=[{Group=all}]); copies for "
        "recovery stay in the account and region, under the stack's keys."
    ),
    rationale="A shared snapshot is a full copy of the health data, readable outside the account's control.",
    check=check,
    scope="stack",
    providers=("aws",),
)
