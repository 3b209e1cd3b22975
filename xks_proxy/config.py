"""Proxy configuration: one YAML file, validated up front into typed, frozen objects.

Secrets (HSM PIN, SigV4 secret access keys) are never in the file itself and never on the command
line: the file names a file (``*_file``, e.g. a tmpfs path written by cloud-init from Scaleway
Secret Manager) or an environment variable (``*_env``) to read them from at start-up or reload.
Every bad value raises :class:`ConfigError` naming the key and what is allowed.

Validated by hand with PyYAML only (no pydantic): this runs on the HSM host, whose installed
packages are each pinned and hash-checked, and the checks are few and already name each field.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

# Spec, Appendix A: access key id 20-30 characters, 'A'-'Z' and '2'-'7'; secret 43-64 base64 characters.
ACCESS_KEY_ID_RE = re.compile(r"^[A-Z2-7]{20,30}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9+/=]{43,64}$")
# Spec: XksProxyUriPath is at most 128 characters of a-z A-Z 0-9 / - _ and ends in /kms/xks/v1.
PREFIX_RE = re.compile(r"^(/[A-Za-z0-9_-]+)*$")
MAX_PREFIX = 128 - len("/kms/xks/v1")
# Spec: externalKeyId is 1-128 characters of letters, digits, '-', '.', '_'.
KEY_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
AWS_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
CN_RE = re.compile(r"^[A-Za-z0-9.*-]{1,253}$")


class ConfigError(ValueError):
    """A configuration value is missing or not allowed; the message names the key."""


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class KeyStore:
    """One logical key store: what one AWS KMS custom key store is configured with."""

    name: str
    path_prefix: str
    credentials: tuple[Credential, ...]
    allowed_key_ids: frozenset[str]
    allowed_aws_accounts: frozenset[str]
    rate_limit_rps: float | None

    @property
    def uri_path(self) -> str:
        return f"{self.path_prefix}/kms/xks/v1"


#: What the proxy does with a TLS client certificate. AWS's XKS guide ("Control access to your
#: external key store", section "mTLS authentication (deprecated)", read 2026-12-05) marks mTLS
#: deprecated; SigV4 request authentication stays required. Default with a client CA configured:
#: "optional": a certificate KMS presents is verified (CA and subject name), a connection without one
#: is still served, so the proxy keeps answering if KMS stops presenting it. "required" refuses a
#: connection without one; "off" asks for none. The project's facts (data/facts/aws.yaml,
#: xks_client_certificate) hold the same default and tests/facts checks the two agree; this module
#: stays standard-library only and cannot read them.
CLIENT_CERTIFICATE_MODES: tuple[str, ...] = ("required", "optional", "off")
DEFAULT_CLIENT_CERTIFICATE = "optional"


@dataclass(frozen=True)
class TlsConfig:
    certificate: Path
    private_key: Path
    client_ca: Path | None
    client_subject_cn: str | None
    #: One of CLIENT_CERTIFICATE_MODES; "off" exactly when no client CA is configured.
    client_certificate: str = "off"


@dataclass(frozen=True)
class HsmConfig:
    module: Path
    token_label: str | None
    slot: int | None
    pin: str = field(repr=False)
    sessions: int
    operation_timeout_s: float
    health_interval_s: float
    degraded_latency_s: float
    key_cache_ttl_s: float
    max_queue: int
    module_env: tuple[tuple[str, str], ...] = ()
    stuck_session_s: float = 5.0
    max_replaced_sessions: int = 8
    encryption_alert_count: int = 2**31
    gcm_invocation_limit: int = 2**32
    gcm_lease_block: int = 2**24


@dataclass(frozen=True)
class ProxyConfig:
    listen_host: str
    listen_port: int
    tls: TlsConfig | None
    metrics_host: str
    metrics_port: int
    fleet_size: int
    vendor: str
    max_connections: int
    idle_timeout_s: float
    log_level: str
    hsm: HsmConfig
    keystores: tuple[KeyStore, ...]
    workers: int = 1
    max_unauthenticated: int = 256
    max_unauthenticated_per_ip: int = 32
    connection_rate_per_ip: float = 50.0
    handshake_timeout_s: float = 3.0
    auth_timeout_s: float = 10.0
    proxy_protocol_from: tuple[str, ...] = ()
    heartbeat_timeout_s: float = 10.0

    @property
    def is_software_hsm(self) -> bool:
        return "softhsm" in self.module_name

    @property
    def module_name(self) -> str:
        return self.hsm.module.name.lower()


# --------------------------------------------------------------------------- helpers


def _mapping(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a mapping")
    return value


def _known(section: dict[str, Any], key: str, allowed: set[str]) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(f"{key}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _str(section: dict[str, Any], name: str, key: str, default: str | None = None) -> str:
    value = section.get(name, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}.{name}: required, a non-empty string")
    return value


def _opt_str(section: dict[str, Any], name: str, key: str) -> str | None:
    value = section.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}.{name}: must be a non-empty string when set")
    return value


def _int(section: dict[str, Any], name: str, key: str, default: int, lo: int, hi: int) -> int:  # noqa: PLR0917
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{key}.{name}: must be an integer from {lo} to {hi}, got {value!r}")
    return value


def _float(section: dict[str, Any], name: str, key: str, default: float, lo: float, hi: float) -> float:  # noqa: PLR0917
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ConfigError(f"{key}.{name}: must be a number from {lo} to {hi}, got {value!r}")
    return float(value)


def _listen(value: Any, key: str) -> tuple[str, int]:
    if not isinstance(value, str) or ":" not in value:
        raise ConfigError(f"{key}: must be 'HOST:PORT', e.g. '0.0.0.0:8443', got {value!r}")
    host, _, port_s = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port_s.isdigit() or not 0 <= int(port_s) <= 65535:
        raise ConfigError(f"{key}: must be 'HOST:PORT' with a port from 0 to 65535, got {value!r}")
    return host, int(port_s)


def _existing_file(value: str, key: str, base: Path) -> Path:
    path = Path(value)
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise ConfigError(f"{key}: file {str(path)!r} does not exist")
    return path


def read_secret(section: dict[str, Any], name: str, key: str, base: Path) -> str:
    """Read secret ``name`` from ``name_file`` or ``name_env`` (exactly one); never from the file itself."""
    if name in section:
        raise ConfigError(
            f"{key}.{name}: secrets are not accepted inline; use {name}_file (a path) or {name}_env "
            "(an environment variable name)"
        )
    file_key, env_key = f"{name}_file", f"{name}_env"
    has_file, has_env = file_key in section, env_key in section
    if has_file == has_env:
        raise ConfigError(f"{key}: exactly one of {file_key} or {env_key} is required")
    if has_file:
        path = _existing_file(_str(section, file_key, key), f"{key}.{file_key}", base)
        value = path.read_text(encoding="utf-8").strip()
        where = f"{key}.{file_key} ({path})"
    else:
        env_name = _str(section, env_key, key)
        value = os.environ.get(env_name, "").strip()
        where = f"{key}.{env_key} (${env_name})"
    if not value:
        raise ConfigError(f"{where}: the secret is empty or missing")
    return value


# --------------------------------------------------------------------------- sections


def _tls(raw: Any, base: Path) -> TlsConfig | None:
    if raw is None:
        return None
    tls = _mapping(raw, "server.tls")
    _known(
        tls,
        "server.tls",
        {"certificate", "private_key", "client_ca", "client_subject_cn", "client_certificate"},
    )
    cert = _existing_file(_str(tls, "certificate", "server.tls"), "server.tls.certificate", base)
    key = _existing_file(_str(tls, "private_key", "server.tls"), "server.tls.private_key", base)
    ca_s = _opt_str(tls, "client_ca", "server.tls")
    cn = _opt_str(tls, "client_subject_cn", "server.tls")
    ca = _existing_file(ca_s, "server.tls.client_ca", base) if ca_s else None
    if (ca is None) != (cn is None):
        # Spec: an mTLS proxy MUST let the customer configure both the subject name and the root CA.
        raise ConfigError(
            "server.tls: client_ca and client_subject_cn go together (mTLS needs both, "
            "e.g. client_subject_cn: cks.kms.eu-west-3.amazonaws.com)"
        )
    if cn is not None and not CN_RE.match(cn):
        raise ConfigError(f"server.tls.client_subject_cn: not a valid host-like common name: {cn!r}")
    mode = _opt_str(tls, "client_certificate", "server.tls")
    if mode is None:
        mode = DEFAULT_CLIENT_CERTIFICATE if ca is not None else "off"
    if mode not in CLIENT_CERTIFICATE_MODES:
        raise ConfigError(
            f"server.tls.client_certificate: must be one of {', '.join(CLIENT_CERTIFICATE_MODES)} (got {mode!r})"
        )
    if mode == "off" and ca is not None:
        raise ConfigError(
            "server.tls.client_certificate: off leaves client_ca and client_subject_cn unused; remove them"
        )
    if mode != "off" and ca is None:
        raise ConfigError(
            f"server.tls.client_certificate: {mode} needs client_ca and client_subject_cn (the CA and name to verify)"
        )
    return TlsConfig(cert, key, ca, cn, mode)


def _hsm(raw: Any, base: Path) -> HsmConfig:
    hsm = _mapping(raw, "hsm")
    _known(
        hsm,
        "hsm",
        {
            "module",
            "token_label",
            "slot",
            "pin_file",
            "pin_env",
            "pin",
            "sessions",
            "operation_timeout_ms",
            "health_interval_s",
            "degraded_latency_ms",
            "key_cache_ttl_s",
            "max_queue",
            "module_env",
            "stuck_session_s",
            "max_replaced_sessions",
            "encryption_alert_count",
            "gcm_invocation_limit",
            "gcm_lease_block",
        },
    )
    env_raw = hsm.get("module_env", {})
    if not isinstance(env_raw, dict) or not all(
        isinstance(k, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) and isinstance(v, str)
        for k, v in env_raw.items()
    ):
        raise ConfigError(
            "hsm.module_env: must map environment variable names to strings (e.g. SOFTHSM2_CONF)"
        )
    # The PKCS#11 module reads these when loaded (vendor client config, SOFTHSM2_CONF): set them first.
    for name, value in env_raw.items():
        os.environ[name] = value
    module = _existing_file(_str(hsm, "module", "hsm"), "hsm.module", base)
    token_label = _opt_str(hsm, "token_label", "hsm")
    slot = hsm.get("slot")
    if slot is not None and (isinstance(slot, bool) or not isinstance(slot, int) or slot < 0):
        raise ConfigError(f"hsm.slot: must be a non-negative integer, got {slot!r}")
    if (token_label is None) == (slot is None):
        raise ConfigError("hsm: exactly one of token_label or slot is required")
    cfg = HsmConfig(
        module=module,
        token_label=token_label,
        slot=slot,
        pin=read_secret(hsm, "pin", "hsm", base),
        sessions=_int(hsm, "sessions", "hsm", 4, 1, 64),
        # KMS gives up after 250 ms; answering DependencyTimeoutException before that tells it why.
        operation_timeout_s=_int(hsm, "operation_timeout_ms", "hsm", 200, 10, 60_000) / 1000,
        # Spec: a cached health result must not be older than one minute.
        health_interval_s=_float(hsm, "health_interval_s", "hsm", 5.0, 0.05, 55.0),
        degraded_latency_s=_int(hsm, "degraded_latency_ms", "hsm", 100, 1, 60_000) / 1000,
        key_cache_ttl_s=_float(hsm, "key_cache_ttl_s", "hsm", 2.0, 0.0, 300.0),
        max_queue=_int(hsm, "max_queue", "hsm", 256, 1, 100_000),
        module_env=tuple(sorted(env_raw.items())),
        # A call running this long is stuck: its session is abandoned and a fresh one replaces it.
        stuck_session_s=_float(hsm, "stuck_session_s", "hsm", 5.0, 0.1, 600.0),
        max_replaced_sessions=_int(hsm, "max_replaced_sessions", "hsm", 8, 0, 1000),
        # NIST SP 800-38D 8.3: at most 2^32 encryptions per key with random 96-bit IVs; alert at half.
        encryption_alert_count=_int(hsm, "encryption_alert_count", "hsm", 2**31, 1, 2**32),
        # The hard cap, counted fleet-wide in the HSM by lease objects (hsm.py, GcmBudget): encryption
        # is refused before a key passes it. Each lease reserves ``gcm_lease_block`` invocations.
        gcm_invocation_limit=_int(hsm, "gcm_invocation_limit", "hsm", 2**32, 1, 2**32),
        gcm_lease_block=_int(hsm, "gcm_lease_block", "hsm", 2**24, 1, 2**32),
    )
    if cfg.gcm_lease_block > cfg.gcm_invocation_limit:
        raise ConfigError(
            f"hsm.gcm_lease_block: must not exceed hsm.gcm_invocation_limit ({cfg.gcm_invocation_limit})"
        )
    if cfg.encryption_alert_count > cfg.gcm_invocation_limit:
        raise ConfigError(
            f"hsm.encryption_alert_count: must not exceed hsm.gcm_invocation_limit ({cfg.gcm_invocation_limit})"
        )
    return cfg


def _keystore(raw: Any, idx: int, base: Path) -> KeyStore:  # noqa: PLR0912
    key = f"keystores[{idx}]"
    ks = _mapping(raw, key)
    _known(
        ks,
        key,
        {"name", "path_prefix", "credentials", "allowed_key_ids", "allowed_aws_accounts", "rate_limit_rps"},
    )
    name = _str(ks, "name", key)
    prefix = ks.get("path_prefix", "")
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix) or len(prefix) > MAX_PREFIX:
        raise ConfigError(
            f"{key}.path_prefix: must be '' or '/segment[/segment...]' of a-z A-Z 0-9 - _ , at most "
            f"{MAX_PREFIX} characters (the whole XksProxyUriPath is at most 128), got {prefix!r}"
        )
    creds_raw = ks.get("credentials")
    if not isinstance(creds_raw, list) or not 1 <= len(creds_raw) <= 2:
        raise ConfigError(
            f"{key}.credentials: required, a list of 1 or 2 credential sets (two while rotating)"
        )
    creds: list[Credential] = []
    for cidx, craw in enumerate(creds_raw):
        ckey = f"{key}.credentials[{cidx}]"
        cred = _mapping(craw, ckey)
        _known(
            cred,
            ckey,
            {"access_key_id", "secret_access_key_file", "secret_access_key_env", "secret_access_key"},
        )
        akid = _str(cred, "access_key_id", ckey)
        if not ACCESS_KEY_ID_RE.match(akid):
            raise ConfigError(f"{ckey}.access_key_id: must be 20-30 characters from A-Z and 2-7")
        secret = read_secret(cred, "secret_access_key", ckey, base)
        if not SECRET_RE.match(secret):
            raise ConfigError(
                f"{ckey}: the secret access key must be 43-64 characters from A-Z a-z 0-9 + / = "
                "(e.g. `openssl rand -base64 32`)"
            )
        creds.append(Credential(akid, secret))
    if len(creds) == 2 and creds[0].access_key_id == creds[1].access_key_id:
        raise ConfigError(f"{key}.credentials: the two access key ids must differ")
    keys_raw = ks.get("allowed_key_ids")
    if not isinstance(keys_raw, list) or not keys_raw:
        raise ConfigError(f"{key}.allowed_key_ids: required, a non-empty list of external key ids")
    for kid in keys_raw:
        if not isinstance(kid, str) or not KEY_ID_RE.match(kid):
            raise ConfigError(
                f"{key}.allowed_key_ids: {kid!r} is not a valid key id (1-128 of A-Z a-z 0-9 . - _)"
            )
    accounts_raw = ks.get("allowed_aws_accounts", [])
    if not isinstance(accounts_raw, list):
        raise ConfigError(f"{key}.allowed_aws_accounts: must be a list of 12-digit AWS account ids")
    for acct in accounts_raw:
        if not isinstance(acct, str) or not AWS_ACCOUNT_RE.match(acct):
            raise ConfigError(
                f"{key}.allowed_aws_accounts: {acct!r} is not a 12-digit AWS account id (quote it)"
            )
    rate = ks.get("rate_limit_rps")
    if rate is not None:
        rate = _float(ks, "rate_limit_rps", key, 0, 1, 1_000_000)
    return KeyStore(name, prefix, tuple(creds), frozenset(keys_raw), frozenset(accounts_raw), rate)


def load_config(path: str | os.PathLike[str]) -> ProxyConfig:
    """Parse and validate the YAML file at ``path`` (relative paths inside resolve against its folder)."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--config: file {str(file)!r} does not exist")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config: {file} is not valid YAML: {exc}") from None
    return parse_config(raw, file.resolve().parent)


def load_hsm_config(path: str | os.PathLike[str]) -> HsmConfig:
    """Only the ``hsm:`` section: what key custodian commands need."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--config: file {str(file)!r} does not exist")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config: {file} is not valid YAML: {exc}") from None
    return _hsm(_mapping(raw, "config").get("hsm"), file.resolve().parent)


def parse_config(raw: Any, base: Path) -> ProxyConfig:
    top = _mapping(raw, "config")
    _known(top, "config", {"server", "metrics", "logging", "hsm", "keystores"})
    server = _mapping(top.get("server", {}), "server")
    _known(
        server,
        "server",
        {
            "listen",
            "tls",
            "fleet_size",
            "vendor",
            "max_connections",
            "idle_timeout_s",
            "workers",
            "max_unauthenticated",
            "max_unauthenticated_per_ip",
            "connection_rate_per_ip",
            "handshake_timeout_s",
            "auth_timeout_s",
            "proxy_protocol_from",
            "heartbeat_timeout_s",
        },
    )
    host, port = _listen(server.get("listen", "0.0.0.0:8443"), "server.listen")
    tls = _tls(server.get("tls"), base)
    metrics = _mapping(top.get("metrics", {}), "metrics")
    _known(metrics, "metrics", {"listen"})
    m_host, m_port = _listen(metrics.get("listen", "127.0.0.1:9464"), "metrics.listen")
    if (m_host, m_port) == (host, port) and port != 0:
        raise ConfigError("metrics.listen: must differ from server.listen (metrics are not public)")
    logging_raw = _mapping(top.get("logging", {}), "logging")
    _known(logging_raw, "logging", {"level"})
    level = str(logging_raw.get("level", "INFO")).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"logging.level: one of DEBUG, INFO, WARNING, ERROR, got {level!r}")
    stores_raw = top.get("keystores")
    if not isinstance(stores_raw, list) or not stores_raw:
        raise ConfigError("keystores: required, a non-empty list of logical key stores")
    stores = tuple(_keystore(s, i, base) for i, s in enumerate(stores_raw))
    seen_prefix: set[str] = set()
    seen_akid: set[str] = set()
    seen_name: set[str] = set()
    for i, store in enumerate(stores):
        if store.path_prefix in seen_prefix:
            raise ConfigError(f"keystores[{i}].path_prefix: {store.path_prefix!r} is used twice")
        if store.name in seen_name:
            raise ConfigError(f"keystores[{i}].name: {store.name!r} is used twice")
        seen_prefix.add(store.path_prefix)
        seen_name.add(store.name)
        for cred in store.credentials:
            # Spec: an access key id must identify its secret unambiguously.
            if cred.access_key_id in seen_akid:
                raise ConfigError(f"keystores[{i}].credentials: access key id used by another key store")
            seen_akid.add(cred.access_key_id)
    return ProxyConfig(
        listen_host=host,
        listen_port=port,
        tls=tls,
        metrics_host=m_host,
        metrics_port=m_port,
        fleet_size=_int(server, "fleet_size", "server", 1, 1, 1000),
        vendor=_str(server, "vendor", "server", "sovereign-booking"),
        max_connections=_int(server, "max_connections", "server", 1024, 1, 100_000),
        idle_timeout_s=_float(server, "idle_timeout_s", "server", 60.0, 1.0, 3600.0),
        log_level=level,
        hsm=_hsm(top.get("hsm"), base),
        keystores=stores,
        workers=_int(server, "workers", "server", os.cpu_count() or 1, 1, 256),
        max_unauthenticated=_int(server, "max_unauthenticated", "server", 256, 1, 100_000),
        max_unauthenticated_per_ip=_int(server, "max_unauthenticated_per_ip", "server", 32, 1, 100_000),
        connection_rate_per_ip=_float(server, "connection_rate_per_ip", "server", 50.0, 0.1, 1_000_000),
        handshake_timeout_s=_float(server, "handshake_timeout_s", "server", 3.0, 0.1, 60.0),
        auth_timeout_s=_float(server, "auth_timeout_s", "server", 10.0, 0.5, 600.0),
        proxy_protocol_from=_balancers(server.get("proxy_protocol_from", []), "server.proxy_protocol_from"),
        # A worker whose event loop has not beaten for this long is killed and replaced (workers.py).
        heartbeat_timeout_s=_float(server, "heartbeat_timeout_s", "server", 10.0, 1.0, 300.0),
    )


def _balancers(value: Any, key: str) -> tuple[str, ...]:
    """The load balancers' own addresses whose PROXY protocol v2 header is trusted: addresses, not ranges.

    A range (e.g. the whole private network) would let any host in it claim any client address and so
    escape the per-address limits; each balancer is listed by its address (a /32 or /128 is accepted).
    """
    if not isinstance(value, list):
        raise ConfigError(f"{key}: must be a list of load balancer IP addresses, e.g. ['10.0.0.12']")
    out = []
    for item in value:
        try:
            net = ipaddress.ip_network(item, strict=True)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: {item!r} is not an IP address") from None
        if net.num_addresses != 1:
            raise ConfigError(
                f"{key}: {item!r} is a range; list each load balancer's address (PROXY headers from "
                "other hosts in a range could claim any client address)"
            )
        out.append(str(net.network_address))
    return tuple(out)


#: What a SIGHUP may change; everything else needs a restart (sockets, TLS, HSM session, workers).
RELOADABLE = frozenset({"keystores", "log_level"})


def reload_blockers(running: ProxyConfig, new: ProxyConfig) -> list[str]:
    """Fields that differ between ``running`` and ``new`` and that a reload cannot apply."""
    return [
        f.name
        for f in fields(ProxyConfig)
        if f.name not in RELOADABLE and getattr(running, f.name) != getattr(new, f.name)
    ]


def reload_config(path: str | os.PathLike[str], running: ProxyConfig) -> ProxyConfig:
    """Re-read and validate ``path`` for a reload; ConfigError (one line) if it is invalid or needs a restart."""
    new = load_config(path)
    blocked = reload_blockers(running, new)
    if blocked:
        raise ConfigError(f"reload: {', '.join(blocked)} changed; these take effect only at a restart")
    return new
