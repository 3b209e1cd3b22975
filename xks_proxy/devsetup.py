"""``python -m xks_proxy dev-setup DIR``: a complete local proxy on SoftHSM2, for evaluation and tests.

Creates, inside DIR only: a SoftHSM2 token with a random PIN (file, mode 0600), a throw-away CA and a
server certificate for localhost, one SigV4 credential in the KMS console's JSON format, an AES-256
key, and a ``config.yaml`` pointing at all of it. Nothing here is fit for production: SoftHSM keeps
keys in files and the CA is self-made. Never commit DIR.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "xks-dev"  # noqa: S105


@dataclass(frozen=True)
class DevSetup:
    directory: Path
    config: Path
    credentials: Path
    ca_cert: Path
    client_cert: Path
    client_key: Path
    key_ids: tuple[str, ...]


def _secret_file(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")


def _cert(
    subject_cn: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    is_ca: bool,
    sans: list[x509.GeneralName],
    client: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not is_ca:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write_pem(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None, cert_path: Path, key_path: Path | None
) -> None:
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None and key_path is not None:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)


def random_access_key_id() -> str:
    # Spec: 20-30 characters from A-Z and 2-7 (base32 alphabet).
    return base64.b32encode(secrets.token_bytes(15)).decode()[:24]


def random_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()  # 44 characters, 256 bits


class UnsafeTargetError(ValueError):
    """The dev-setup directory is not a safe place for key material; the message says why."""


def refuse_tracked_target(directory: Path) -> None:
    """Refuse a directory that git would track: it will hold a PIN, a SigV4 secret and private keys.

    Outside any git work tree, or where git is not installed, there is nothing to refuse. Inside one,
    the directory itself must be ignored (``git check-ignore`` on ``DIR/``), so nothing in it can be
    added by a careless ``git add -A``.
    """
    git = shutil.which("git")
    if git is None:
        return
    probe = directory
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UnsafeTargetError(f"{directory}: {probe} is a file, not a directory")
    top = subprocess.run(  # noqa: S603 - fixed program, no shell
        [git, "-C", str(probe), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    if top.returncode != 0:
        return  # not inside a git work tree
    root = Path(top.stdout.strip()).resolve()
    relative = directory.relative_to(root).as_posix()
    ignored = subprocess.run(  # noqa: S603
        [git, "-C", str(root), "check-ignore", "-q", "--", f"{relative}/"], capture_output=True, check=False
    )
    if ignored.returncode == 1:
        raise UnsafeTargetError(
            f"{directory} is inside the git work tree {root} and not ignored: it would hold a PIN, a "
            "SigV4 secret and private keys; choose a directory outside the work tree or one that "
            ".gitignore covers (such as .xks-dev/)"
        )
    if ignored.returncode != 0:
        raise RuntimeError(f"{directory}: git check-ignore failed: {ignored.stderr.decode().strip()[:200]}")


def init_token_by_terminal(
    env: dict[str, str], label: str, so_pin: str, pin: str, limit_s: float = 30.0
) -> None:
    """``softhsm2-util --init-token`` with the PINs typed at its prompts, never on its command line.

    A command line is readable by every user of the host (``/proc/PID/cmdline``, ``ps``). softhsm2-util
    reads a PIN it was not given from a terminal only (not from a pipe), so it runs on a pseudo-terminal
    and each prompt gets its answer; the program echoes ``*`` only.
    """
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(  # noqa: S603 - fixed program; no secret in its arguments
            ["softhsm2-util", "--init-token", "--free", "--label", label],  # noqa: S607
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    answers = [so_pin, so_pin, pin, pin]
    seen = b""
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the program exited and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if seen.rstrip().endswith(b"PIN:") and answers:
                os.write(master, answers.pop(0).encode() + b"\n")
                seen = b""
        code = proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = -1
    finally:
        os.close(master)
    if code != 0 or answers:
        raise RuntimeError(
            f"softhsm2-util --init-token failed (exit {code}): {seen.decode(errors='replace')[-200:]}"
        )


def dev_setup(  # noqa: PLR0917
    directory: Path,
    key_ids: tuple[str, ...] = ("demo-key-1",),
    path_prefix: str = "/keystores/dev",
    port: int = 8443,
    metrics_port: int = 9464,
    mtls: bool = False,
) -> DevSetup:
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        raise RuntimeError("SoftHSM2 is not installed: apt-get install softhsm2")
    directory = directory.resolve()
    refuse_tracked_target(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    tokens = directory / "tokens"
    if tokens.exists():
        raise RuntimeError(f"{tokens} exists already: choose a new directory")
    tokens.mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin, so_pin = secrets.token_hex(12), secrets.token_hex(12)
    _secret_file(directory / "hsm-pin", pin)
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    init_token_by_terminal(env, TOKEN_LABEL, so_pin, pin)
    ca, ca_key = _cert("xks-dev local CA", None, True, [])
    _write_pem(ca, None, directory / "ca.pem", None)
    server, server_key = _cert(
        "localhost",
        (ca.subject, ca_key),
        False,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    _write_pem(server, server_key, directory / "server.pem", directory / "server-key.pem")
    client, client_key = _cert(
        "cks.kms.eu-west-3.amazonaws.com", (ca.subject, ca_key), False, [], client=True
    )
    _write_pem(client, client_key, directory / "client.pem", directory / "client-key.pem")
    akid, secret = random_access_key_id(), random_secret()
    _secret_file(directory / "sigv4-secret", secret)
    credentials = directory / "credentials.json"
    # The AWS KMS console's "XKS proxy configuration file" format (spec, Other considerations).
    _secret_file(
        credentials,
        json.dumps(
            {
                "XksProxyUriPath": f"{path_prefix}/kms/xks/v1",
                "XksProxyAuthenticationCredential": {"AccessKeyId": akid, "RawSecretAccessKey": secret},
            },
            indent=2,
        ),
    )
    tls: dict[str, str] = {"certificate": "server.pem", "private_key": "server-key.pem"}
    if mtls:
        tls.update(client_ca="ca.pem", client_subject_cn="cks.kms.eu-west-3.amazonaws.com")
    config = {
        "server": {"listen": f"127.0.0.1:{port}", "tls": tls, "fleet_size": 1},
        "metrics": {"listen": f"127.0.0.1:{metrics_port}"},
        "hsm": {
            "module": SOFTHSM_MODULE,
            "module_env": {"SOFTHSM2_CONF": str(conf)},
            "token_label": TOKEN_LABEL,
            "pin_file": "hsm-pin",
        },
        "keystores": [
            {
                "name": "dev",
                "path_prefix": path_prefix,
                "credentials": [{"access_key_id": akid, "secret_access_key_file": "sigv4-secret"}],
                "allowed_key_ids": list(key_ids),
            }
        ],
    }
    config_path = directory / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    from .config import load_hsm_config
    from .keys import KeyCustodian

    custodian = KeyCustodian(load_hsm_config(config_path))
    try:
        for key_id in key_ids:
            custodian.create(key_id)
    finally:
        custodian.close()
    return DevSetup(
        directory,
        config_path,
        credentials,
        directory / "ca.pem",
        directory / "client.pem",
        directory / "client-key.pem",
        key_ids,
    )
