"""``server.workers`` processes sharing the API and ops ports with SO_REUSEPORT.

The parent only forks, forwards signals (SIGTERM/SIGINT stop, SIGHUP reloads credentials in every
worker) and restarts a worker that died, at most once a second. Each worker is a full proxy: its own
event loop, HSM worker threads and PKCS#11 sessions (forked before the PKCS#11 library is loaded:
PKCS#11 state must never cross a fork). An ephemeral port (``:0``) is resolved once, by a socket the
parent binds with SO_REUSEPORT and keeps (never listening), so every worker binds the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import time
from types import FrameType

from .config import ProxyConfig

log = logging.getLogger("xks_proxy")


def _reserve(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _child(cfg: ProxyConfig, config_path: str | None, index: int, reserved: list[socket.socket]) -> None:
    for sock in reserved:
        sock.close()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    code = 0
    try:
        from .server import serve

        asyncio.run(serve(cfg, config_path, reuse_port=True, worker=index))
    except BaseException:  # a worker must never return into the parent's code
        log.exception("worker_failed", extra={"fields": {"worker": index}})
        code = 1
    os._exit(code)


def run_workers(cfg: ProxyConfig, config_path: str | None) -> None:
    if cfg.workers == 1:
        from .server import serve

        asyncio.run(serve(cfg, config_path))
        return
    api = _reserve(cfg.listen_host, cfg.listen_port)
    ops = _reserve(cfg.metrics_host, cfg.metrics_port)
    reserved = [api, ops]
    cfg = dataclasses.replace(cfg, listen_port=api.getsockname()[1], metrics_port=ops.getsockname()[1])
    children: dict[int, int] = {}  # pid -> worker index
    stopping = False

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            _child(cfg, config_path, index, reserved)
        children[pid] = index

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if signum in (signal.SIGTERM, signal.SIGINT):
            stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    log.info("workers", extra={"fields": {"workers": cfg.workers, "api_port": cfg.listen_port}})
    for index in range(cfg.workers):
        spawn(index)
    last_restart = 0.0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid not in children:
            continue
        index = children.pop(pid)
        if stopping:
            continue
        log.error("worker_exited", extra={"fields": {"worker": index, "status": status}})
        wait = 1.0 - (time.monotonic() - last_restart)
        if wait > 0:
            time.sleep(wait)
        last_restart = time.monotonic()
        spawn(index)
    for sock in reserved:
        sock.close()
