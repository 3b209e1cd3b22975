"""Command line: ``python -m xks_proxy --config FILE`` serves; ``keys ...`` and ``dev-setup`` manage.

Secrets are never accepted as arguments: the config file names files or environment variables.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from .config import ConfigError, load_config, load_hsm_config
from .keys import KeyCommandError, KeyCustodian, parse_usage
from .logs import setup_logging


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m xks_proxy",
        description="AWS KMS XKS proxy (API v1) on a PKCS#11 HSM. Without a command: serve.",
    )
    p.add_argument("--config", help="YAML configuration file (see docs/xks-proxy.md)")
    sub = p.add_subparsers(dest="command")
    # `--config FILE` is accepted before or after the key command (`keys --config F list` and
    # `keys list --config F`): SUPPRESS keeps a later parser from overwriting an earlier value.
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument(
        "--config",
        dest="keys_config",
        default=argparse.SUPPRESS,
        help="configuration file (only its hsm: section is read)",
    )
    keys = sub.add_parser(
        "keys", parents=[config_option], help="key custodian commands (AES-256 keys in the HSM)"
    )
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    create = ksub.add_parser("create", parents=[config_option], help="create a non-extractable AES-256 key")
    create.add_argument("key_id")
    create.add_argument("--usage", default="encrypt,decrypt", help="encrypt, decrypt or encrypt,decrypt")
    ksub.add_parser("list", parents=[config_option], help="list secret keys with state and usage")
    show = ksub.add_parser("show", parents=[config_option], help="state and usage of one key")
    show.add_argument("key_id")
    disable = ksub.add_parser(
        "disable", parents=[config_option], help="disable a key (state DISABLED; the HSM refuses it)"
    )
    disable.add_argument("key_id")
    enable = ksub.add_parser(
        "enable", parents=[config_option], help="enable a key again, with the usage it had"
    )
    enable.add_argument("key_id")
    enable.add_argument("--usage", help="encrypt, decrypt or encrypt,decrypt (default: the usage it had)")
    usage = ksub.add_parser(
        "usage", parents=[config_option], help="set what a key may do, without changing its state"
    )
    usage.add_argument("key_id")
    usage.add_argument("--usage", required=True, help="encrypt, decrypt or encrypt,decrypt")
    destroy = ksub.add_parser(
        "destroy", parents=[config_option], help="delete a key from the HSM: irreversible crypto-shredding"
    )
    destroy.add_argument("key_id")
    destroy.add_argument("--yes", action="store_true", help="confirm the irreversible deletion")
    dev = sub.add_parser(
        "dev-setup", help="make a local SoftHSM2 token, certificates, credentials and config"
    )
    dev.add_argument("directory", help="new directory to create everything in (never commit it)")
    dev.add_argument("--port", type=int, default=8443)
    dev.add_argument("--metrics-port", type=int, default=9464)
    dev.add_argument("--key-id", action="append", help="key(s) to create (default: demo-key-1)")
    return p


def _keys(args: argparse.Namespace) -> int:
    config = getattr(args, "keys_config", None) or args.config
    if not config:
        print(
            "error: --config is required (the hsm: section names the module, token and PIN source)",
            file=sys.stderr,
        )
        return 2
    custodian = KeyCustodian(load_hsm_config(config))
    try:
        cmd = args.keys_command
        if cmd == "list":
            rows = custodian.list()
            print(f"{'KEY ID':40} {'STATUS':26} {'USAGE':16} GCM LEASED/CAP")
            for row in rows:
                print(f"{row.key_id:40} {row.status:26} {row.usage:16} {row.gcm}")
            return 0
        if cmd == "destroy":
            if not args.yes:
                print("error: destroy is irreversible; add --yes to confirm", file=sys.stderr)
                return 2
            custodian.destroy(args.key_id)
            print(f"{args.key_id}: DESTROYED")
            return 0
        if cmd == "create":
            row = custodian.create(args.key_id, *parse_usage(args.usage))
        elif cmd == "show":
            row = custodian.show(args.key_id)
        elif cmd == "disable":
            row = custodian.disable(args.key_id)
        elif cmd == "usage":
            row = custodian.set_usage(args.key_id, *parse_usage(args.usage))
        else:
            row = custodian.enable(args.key_id, parse_usage(args.usage) if args.usage else None)
        print(row.line(gcm=cmd == "show"))
        return 0
    finally:
        custodian.close()


def _dev_setup(args: argparse.Namespace) -> int:
    from .devsetup import UnsafeTargetError, dev_setup

    try:
        setup = dev_setup(
            Path(args.directory),
            tuple(args.key_id or ["demo-key-1"]),
            port=args.port,
            metrics_port=args.metrics_port,
        )
    except UnsafeTargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"config:      {setup.config}")
    print(f"credentials: {setup.credentials} (KMS console format; secret, mode 0600)")
    print(f"CA:          {setup.ca_cert}")
    print(f"keys:        {', '.join(setup.key_ids)}")
    print(f"run:         python -m xks_proxy --config {setup.config}")
    return 0


def _sd_notify(message: str) -> bool:
    """Send one sd_notify(3) datagram to systemd; False when not run by systemd with Type=notify."""
    target = os.environ.get("NOTIFY_SOCKET", "")
    if not target:
        return False
    address = "\0" + target[1:] if target.startswith("@") else target  # abstract socket namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.sendto(message.encode(), address)
    return True


def _ops_port_answers(host: str, port: int, timeout: float) -> bool:
    """The ops port answers /healthz with any HTTP status: the event loop serving it is alive."""
    conn = http.client.HTTPConnection("127.0.0.1" if host in ("0.0.0.0", "") else host, port, timeout=timeout)  # noqa: S104
    try:
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _watchdog_interval() -> tuple[int, float]:
    """(WATCHDOG_USEC, the ping interval: half of it, 5 s when systemd sets no watchdog)."""
    usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    return usec, (max(usec / 2_000_000, 0.05) if usec else 5.0)


def run_systemd_watchdog(
    alive: Callable[[bool], bool], stop: threading.Event | None = None
) -> threading.Thread | None:
    """Under systemd (Type=notify, WatchdogSec=): READY=1 once ``alive(False)`` holds, then WATCHDOG=1 at
    half the watchdog interval for as long as ``alive(True)`` does (the argument: READY was sent).
    One loop for the single-process proxy and for the parent of several workers (workers.py)."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return None
    usec, interval = _watchdog_interval()
    stop = stop or threading.Event()

    def run() -> None:
        ready = False
        while not stop.is_set():
            if alive(ready):
                if not ready:
                    ready = _sd_notify("READY=1")
                if usec:
                    _sd_notify("WATCHDOG=1")
            stop.wait(interval if ready else 0.2)

    thread = threading.Thread(target=run, name="systemd-watchdog", daemon=True)
    thread.start()
    return thread


def start_systemd_watchdog(
    host: str, port: int, stop: threading.Event | None = None
) -> threading.Thread | None:
    """One process: alive while the ops port answers. A hung event loop stops the pings and systemd
    restarts the service. (An unavailable HSM does not: /healthz answers 503 then, and restarting would
    not bring the HSM back.)"""
    _, interval = _watchdog_interval()
    return run_systemd_watchdog(lambda _ready: _ops_port_answers(host, port, timeout=interval), stop)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "keys":
            return _keys(args)
        if args.command == "dev-setup":
            return _dev_setup(args)
        if not args.config:
            print("error: --config FILE is required", file=sys.stderr)
            return 2
        cfg = load_config(args.config)
        setup_logging(cfg.log_level)
        if cfg.workers == 1:
            # One process: the watchdog probes its ops port. Several: workers.py watches heartbeats.
            start_systemd_watchdog(cfg.metrics_host, cfg.metrics_port)
        from .workers import run_workers

        run_workers(cfg, args.config)
        return 0
    except (ConfigError, KeyCommandError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
