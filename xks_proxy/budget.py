# ruff: noqa: N818 - internal signal between the HSM worker threads and the API layer
"""The GCM invocation budget of each key, counted fleet-wide in the one place every process shares: the HSM.

NIST SP 800-38D, 8.3: with random 96-bit IVs, a key may be used for at most 2^32 GCM encryptions. The
proxy runs several workers on two hosts and restarts; a per-process counter cannot enforce that bound.

Accounting by *leases*: before encrypting, a process holds a lease of ``gcm_lease_block`` invocations
for the key. Taking one creates a new token object (CKO_DATA, application ``xks-proxy gcm lease``,
labelled with the key id, value ``block=N;...``); the key's spent budget is the sum of its leases'
blocks. Creating an object never overwrites another, so two processes leasing at the same moment
always get two leases (no read-modify-write to lose an update). After creating its lease a process sums
the leases again: if the sum exceeds the cap its own lease is destroyed unused and the encryption is
refused. A lease is only ever used once a sum taken *after* its creation was within the cap; as used
leases are never destroyed, the last one verified saw every other used lease, so the used leases never
exceed the cap. A lease a process held when it crashed or restarted is spent: never reused, at most one
block lost per key per process life.

Refused encryptions answer InvalidStateException (the key is not in a state to encrypt); decryption
never consults the budget.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pkcs11 import Attribute, ObjectClass

LEASE_APPLICATION = "xks-proxy gcm lease"


class BudgetExhausted(Exception):
    """The key's fleet-wide GCM invocation budget does not allow one more encryption."""

    def __init__(self, key_id: str, leased: int, limit: int) -> None:
        super().__init__(f"{key_id}: {leased} of {limit} GCM invocations leased")
        self.key_id = key_id
        self.leased = leased
        self.limit = limit


def lease_value(block: int) -> bytes:
    # Host, pid and time are for the custodian's audit (`keys show`); only ``block`` is counted.
    return f"block={block};host={socket.gethostname()[:64]};pid={os.getpid()};t={int(time.time())}".encode()


def lease_block(value: bytes, limit: int) -> int:
    """The invocations one lease object reserves; an unreadable lease counts as the whole cap (fail closed)."""
    for part in value.split(b";"):
        name, _, number = part.partition(b"=")
        if name == b"block" and number.isdigit():
            return int(number)
    return limit


def lease_objects(session: Any, key_id: str) -> list[Any]:
    return list(
        session.get_objects(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.LABEL: key_id,
                Attribute.APPLICATION: LEASE_APPLICATION,
            }
        )
    )


def leased(session: Any, key_id: str, limit: int) -> int:
    """Invocations leased so far for ``key_id`` by every process, live or dead (the spent budget)."""
    return sum(lease_block(bytes(obj[Attribute.VALUE]), limit) for obj in lease_objects(session, key_id))


def destroy_leases(session: Any, key_id: str) -> int:
    found = lease_objects(session, key_id)
    for obj in found:
        obj.destroy()
    return len(found)


class GcmBudget:
    """This process's leases: one block per key at a time, handed out one invocation per encryption."""

    def __init__(self, limit: int, block: int) -> None:
        self.limit = limit
        self.block = block
        self._lock = threading.Lock()
        self._remaining: dict[str, int] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._leased: dict[str, int] = {}  # last fleet-wide total seen per key (a metric)

    @property
    def leased(self) -> dict[str, int]:
        """A copy of the last fleet-wide totals seen per key: the metrics read it on the event loop while
        HSM worker threads add keys, so it is copied under the lock, never iterated live."""
        with self._lock:
            return dict(self._leased)

    def leased_for(self, key_id: str) -> int:
        """The last fleet-wide total seen for one key (0 before its first lease)."""
        with self._lock:
            return self._leased.get(key_id, 0)

    def _seen(self, key_id: str, total: int) -> None:
        with self._lock:
            self._leased[key_id] = total

    def _key_lock(self, key_id: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key_id, threading.Lock())

    def _take_local(self, key_id: str) -> bool:
        with self._lock:
            left = self._remaining.get(key_id, 0)
            if left <= 0:
                return False
            self._remaining[key_id] = left - 1
            return True

    def spend(self, open_rw: Callable[[], Any], key_id: str) -> None:
        """One invocation for ``key_id``, leasing a new block in the HSM when this process has none left.

        ``open_rw`` opens a read-write session (creating a token object needs one; the sessions that
        encrypt stay read-only), used only when a lease is taken. Raises BudgetExhausted when the next
        block would pass the cap. Runs in an HSM worker thread.
        """
        if self._take_local(key_id):
            return
        with self._key_lock(key_id):  # one lease at a time per key in this process
            if self._take_local(key_id):
                return  # another thread of this process leased meanwhile
            session = open_rw()
            try:
                self._lease(session, key_id)
            finally:
                session.close()

    def _lease(self, session: Any, key_id: str) -> None:
        total = leased(session, key_id, self.limit)
        self._seen(key_id, total)
        if total + self.block > self.limit:
            raise BudgetExhausted(key_id, total, self.limit)
        mine = session.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.MODIFIABLE: False,
                Attribute.LABEL: key_id,
                Attribute.APPLICATION: LEASE_APPLICATION,
                Attribute.VALUE: lease_value(self.block),
            }
        )
        total = leased(session, key_id, self.limit)  # after creation: sees every racing lease
        self._seen(key_id, total)
        if total > self.limit:
            mine.destroy()  # unused: destroying it gives back nothing that was spent
            self._seen(key_id, total - self.block)
            raise BudgetExhausted(key_id, total - self.block, self.limit)
        with self._lock:
            self._remaining[key_id] = self.block - 1  # this encryption takes the first one

    def forget(self, key_id: str) -> None:
        """Drop this process's lease for a key (destroyed: its leases are gone with it)."""
        with self._lock:
            self._remaining.pop(key_id, None)
