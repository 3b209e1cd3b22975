"""State every worker process of one proxy shares: limits as totals, heartbeats, config generation.

Why shared memory rather than one accepting process: with ``SO_REUSEPORT`` the kernel hands each
connection straight to a worker, so no process sits in the data path; a parent that accepted and passed
descriptors would add a hop per connection and a single point of failure. What has to be global is
small: per source address, its unauthenticated connections and its new-connection token bucket; per
key store, its request token bucket; per worker, a heartbeat and the config generation it serves. All of
it lives in one anonymous shared file (``memfd``) that the parent creates before forking and maps in
every worker.

Mutual exclusion is a POSIX record lock (``lockf``) on that file: the kernel releases it when its
holder dies, so a worker killed inside the critical section cannot wedge the others (a process-shared
semaphore would stay taken). Each source address keeps one unauthenticated count per worker, so the
parent can zero a dead worker's column before respawning it and no count leaks.

The address table is fixed-size (open addressing over a short probe window). An entry whose counts are
all zero and whose bucket has been idle long enough to be full again is equivalent to no entry and is
reused; when the window holds no reusable entry (a spoofed-source storm) the connection is refused
(fail closed, counted as ``source_table_full``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

_MAGIC = b"XKSFLEET"
_HEADER = struct.Struct(
    "<8sIIqqqqd"
)  # magic, workers, slots, generation, reload failures, exits, kills, parent beat
_HEADER_SIZE = 64
_WORKER = struct.Struct("<qdqbxxxxxxxd")  # pid, heartbeat, generation served, hsm health, spawned at
_WORKER_SIZE = 48
_KEY_BYTES = 16
_SLOT_HEAD = struct.Struct("<16sdd")  # key digest, tokens, last update
PROBE = 32
IDLE_REUSE_S = 10.0  # buckets refill within 2 s (burst = 2 s of rate at most): 10 s idle means full
HEALTH_CODES = {"UNAVAILABLE": 0, "DEGRADED": 1, "ACTIVE": 2}
HEALTH_NAMES = {v: k for k, v in HEALTH_CODES.items()}


@dataclass(frozen=True)
class WorkerView:
    index: int
    pid: int
    heartbeat: float  # time.monotonic() of its last beat (CLOCK_MONOTONIC is system-wide on Linux)
    generation: int
    health: str
    spawned_at: float


@dataclass(frozen=True)
class FleetCounters:
    generation: int
    reload_failures: int
    worker_exits: int
    worker_kills: int
    parent_heartbeat: float


class FleetState:
    """The shared file; create it once (parent, or a single-process server) before any fork."""

    def __init__(self, workers: int, ip_slots: int = 8192) -> None:
        if workers < 1 or ip_slots < PROBE:
            raise ValueError("workers >= 1 and ip_slots >= PROBE")
        self.workers = workers
        self.ip_slots = ip_slots
        self._slot = struct.Struct(f"<16sdd{workers}I")
        self._slots_at = _HEADER_SIZE + workers * _WORKER_SIZE
        size = self._slots_at + ip_slots * self._slot.size
        self._fd = os.memfd_create("xks-fleet", os.MFD_CLOEXEC)
        os.ftruncate(self._fd, size)
        self._map = mmap.mmap(self._fd, size)
        _HEADER.pack_into(self._map, 0, _MAGIC, workers, ip_slots, 0, 0, 0, 0, time.monotonic())
        # lockf excludes processes, not threads of one process: a thread lock for those.
        self._thread_lock = threading.Lock()

    def close(self) -> None:
        with contextlib.suppress(BufferError, ValueError):
            self._map.close()
        with contextlib.suppress(OSError):
            os.close(self._fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ header

    def counters(self) -> FleetCounters:
        _, _, _, gen, failures, exits, kills, beat = _HEADER.unpack_from(self._map, 0)
        return FleetCounters(gen, failures, exits, kills, beat)

    def _set_header(self, **changes: float) -> None:
        with self._locked():
            magic, workers, slots, gen, failures, exits, kills, beat = _HEADER.unpack_from(self._map, 0)
            values = {
                "generation": gen,
                "reload_failures": failures,
                "worker_exits": exits,
                "worker_kills": kills,
                "parent_heartbeat": beat,
            }
            for name, delta in changes.items():
                values[name] = delta if name in ("generation", "parent_heartbeat") else values[name] + delta
            _HEADER.pack_into(
                self._map,
                0,
                magic,
                workers,
                slots,
                int(values["generation"]),
                int(values["reload_failures"]),
                int(values["worker_exits"]),
                int(values["worker_kills"]),
                float(values["parent_heartbeat"]),
            )

    def set_generation(self, generation: int) -> None:
        self._set_header(generation=generation)

    def count_reload_failure(self) -> None:
        self._set_header(reload_failures=1)

    def count_worker_exit(self) -> None:
        self._set_header(worker_exits=1)

    def count_worker_kill(self) -> None:
        self._set_header(worker_kills=1)

    def parent_beat(self) -> None:
        self._set_header(parent_heartbeat=time.monotonic())

    # ------------------------------------------------------------------ workers

    def _worker_at(self, index: int) -> int:
        if not 0 <= index < self.workers:
            raise IndexError(f"worker {index} of {self.workers}")
        return _HEADER_SIZE + index * _WORKER_SIZE

    def spawned(self, index: int, pid: int, grace_s: float) -> None:
        """Parent, at fork: the new worker's heartbeat starts ``grace_s`` ahead (HSM login, TLS setup)."""
        now = time.monotonic()
        with self._locked():
            _WORKER.pack_into(self._map, self._worker_at(index), pid, now + grace_s, 0, 0, now)

    def beat(self, index: int, generation: int, health: str) -> None:
        """Worker, from its event loop: alive, serving ``generation``, HSM health ``health``."""
        at = self._worker_at(index)
        pid, _, _, _, spawned = _WORKER.unpack_from(self._map, at)
        # One writer per slot (its worker): no lock needed, and a beat never waits on another process.
        _WORKER.pack_into(
            self._map, at, pid or os.getpid(), time.monotonic(), generation, HEALTH_CODES[health], spawned
        )

    def worker_views(self) -> list[WorkerView]:
        views = []
        for index in range(self.workers):
            pid, beat, gen, health, spawned = _WORKER.unpack_from(self._map, self._worker_at(index))
            views.append(WorkerView(index, pid, beat, gen, HEALTH_NAMES.get(health, "UNAVAILABLE"), spawned))
        return views

    def forget_worker(self, index: int) -> None:
        """Parent, after a worker died or was killed: its unauthenticated counts die with it."""
        at = self._worker_at(index)
        zero = b"\0" * 4
        with self._locked():
            _WORKER.pack_into(self._map, at, 0, 0.0, 0, 0, 0.0)
            off = self._slots_at + _SLOT_HEAD.size + 4 * index
            for _ in range(self.ip_slots):
                self._map[off : off + 4] = zero
                off += self._slot.size

    # ------------------------------------------------------------------ buckets and counts

    @staticmethod
    def _digest(key: str) -> bytes:
        return hashlib.blake2b(key.encode(), digest_size=_KEY_BYTES).digest()

    def _find(self, key: str, now: float, burst: float) -> tuple[int, list[object]] | None:
        """Offset and unpacked fields of ``key``'s entry (created full if absent); None if no room."""
        digest = self._digest(key)
        start = int.from_bytes(digest[:4], "little") % self.ip_slots
        free: int | None = None
        size = self._slot.size
        for i in range(PROBE):
            off = self._slots_at + ((start + i) % self.ip_slots) * size
            fields = list(self._slot.unpack_from(self._map, off))
            if fields[0] == digest:
                return off, fields
            if free is None and (
                fields[0] == b"\0" * _KEY_BYTES
                or (now - float(fields[2]) > IDLE_REUSE_S and not any(fields[3:]))
            ):
                free = off
        if free is None:
            return None
        return free, [digest, burst, now, *([0] * self.workers)]

    def _refill(self, fields: list[object], rate: float, burst: float, now: float) -> float:
        tokens = min(burst, float(fields[1]) + max(0.0, now - float(fields[2])) * rate)  # type: ignore[arg-type]
        fields[2] = now
        return tokens

    def take_token(self, key: str, rate: float, burst: float) -> bool | None:
        """Token bucket ``key`` shared by all workers: True taken, False empty, None table full."""
        now = time.monotonic()
        with self._locked():
            found = self._find(key, now, burst)
            if found is None:
                return None
            off, fields = found
            tokens = self._refill(fields, rate, burst, now)
            ok = tokens >= 1
            fields[1] = tokens - 1 if ok else tokens
            self._slot.pack_into(self._map, off, *fields)
            return ok

    def admit_source(  # noqa: PLR0917
        self, ip: str, worker: int, rate: float, burst: float, max_unauthenticated: int, check: bool = True
    ) -> str | None:
        """One new unauthenticated connection from ``ip``: rate and count checked and taken atomically.

        Returns the refusal reason, or None when admitted (the count then includes it). ``check`` False
        counts without limits (a trusted balancer's connection before its PROXY header names the client).
        """
        now = time.monotonic()
        with self._locked():
            found = self._find("ip:" + ip, now, burst)
            if found is None:
                return "source_table_full"
            off, fields = found
            tokens = self._refill(fields, rate, burst, now)
            if check:
                if tokens < 1:
                    fields[1] = tokens
                    self._slot.pack_into(self._map, off, *fields)
                    return "connection_rate_per_ip"
                if sum(fields[3:]) >= max_unauthenticated:  # type: ignore[arg-type]
                    fields[1] = tokens
                    self._slot.pack_into(self._map, off, *fields)
                    return "max_unauthenticated_per_ip"
                tokens -= 1
            fields[1] = tokens
            fields[3 + worker] = int(fields[3 + worker]) + 1  # type: ignore[call-overload]
            self._slot.pack_into(self._map, off, *fields)
            return None

    def release_source(self, ip: str, worker: int) -> None:
        """One unauthenticated connection from ``ip`` on ``worker`` authenticated or closed."""
        digest = self._digest("ip:" + ip)
        start = int.from_bytes(digest[:4], "little") % self.ip_slots
        with self._locked():
            for i in range(PROBE):
                off = self._slots_at + ((start + i) % self.ip_slots) * self._slot.size
                fields = list(self._slot.unpack_from(self._map, off))
                if fields[0] == digest:
                    fields[3 + worker] = max(0, int(fields[3 + worker]) - 1)
                    self._slot.pack_into(self._map, off, *fields)
                    return

    def unauthenticated_from(self, ip: str) -> int:
        """Unauthenticated connections from ``ip`` across every worker."""
        digest = self._digest("ip:" + ip)
        start = int.from_bytes(digest[:4], "little") % self.ip_slots
        for i in range(PROBE):
            off = self._slots_at + ((start + i) % self.ip_slots) * self._slot.size
            fields = self._slot.unpack_from(self._map, off)
            if fields[0] == digest:
                return int(sum(fields[3:]))
        return 0
