"""The asyncio-facing bounded pool of HSM worker threads, one PKCS#11 session each (see hsm.py).

Completions are coalesced into one event-loop wake-up instead of one per operation, and deadlines
are enforced by one watchdog task instead of one timer per request (both measured to matter at
2,000+ operations per second). The same watchdog replaces sessions stuck in an HSM call.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from .config import HsmConfig
from .errors import DependencyTimeoutException, InternalException, ThrottlingException

log = logging.getLogger("xks_proxy.hsm")
T = TypeVar("T")


class _WorkerSlot:
    """One worker thread as the watchdog sees it (written by the thread, read by the event loop)."""

    __slots__ = ("retired", "started_at")

    def __init__(self) -> None:
        self.started_at: float | None = None
        self.retired = False


class _Job:
    __slots__ = ("args", "deadline", "fn", "future", "started")

    def __init__(  # noqa: ANN204
        self, fn: Callable[..., Any], args: tuple[Any, ...], future: asyncio.Future[Any], deadline: float
    ):
        self.fn = fn
        self.args = args
        self.future = future
        self.deadline = deadline
        self.started = False


class HsmPool:
    def __init__(self, cfg: HsmConfig) -> None:
        self.cfg = cfg
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._results: list[tuple[_Job, Any, BaseException | None]] = []
        self._results_lock = threading.Lock()
        self._wakeup_pending = False
        self._pending: deque[_Job] = deque()
        self._outstanding = 0
        self.stalled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._slots: list[_WorkerSlot] = []
        self.replaced_sessions = 0

    def _discard_thread_session(self) -> None:
        """Overridden by the HSM: close the calling thread's session."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for _ in range(self.cfg.sessions):
            self._start_worker()
        self._watchdog = loop.create_task(self._watch())

    def _start_worker(self) -> None:
        slot = _WorkerSlot()
        t = threading.Thread(target=self._worker, args=(slot,), name=f"hsm-{len(self._threads)}", daemon=True)
        self._slots.append(slot)
        self._threads.append(t)
        t.start()

    def _replace_stuck(self, now: float) -> None:
        """Watchdog: a worker whose HSM call has run for ``stuck_session_s`` is abandoned and replaced.

        A blocked C call cannot be interrupted; its thread is left to finish (it exits, closing its
        session, if the call ever returns) and a new thread with a new session takes its place, so a
        few hung sessions cannot take the whole pool. At most ``max_replaced_sessions`` abandoned
        threads at a time: beyond that the HSM itself is down and the health check says so.
        """
        for slot in self._slots:
            started = slot.started_at
            if slot.retired or started is None or now - started < self.cfg.stuck_session_s:
                continue
            abandoned = sum(1 for s in self._slots if s.retired and s.started_at is not None)
            if abandoned >= self.cfg.max_replaced_sessions:
                return
            slot.retired = True
            self.replaced_sessions += 1
            log.warning(
                "hsm_session_replaced",
                extra={
                    "fields": {
                        "stuck_for_s": round(now - started, 3),
                        "replaced_total": self.replaced_sessions,
                    }
                },
            )
            self._start_worker()
        self._slots = [s for s in self._slots if not (s.retired and s.started_at is None)]

    async def stop(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        for slot in self._slots:
            if not slot.retired:
                self._queue.put(None)
        # Threads stuck in a hung HSM call are daemons: they must not block shutdown.
        deadline = time.monotonic() + 2
        for t in self._threads:
            await asyncio.to_thread(t.join, max(0.0, deadline - time.monotonic()))

    @property
    def outstanding(self) -> int:
        return self._outstanding

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(*args)`` on a worker; the future fails with Throttling/DependencyTimeout as documented."""
        assert self._loop is not None
        if self._outstanding >= self.cfg.max_queue:
            if self.stalled:
                raise DependencyTimeoutException("the HSM is not answering")
            raise ThrottlingException("the proxy's HSM queue is full; retry later")
        fut: asyncio.Future[T] = self._loop.create_future()
        job = _Job(fn, args, fut, time.monotonic() + self.cfg.operation_timeout_s)
        self._outstanding += 1
        self._pending.append(job)
        self._queue.put(job)
        return fut

    def _worker(self, slot: _WorkerSlot) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.future.done():  # the caller already gave up (deadline): skip, the HSM is busy enough
                result: Any = None
                error: BaseException | None = InternalException("skipped")
            else:
                job.started = True
                slot.started_at = time.monotonic()
                try:
                    result, error = job.fn(*job.args), None
                except BaseException as exc:
                    result, error = None, exc
                slot.started_at = None
            if slot.retired:
                # Replaced while stuck: deliver this result, then leave with the old session.
                self._post(job, result, error)
                self._discard_thread_session()
                return
            if not self._post(job, result, error):
                return

    def _post(self, job: _Job, result: Any, error: BaseException | None) -> bool:
        with self._results_lock:
            self._results.append((job, result, error))
            wake = not self._wakeup_pending
            self._wakeup_pending = True
        if wake and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed during shutdown
                return False
        return True

    def _drain(self) -> None:
        with self._results_lock:
            results, self._results = self._results, []
            self._wakeup_pending = False
        for job, result, error in results:
            self._outstanding -= 1
            if job.started:
                self.stalled = False  # the HSM answered
            fut = job.future
            if fut.done():
                continue
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)

    async def _watch(self) -> None:
        # One watchdog instead of one timer per request; 10 ms granularity is plenty against 250 ms.
        pending = self._pending
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self._replace_stuck(now)
            while pending and (pending[0].future.done() or pending[0].deadline <= now):
                job = pending.popleft()
                if not job.future.done():
                    if job.started:
                        self.stalled = True  # a running HSM call overran: the HSM is not answering
                    job.future.set_exception(
                        DependencyTimeoutException("the HSM did not answer within the operation timeout")
                    )
