"""``server.workers`` processes sharing the API and ops ports with SO_REUSEPORT, run as one fleet.

The parent forks the workers and is the only process that reads the config file:
- on SIGHUP it re-reads and validates the file (``config.reload_config``); a valid config gets the next
  generation number and is handed to every worker over its private pipe, and to every worker it spawns
  afterwards (a respawned worker never falls back to the config loaded at start). An invalid config, or
  one changing what only a restart can (sockets, TLS, HSM), is refused: the running config stays, one
  ``reload_failed`` line is logged and ``xks_config_reload_failures_total`` counts it;
- it watches each worker's heartbeat in the shared table (fleet.py): a worker whose event loop has not
  beaten for ``server.heartbeat_timeout_s`` is killed (SIGKILL: a hung loop would not handle SIGTERM)
  and replaced, like a worker that exited; replacements are at most one a second;
- under systemd it sends WATCHDOG=1 only while every worker beats, so a fleet the parent cannot heal
  is restarted by systemd;
- SIGTERM/SIGINT stop everything.

Each worker is a full proxy: its own event loop, HSM worker threads and PKCS#11 sessions (forked before
the PKCS#11 library is loaded: PKCS#11 state must never cross a fork). An ephemeral port (``:0``) is
resolved once, by a socket the parent binds with SO_REUSEPORT and keeps (never listening), so every
worker binds the same port. Metrics: see metrics.py (prometheus_client multiprocess directory).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import pickle
import shutil
import signal
import socket
import tempfile
import threading
import time
from types import FrameType

from .config import ConfigError, ProxyConfig, reload_config
from .fleet import FleetState

log = logging.getLogger("xks_proxy")

START_GRACE_S = 60.0  # a new worker logs in to the HSM and binds its sockets before its first beat
RESPAWN_INTERVAL_S = 1.0
STOP_GRACE_S = 30.0  # workers drain for up to 5 s and join HSM threads for up to 10 s; then SIGKILL
POLL_S = 0.1


def _reserve(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def config_message(generation: int, cfg: ProxyConfig) -> bytes:
    data = pickle.dumps((generation, cfg))
    return len(data).to_bytes(4, "big") + data


@dataclasses.dataclass
class _Worker:
    index: int
    pid: int
    control: int  # write end of the worker's config pipe
    killed: bool = False


class Fleet:
    """The parent: spawns, feeds, watches and replaces the workers."""

    def __init__(self, cfg: ProxyConfig, config_path: str | None) -> None:
        self.api = _reserve(cfg.listen_host, cfg.listen_port)
        self.ops = _reserve(cfg.metrics_host, cfg.metrics_port)
        self.cfg = dataclasses.replace(
            cfg, listen_port=self.api.getsockname()[1], metrics_port=self.ops.getsockname()[1]
        )
        self.config_path = config_path
        self.loaded = cfg  # as in the file: reloads compare with this (ports as configured, not resolved)
        self.generation = 1
        self.state = FleetState(cfg.workers)
        self.state.set_generation(self.generation)
        self.metrics_dir = tempfile.mkdtemp(prefix="xks-metrics-")  # mode 0700, fresh at every start
        self.workers: dict[int, _Worker] = {}  # pid -> worker
        self.stopping = False
        self.stop_deadline = 0.0
        self.reload_pending = False
        self.due: dict[int, float] = {}  # worker index -> earliest respawn time
        self.last_spawn = 0.0

    # ------------------------------------------------------------------ children

    def spawn(self, index: int) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(write_end)
            for other in self.workers.values():
                os.close(other.control)  # only the parent writes configs; EOF then means it died
            self.api.close()
            self.ops.close()
            self._run_child(index, read_end)
        os.close(read_end)
        os.set_blocking(write_end, False)
        self.workers[pid] = _Worker(index, pid, write_end)
        self.state.spawned(index, pid, START_GRACE_S)
        self.last_spawn = time.monotonic()

    def _run_child(self, index: int, control: int) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # reloads come from the parent, over the pipe
        code = 0
        try:
            from .server import serve

            asyncio.run(
                serve(
                    self.cfg,
                    self.config_path,
                    reuse_port=True,
                    worker=index,
                    fleet=self.state,
                    control_fd=control,
                    generation=self.generation,
                )
            )
        except BaseException:  # a worker must never return into the parent's code
            log.exception("worker_failed", extra={"fields": {"worker": index}})
            code = 1
        os._exit(code)

    def _kill(self, worker: _Worker, why: str) -> None:
        if worker.killed:
            return
        worker.killed = True
        self.state.count_worker_kill()
        log.error(
            "worker_unresponsive", extra={"fields": {"worker": worker.index, "pid": worker.pid, "why": why}}
        )
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)

    def _reap(self) -> None:
        from prometheus_client import multiprocess

        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            os.close(worker.control)
            multiprocess.mark_process_dead(pid, self.metrics_dir)  # type: ignore[no-untyped-call]
            self.state.forget_worker(worker.index)
            if self.stopping:
                continue
            if not worker.killed:
                self.state.count_worker_exit()
                log.error("worker_exited", extra={"fields": {"worker": worker.index, "status": status}})
            self.due[worker.index] = self.last_spawn + RESPAWN_INTERVAL_S

    def _respawn_due(self) -> None:
        now = time.monotonic()
        for index, when in sorted(self.due.items(), key=lambda kv: kv[1]):
            if now < when or now - self.last_spawn < RESPAWN_INTERVAL_S:
                return
            del self.due[index]
            self.spawn(index)

    def _watch_heartbeats(self) -> None:
        now = time.monotonic()
        by_index = {w.index: w for w in self.workers.values()}
        for view in self.state.worker_views():
            worker = by_index.get(view.index)
            if worker is None or view.pid != worker.pid:
                continue
            if now - view.heartbeat > self.cfg.heartbeat_timeout_s:
                self._kill(worker, f"no heartbeat for {now - view.heartbeat:.1f} s")

    # ------------------------------------------------------------------ config

    def reload(self) -> None:
        self.reload_pending = False
        if not self.config_path:
            return
        try:
            new = reload_config(self.config_path, self.loaded)
        except ConfigError as exc:
            self.state.count_reload_failure()
            log.error("reload_failed", extra={"fields": {"error": str(exc), "generation": self.generation}})
            return
        self.loaded = new
        # Ports stay the ones resolved at start (``:0`` in the file is one port for the whole fleet).
        self.cfg = new = dataclasses.replace(
            new, listen_port=self.cfg.listen_port, metrics_port=self.cfg.metrics_port
        )
        self.generation += 1
        self.state.set_generation(self.generation)
        message = config_message(self.generation, new)
        for worker in list(self.workers.values()):
            try:
                written = os.write(worker.control, message)
            except (BlockingIOError, BrokenPipeError):
                written = -1
            if written != len(message):
                # Its pipe is full: the worker is not reading. Replaced, it starts with this config.
                self._kill(worker, "did not take the new config")
        log.info(
            "reload_sent", extra={"fields": {"generation": self.generation, "workers": len(self.workers)}}
        )

    # ------------------------------------------------------------------ main loop

    def run(self) -> None:
        from .metrics import enable_multiprocess

        enable_multiprocess(self.metrics_dir)

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            if signum == signal.SIGHUP:
                self.reload_pending = True
                return
            if not self.stopping:
                self.stop_deadline = time.monotonic() + STOP_GRACE_S
            self.stopping = True
            for worker in list(self.workers.values()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGTERM)

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, on_signal)
        log.info("workers", extra={"fields": {"workers": self.cfg.workers, "api_port": self.cfg.listen_port}})
        for index in range(self.cfg.workers):
            self.spawn(index)
        start_fleet_watchdog(self.state, self.cfg.heartbeat_timeout_s)
        try:
            while self.workers or (self.due and not self.stopping):
                self._reap()
                if self.stopping:
                    if self.workers and time.monotonic() > self.stop_deadline:
                        for worker in list(self.workers.values()):  # hung (or stopped): not draining
                            self._kill(worker, "did not stop within the grace period")
                    if self.workers:
                        time.sleep(POLL_S)
                    continue
                if self.reload_pending:
                    self.reload()
                self._watch_heartbeats()
                self._respawn_due()
                self.state.parent_beat()
                time.sleep(POLL_S)
        finally:
            self.api.close()
            self.ops.close()
            shutil.rmtree(self.metrics_dir, ignore_errors=True)


def start_fleet_watchdog(
    state: FleetState, heartbeat_timeout_s: float, stop: threading.Event | None = None
) -> threading.Thread | None:
    """Under systemd (Type=notify, WatchdogSec=): READY=1 once every worker has beaten, then WATCHDOG=1
    while every worker and the parent's loop keep beating."""
    from .__main__ import run_systemd_watchdog

    def all_beating(started: bool) -> bool:
        now = time.monotonic()
        views = state.worker_views()
        parent_ok = now - state.counters().parent_heartbeat < heartbeat_timeout_s
        # Before READY, each worker must have beaten for real (a spawn sets its beat ahead by a grace).
        return parent_ok and all(
            v.pid and now - v.heartbeat < heartbeat_timeout_s and (started or v.heartbeat <= now)
            for v in views
        )

    return run_systemd_watchdog(all_beating, stop)


def run_workers(cfg: ProxyConfig, config_path: str | None) -> None:
    if cfg.workers == 1:
        from .server import serve

        asyncio.run(serve(cfg, config_path))
        return
    Fleet(cfg, config_path).run()
