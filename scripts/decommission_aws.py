"""Decommissions an AWS option's external key store, in the only order AWS and the data allow.

`pulumi destroy` keeps the KMS keys, the custom key store and the backup vault (retainOnDelete): the
final snapshot and the backups are encrypted under those keys, and a deleted XKS key can never be
recreated. Ending them is this procedure (data/facts/aws.yaml, key_store_deletion):

  status            read-only: the store's state, its keys and the next allowed step
  disconnect        1. DisconnectCustomKeyStore: AWS can no longer use any key of the store
                       (reversible: ConnectCustomKeyStore); refused while a key is still Enabled and
                       --keys-in-use-ok is not given
  schedule-deletion 2. ScheduleKeyDeletion of every key of the store; refused unless the store is
                       DISCONNECTED and --confirm names the store (irreversible after the window)
  delete-store      3. DeleteCustomKeyStore; refused while any key of the store exists (pending
                       deletion included: the date it may run is printed) or the store is not DISCONNECTED

Each step re-reads AWS and refuses (exit 1, one line saying what is missing) when its precondition
does not hold, so the steps cannot run out of order. The external keys stay in the HSM: deleting them
is the key custodian's act, after this.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from facts import aws as aws_facts
from tooling.cli import BadInputError, Exit, Parser, run

PROG = "decommission_aws"


class Refused(Exception):  # noqa: N818 - a refusal, not an error
    """A step's precondition does not hold (exit 1); the message says which and what to do first."""


class Incomplete(Exception):  # noqa: N818
    """AWS could not be read (credentials, permissions, network): exit 3."""


@dataclass(frozen=True)
class Key:
    key_id: str
    state: str
    deletion_date: str = ""


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    state: str
    keys: tuple[Key, ...]


def read_store(kms: Any, store_id: str) -> Store:
    """The store and every KMS key in it (ListKeys then DescribeKey, as KMS offers no per-store list)."""
    try:
        found = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"]
    except kms.exceptions.CustomKeyStoreNotFoundException:
        found = []
    if not found:
        raise Refused(f"--store: custom key store {store_id} not found (already deleted?)")
    entry = found[0]
    keys = []
    for page in kms.get_paginator("list_keys").paginate():
        for listed in page["Keys"]:
            metadata = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
            if metadata.get("CustomKeyStoreId") == store_id:
                date = metadata.get("DeletionDate")
                keys.append(Key(metadata["KeyId"], metadata["KeyState"], date.isoformat() if date else ""))
    return Store(store_id, entry.get("CustomKeyStoreName", ""), entry["ConnectionState"], tuple(keys))


def next_step(store: Store) -> str:
    if store.state != "DISCONNECTED":
        return "disconnect"
    if any(k.state not in ("PendingDeletion",) for k in store.keys):
        return "schedule-deletion"
    if store.keys:
        return "wait (keys pending deletion until " + max(k.deletion_date for k in store.keys) + ")"
    return "delete-store"


def status(kms: Any, store_id: str) -> dict[str, Any]:
    store = read_store(kms, store_id)
    return {
        "store": store.store_id,
        "name": store.name,
        "connectionState": store.state,
        "keys": [{"keyId": k.key_id, "state": k.state, "deletionDate": k.deletion_date} for k in store.keys],
        "next": next_step(store),
    }


def disconnect(kms: Any, store_id: str, *, keys_in_use_ok: bool) -> dict[str, Any]:
    store = read_store(kms, store_id)
    if store.state == "DISCONNECTED":
        raise Refused(f"store {store_id} is already DISCONNECTED; next: {next_step(store)}")
    enabled = [k.key_id for k in store.keys if k.state == "Enabled"]
    if enabled and not keys_in_use_ok:
        raise Refused(
            f"{len(enabled)} key(s) of store {store_id} are Enabled: disconnecting makes every resource "
            "they protect unreadable (the platform stops). Destroy the stack first, or pass --keys-in-use-ok"
        )
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    return {"store": store_id, "step": "disconnect", "result": "DisconnectCustomKeyStore sent"}


def schedule_deletion(kms: Any, store_id: str, *, confirm: str, window_days: int) -> dict[str, Any]:
    window = aws_facts.load().key_store_deletion.schedule_window_days
    if not window.min <= window_days <= window.max:
        raise BadInputError(f"--window-days: must be {window.min} to {window.max} (got {window_days})")
    store = read_store(kms, store_id)
    if confirm != store.name:
        raise BadInputError(
            f"--confirm: must be the store's name {store.name!r} (scheduling key deletion cannot be undone "
            "after the window)"
        )
    if store.state != "DISCONNECTED":
        raise Refused(f"store {store_id} is {store.state}: run `disconnect` first (step 1)")
    scheduled = []
    for key in store.keys:
        if key.state in ("PendingDeletion", "PendingReplicaDeletion"):
            continue
        answer = kms.schedule_key_deletion(KeyId=key.key_id, PendingWindowInDays=window_days)
        scheduled.append({"keyId": key.key_id, "deletionDate": answer["DeletionDate"].isoformat()})
    return {"store": store_id, "step": "schedule-deletion", "scheduled": scheduled}


def delete_store(kms: Any, store_id: str) -> dict[str, Any]:
    store = read_store(kms, store_id)
    if store.state != "DISCONNECTED":
        raise Refused(f"store {store_id} is {store.state}: run `disconnect` first (step 1)")
    if store.keys:
        pending = [k for k in store.keys if k.state == "PendingDeletion"]
        if len(pending) < len(store.keys):
            raise Refused(
                f"store {store_id} still holds keys not scheduled for deletion: run `schedule-deletion` (step 2)"
            )
        last = max(k.deletion_date for k in pending)
        raise Refused(
            f"store {store_id} still holds {len(pending)} key(s) pending deletion; run again after {last}"
        )
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    return {"store": store_id, "step": "delete-store", "result": "DeleteCustomKeyStore done"}


def _client(region: str, profile: str | None) -> Any:
    import boto3

    return boto3.session.Session(profile_name=profile, region_name=region).client("kms")


def main(argv: list[str] | None = None, client_factory: Callable[[str, str | None], Any] = _client) -> int:
    parser = Parser(prog=PROG, description=__doc__)
    parser.add_argument("step", choices=("status", "disconnect", "schedule-deletion", "delete-store"))
    parser.add_argument("--store", required=True, help="the custom key store id (stack output keyStoreId)")
    parser.add_argument("--region", default="eu-west-3", help="the stack's region (default eu-west-3)")
    parser.add_argument("--profile", default=None, help="the AWS profile of the stack's provider")
    parser.add_argument("--confirm", default="", help="schedule-deletion: the store's name, to confirm")
    parser.add_argument(
        "--window-days", type=int, default=30, help="schedule-deletion: 7 to 30 days (default 30)"
    )
    parser.add_argument(
        "--keys-in-use-ok",
        action="store_true",
        help="disconnect even though keys are Enabled (stops the platform)",
    )
    args = parser.parse_args(argv)

    def body() -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        if not args.store.startswith("cks-"):
            raise BadInputError(f"--store: must be a custom key store id (cks-...), got {args.store!r}")
        kms = client_factory(args.region, args.profile)
        try:
            if args.step == "status":
                result = status(kms, args.store)
            elif args.step == "disconnect":
                result = disconnect(kms, args.store, keys_in_use_ok=args.keys_in_use_ok)
            elif args.step == "schedule-deletion":
                result = schedule_deletion(
                    kms, args.store, confirm=args.confirm, window_days=args.window_days
                )
            else:
                result = delete_store(kms, args.store)
        except Refused as refused:
            print(f"{PROG}: refused: {refused}", file=sys.stderr)
            return Exit.FINDING
        except (ClientError, BotoCoreError) as error:
            print(
                f"{PROG}: incomplete: AWS could not be read or changed: {' '.join(str(error).split())}",
                file=sys.stderr,
            )
            return Exit.INCOMPLETE
        print(json.dumps(result, indent=2))
        return Exit.PASS

    return run(PROG, body, debug=args.debug)


if __name__ == "__main__":
    raise SystemExit(main())
