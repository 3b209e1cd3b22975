"""Helpers and fixtures: every test gets its own SoftHSM2 token, certificates, credentials and proxy in tmp_path.

The proxy runs in-process on its own event loop thread, over real TLS on an ephemeral port, so tests
can also reach into it (reload, fault injection on the HSM worker functions).
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.xks_check import XksClient, request_metadata
from xks_proxy.config import load_config
from xks_proxy.devsetup import dev_setup
from xks_proxy.keys import KeyCustodian
from xks_proxy.logs import setup_logging
from xks_proxy.server import ProxyServer

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("softhsm2-util") is None, reason="softhsm2 not installed")

KEY = "key-main"
KEY_ENC_ONLY = "key-enc-only"
KEY_DEC_ONLY = "key-dec-only"
KEY_DISABLED = "key-disabled"
KEY_NOT_ALLOWED = "key-not-allowed"


@dataclass
class RunningProxy:
    server: ProxyServer
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    stop: Callable[[], None]
    setup: Any
    logs: io.StringIO
    akid: str
    secret: str
    uri_path: str

    def client(self, **kw: Any) -> XksClient:
        kw.setdefault("ca_file", str(self.setup.ca_cert))
        return XksClient(f"https://localhost:{self.server.port}", self.uri_path, self.akid, self.secret, **kw)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


def start_proxy(config_path: Path, setup: Any) -> RunningProxy:
    logs = io.StringIO()
    setup_logging("INFO", logs)
    cfg = load_config(config_path)
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        server = ProxyServer(cfg, str(config_path))
        await server.start()
        stop = asyncio.Event()
        holder.update(server=server, loop=asyncio.get_running_loop(), stop=stop)
        ready.set()
        await stop.wait()
        await server.stop()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "proxy did not start"
    creds = json.loads(setup.credentials.read_text())
    loop = holder["loop"]

    def stop() -> None:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(40)  # the server drains for up to 5 s, the HSM pool joins its threads for up to 10 s
        assert not thread.is_alive(), "proxy did not stop"

    return RunningProxy(
        holder["server"],
        loop,
        thread,
        stop,
        setup,
        logs,
        creds["XksProxyAuthenticationCredential"]["AccessKeyId"],
        creds["XksProxyAuthenticationCredential"]["RawSecretAccessKey"],
        creds["XksProxyUriPath"],
    )


def scrape(port: int, host: str = "127.0.0.1") -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One GET /metrics, parsed by prometheus_client's own parser: (sample name, labels) -> value."""
    import http.client

    from prometheus_client.parser import text_string_to_metric_families

    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode()
        assert resp.status == 200, text
    finally:
        conn.close()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def make_setup(
    tmp_path: Path,
    mtls: bool = False,
    hsm_overrides: dict[str, Any] | None = None,
    keystore_overrides: dict[str, Any] | None = None,
    server_overrides: dict[str, Any] | None = None,
) -> Any:
    setup = dev_setup(
        tmp_path / "dev",
        (KEY, KEY_ENC_ONLY, KEY_DEC_ONLY, KEY_DISABLED, KEY_NOT_ALLOWED),
        port=0,
        metrics_port=0,
        mtls=mtls,
    )
    cfg = yaml.safe_load(setup.config.read_text())
    cfg["hsm"].update({"health_interval_s": 0.2, **(hsm_overrides or {})})
    cfg["server"].update(server_overrides or {})
    ks = cfg["keystores"][0]
    ks["allowed_key_ids"] = [KEY, KEY_ENC_ONLY, KEY_DEC_ONLY, KEY_DISABLED, "key-absent"]
    ks.update(keystore_overrides or {})
    setup.config.write_text(yaml.safe_dump(cfg))
    from xks_proxy.config import load_hsm_config

    custodian = KeyCustodian(load_hsm_config(setup.config))
    try:
        custodian.set_usage(KEY_ENC_ONLY, encrypt=True, decrypt=False)
        custodian.set_usage(KEY_DEC_ONLY, encrypt=False, decrypt=True)
        custodian.disable(KEY_DISABLED)
    finally:
        custodian.close()
    return setup


@pytest.fixture
def proxy_factory(tmp_path: Path) -> Iterator[Callable[..., RunningProxy]]:
    running: list[RunningProxy] = []

    def factory(**kw: Any) -> RunningProxy:
        setup = make_setup(tmp_path, **kw)
        p = start_proxy(setup.config, setup)
        running.append(p)
        return p

    yield factory
    for p in running:
        p.stop()


@pytest.fixture
def proxy(proxy_factory: Callable[..., RunningProxy]) -> RunningProxy:
    return proxy_factory()


__all__ = ["KEY", "RunningProxy", "XksClient", "request_metadata", "sample", "scrape"]
