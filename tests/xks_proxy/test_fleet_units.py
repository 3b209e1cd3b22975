"""Issue 21's smaller findings, and the shared pieces of the fleet tested on their own.

- the signed URL is the routed one (Host validated, target without a fragment);
- JSON depth and size limits answer 400 ValidationException, with no ERROR line;
- ``Content-Type: application/json`` is required;
- PROXY protocol is trusted from listed balancer addresses only (no ranges);
- dev-setup never puts a PIN on a command line;
- fleet.py's shared table holds limits across processes, forgets a dead worker, fails closed when full;
- budget.py's leases: cap, restart, another host's leases, a racing lease, an unreadable lease.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.xks_proxy.test_xks_api import encrypt_payload
from tests.xks_proxy.xks_helpers import KEY, RunningProxy
from xks_proxy import budget as budget_mod
from xks_proxy.budget import LEASE_APPLICATION, BudgetExhausted, GcmBudget, lease_objects, leased
from xks_proxy.config import ConfigError, load_hsm_config, parse_config
from xks_proxy.devsetup import dev_setup
from xks_proxy.errors import AuthenticationFailedException
from xks_proxy.fleet import PROBE, FleetState
from xks_proxy.keys import KeyCustodian
from xks_proxy.sigv4 import SigV4Verifier

# ------------------------------------------------------------------------------ signed URL


def _signed(
    proxy: RunningProxy, host: str, signed_path: str, body: bytes, ctype: str | None
) -> dict[str, str]:
    headers = {"Host": host}
    if ctype is not None:
        headers["Content-Type"] = ctype
    req = AWSRequest(method="POST", url=f"https://{host}{signed_path}", data=body, headers=headers)
    SigV4Auth(Credentials(proxy.akid, proxy.secret), "kms-xks-proxy", "eu-west-3").add_auth(req)
    return dict(req.headers.items())


def test_host_with_a_fragment_cannot_move_the_signed_path(proxy: RunningProxy) -> None:
    client = proxy.client()
    encrypt_path = f"{proxy.uri_path}/keys/{KEY}/encrypt"
    body = json.dumps(encrypt_payload()).encode()
    # Host "localhost:PORT/…/health#" makes botocore sign the health path while the request routes
    # to encrypt: refused before the signature is even checked.
    host = f"localhost:{proxy.server.port}{proxy.uri_path}/health#"
    headers = _signed(proxy, host, encrypt_path, body, "application/json")
    r = client.raw("POST", encrypt_path, body, headers)
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")
    # The same request with an honest Host passes: the check above is what refused it.
    good = _signed(proxy, f"localhost:{proxy.server.port}", encrypt_path, body, "application/json")
    assert proxy.client().raw("POST", encrypt_path, body, good).status == 200


@pytest.mark.parametrize("host", ["[1.2.3.4]", "[1::2::3]", "[::ffff:zz]"])
def test_bracketed_host_that_is_no_ipv6_literal_is_a_validation_error(proxy: RunningProxy, host: str) -> None:
    # The Host pattern admits any bracketed run of hex digits, dots and colons; the URL parser behind
    # the signature refuses these with an exception, which was a 500 InternalException.
    encrypt_path = f"{proxy.uri_path}/keys/{KEY}/encrypt"
    body = json.dumps(encrypt_payload()).encode()
    headers = _signed(proxy, f"localhost:{proxy.server.port}", encrypt_path, body, "application/json")
    headers["Host"] = host
    r = proxy.client().raw("POST", encrypt_path, body, headers)
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")


def test_verifier_refuses_a_host_that_changes_the_url() -> None:
    verifier = SigV4Verifier({"AKIAEXAMPLEEXAMPLE22": "s" * 44})
    headers = {
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE22/20261205/eu-west-3/kms-xks-proxy/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "x-amz-date": "20261205T120000Z",
        "host": "localhost/x#",
    }
    from datetime import UTC, datetime

    with pytest.raises(AuthenticationFailedException) as err:
        verifier.verify(
            "POST",
            "localhost/x#",
            "/kms/xks/v1/health",
            headers,
            b"{}",
            datetime(2026, 12, 5, 12, tzinfo=UTC),
        )
    assert err.value.reason == "Host and request target do not form the signed URL"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 20000 + b"]" * 20000, "nests deeper than 8 levels"),
        (b'{"requestMetadata":' * 9 + b"{}" + b"}" * 9, "nests deeper than 8 levels"),
        (json.dumps({"pad": "x" * 50_000}).encode(), "exceeds 49152 bytes"),
    ],
)
def test_json_depth_and_size_are_validation_errors(proxy: RunningProxy, body: bytes, why: str) -> None:
    path = f"{proxy.uri_path}/keys/{KEY}/encrypt"
    headers = _signed(proxy, f"localhost:{proxy.server.port}", path, body, "application/json")
    r = proxy.client().raw("POST", path, body, headers)
    assert (r.status, r.body["errorName"]) == (400, "ValidationException")
    logs = proxy.logs.getvalue().splitlines()
    # The access line says why (other lines, e.g. a health change, may come after it).
    assert any(why in line for line in logs if '"event":"request"' in line), logs[-5:]
    assert not any('"level":"ERROR"' in line for line in logs)


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_content_type_must_be_json(proxy: RunningProxy, ctype: str | None) -> None:
    path = f"{proxy.uri_path}/keys/{KEY}/encrypt"
    body = json.dumps(encrypt_payload()).encode()
    headers = _signed(proxy, f"localhost:{proxy.server.port}", path, body, ctype)
    r = proxy.client().raw("POST", path, body, headers)
    assert (r.status, r.body["errorName"], r.body["errorMessage"]) == (
        400,
        "ValidationException",
        "Content-Type must be application/json",
    )
    ok = _signed(proxy, f"localhost:{proxy.server.port}", path, body, "application/json; charset=utf-8")
    assert proxy.client().raw("POST", path, body, ok).status == 200


# ------------------------------------------------------------------------------ configuration


def _config(tmp_path: Path, **server: Any) -> dict[str, Any]:
    module = tmp_path / "module.so"
    module.write_bytes(b"")
    (tmp_path / "pin").write_text("1234\n")
    (tmp_path / "secret").write_text("A" * 44 + "\n")
    return {
        "server": server,
        "hsm": {"module": str(module), "token_label": "t", "pin_file": "pin"},
        "keystores": [
            {
                "name": "k",
                "credentials": [{"access_key_id": "A" * 20, "secret_access_key_file": "secret"}],
                "allowed_key_ids": ["k1"],
            }
        ],
    }


def test_proxy_protocol_is_trusted_from_balancer_addresses_not_ranges(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server.proxy_protocol_from: '10.0.0.0/24' is a range"):
        parse_config(_config(tmp_path, proxy_protocol_from=["10.0.0.0/24"]), tmp_path)
    cfg = parse_config(
        _config(tmp_path, proxy_protocol_from=["10.0.0.5", "10.0.0.6/32", "fd00::1"]), tmp_path
    )
    assert cfg.proxy_protocol_from == ("10.0.0.5", "10.0.0.6", "fd00::1")


def test_gcm_budget_options_are_checked(tmp_path: Path) -> None:
    raw = _config(tmp_path)
    raw["hsm"].update(gcm_invocation_limit=10, gcm_lease_block=11)
    with pytest.raises(ConfigError, match=r"hsm\.gcm_lease_block: must not exceed"):
        parse_config(raw, tmp_path)
    raw["hsm"].update(gcm_invocation_limit=2**32 + 1, gcm_lease_block=1)
    with pytest.raises(
        ConfigError, match=r"hsm\.gcm_invocation_limit: must be an integer from 1 to 4294967296"
    ):
        parse_config(raw, tmp_path)


def test_dev_setup_puts_no_pin_on_a_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argvs: list[list[str]] = []
    real_popen = subprocess.Popen

    class Recording(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: Any, *a: Any, **kw: Any) -> None:
            argvs.append([str(x) for x in args])
            super().__init__(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    setup = dev_setup(tmp_path / "dev", ("k1",), port=0, metrics_port=0)
    pin = (setup.directory / "hsm-pin").read_text().strip()
    assert any("softhsm2-util" in argv[0] for argv in argvs), argvs
    assert not any(pin in " ".join(argv) for argv in argvs)
    assert not any("--pin" in argv or "--so-pin" in argv for argv in argvs)
    custodian = KeyCustodian(load_hsm_config(setup.config))  # the token took the PIN typed at its prompt
    custodian.close()


# ------------------------------------------------------------------------------ fleet table


def _admit_many(fleet: FleetState, worker: int, n: int, out: Any) -> None:
    admitted = sum(fleet.admit_source("192.0.2.7", worker, 1000.0, 2000.0, 4) is None for _ in range(n))
    out.put(admitted)


def test_unauthenticated_count_is_shared_by_processes_and_forgotten_with_a_dead_worker() -> None:
    fleet = FleetState(2, ip_slots=PROBE * 4)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_admit_many, args=(fleet, w, 10, out)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert sorted([out.get(timeout=10), out.get(timeout=10)]) in ([0, 4], [1, 3], [2, 2])
    assert fleet.unauthenticated_from("192.0.2.7") == 4
    fleet.forget_worker(0)
    fleet.forget_worker(1)
    assert fleet.unauthenticated_from("192.0.2.7") == 0
    assert fleet.admit_source("192.0.2.7", 0, 1000.0, 2000.0, 4) is None


def test_connection_rate_is_one_bucket_for_all_workers() -> None:
    fleet = FleetState(2)
    results = [fleet.admit_source("192.0.2.8", i % 2, 0.5, 1.0, 100) for i in range(4)]
    assert results == [None, "connection_rate_per_ip", "connection_rate_per_ip", "connection_rate_per_ip"]


def test_full_source_table_refuses_rather_than_forgets() -> None:
    fleet = FleetState(1, ip_slots=PROBE)
    for i in range(PROBE):
        assert fleet.admit_source(f"198.51.100.{i}", 0, 1000.0, 2000.0, 4) is None
    assert fleet.admit_source("203.0.113.1", 0, 1000.0, 2000.0, 4) == "source_table_full"
    assert fleet.take_token("ks:/x", 5.0, 5.0) is None  # a key store's quota fails closed too


# ------------------------------------------------------------------------------ GCM leases


@pytest.fixture
def session(tmp_path: Path) -> Any:
    setup = dev_setup(tmp_path / "dev", ("k1",), port=0, metrics_port=0)
    custodian = KeyCustodian(load_hsm_config(setup.config))
    yield custodian.session
    custodian.close()


def _opener(session: Any) -> Any:
    return lambda: session.token.open(rw=True)


def test_budget_caps_survives_restart_and_counts_other_hosts(session: Any) -> None:
    budget = GcmBudget(limit=4, block=1)
    for _ in range(4):
        budget.spend(_opener(session), "k1")
    with pytest.raises(BudgetExhausted):
        budget.spend(_opener(session), "k1")
    with pytest.raises(BudgetExhausted):  # a restarted process: the leases are in the HSM
        GcmBudget(limit=4, block=1).spend(_opener(session), "k1")
    assert leased(session, "k1", 4) == 4
    other = GcmBudget(limit=6, block=2)  # another host, leasing blocks of 2 against a cap of 6
    other.spend(_opener(session), "k1")  # leases 2 more: 6 of 6
    other.spend(_opener(session), "k1")  # the second invocation of that lease
    with pytest.raises(BudgetExhausted):
        other.spend(_opener(session), "k1")
    assert leased(session, "k1", 6) == 6


def test_a_racing_lease_past_the_cap_is_destroyed_unused(
    session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    GcmBudget(limit=3, block=2).spend(_opener(session), "k1")  # host A holds 2 of 3
    real = budget_mod.leased
    calls = {"n": 0}

    def stale_first(s: Any, key_id: str, limit: int) -> int:
        calls["n"] += 1
        return 0 if calls["n"] == 1 else real(s, key_id, limit)  # B counted before A's lease existed

    monkeypatch.setattr(budget_mod, "leased", stale_first)
    with pytest.raises(BudgetExhausted):
        GcmBudget(limit=3, block=2).spend(_opener(session), "k1")
    assert len(lease_objects(session, "k1")) == 1  # B's lease is gone, A's is kept


def test_an_unreadable_lease_counts_as_the_whole_cap(session: Any) -> None:
    from pkcs11 import Attribute, ObjectClass

    rw = session.token.open(rw=True)
    try:
        rw.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.LABEL: "k1",
                Attribute.APPLICATION: LEASE_APPLICATION,
                Attribute.VALUE: b"garbled",
            }
        )
    finally:
        rw.close()
    with pytest.raises(BudgetExhausted):
        GcmBudget(limit=2**32, block=2**24).spend(_opener(session), "k1")


# ------------------------------------------------------------------------------ systemd watchdog


def test_fleet_watchdog_pings_only_while_every_worker_beats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import socket
    import threading

    from xks_proxy.workers import start_fleet_watchdog

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # pings every 0.1 s
    fleet = FleetState(2)
    fleet.spawned(0, os.getpid(), 0.0)
    fleet.spawned(1, os.getpid(), 60.0)  # spawned, not yet beating: its beat is ahead by the grace
    beating = {0}
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            fleet.parent_beat()
            for index in beating:
                fleet.beat(index, 1, "ACTIVE")
            stop.wait(0.05)

    threading.Thread(target=beat, daemon=True).start()
    start_fleet_watchdog(fleet, 1.0, stop)
    try:
        notify.settimeout(0.5)
        with pytest.raises(TimeoutError):
            notify.recv(64)  # no READY while worker 1 has never beaten
        beating.add(1)
        notify.settimeout(5)
        assert notify.recv(64) == b"READY=1"
        assert notify.recv(64) == b"WATCHDOG=1"
        beating.discard(1)  # worker 1 hangs: after heartbeat_timeout_s (1 s) the pings stop
        notify.settimeout(1.5)
        for _ in range(200):  # drain what was sent before the beat went stale (bounded: never hangs)
            try:
                notify.recv(64)
            except TimeoutError:
                break
        else:
            raise AssertionError("the watchdog kept pinging while a worker did not beat")
        with pytest.raises(TimeoutError):
            notify.recv(64)
    finally:
        stop.set()
        notify.close()
