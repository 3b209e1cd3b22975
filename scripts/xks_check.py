#!/usr/bin/env python3
"""Operator acceptance check for any XKS proxy endpoint (this project's or another vendor's).

Signs real requests with botocore's SigV4 signer, as AWS KMS does, and runs: health, key metadata,
an encrypt/decrypt round trip (with AAD and the ciphertext data integrity value), a tampered
ciphertext (must be InvalidCiphertextException) and a bad signature (must be
AuthenticationFailedException). Prints one PASS/FAIL line per step; exits 1 if any step fails.

The SigV4 credential comes from a file in the AWS KMS console's JSON format
({"XksProxyUriPath": ..., "XksProxyAuthenticationCredential": {"AccessKeyId", "RawSecretAccessKey"}})
or from the environment (XKS_ACCESS_KEY_ID, XKS_SECRET_ACCESS_KEY): never from the command line.

    python scripts/xks_check.py --endpoint https://xks.example.fr --credentials creds.json --key-id KEY
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import ssl
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tooling.cli import Parser, run


@dataclass
class Response:
    status: int
    body: dict[str, Any]


class XksClient:
    """A minimal XKS API client: botocore-signed POSTs over one keep-alive HTTPS connection."""

    def __init__(  # noqa: PLR0917
        self,
        endpoint: str,
        uri_path: str,
        access_key_id: str,
        secret: str,
        region: str = "eu-west-3",
        ca_file: str | None = None,
        client_cert: tuple[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"--endpoint: an https:// URL, got {endpoint!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.netloc = parts.netloc
        self.uri_path = uri_path.rstrip("/")
        self.creds = Credentials(access_key_id, secret)
        self.region = region
        self.timeout = timeout
        self.ctx: ssl.SSLContext | None = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context(cafile=ca_file)
            self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if client_cert:
                self.ctx.load_cert_chain(*client_cert)
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            if self.ctx is not None:
                self.conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=self.ctx
                )
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def signed_headers(
        self, path: str, body: bytes, secret: str | None = None, method: str = "POST"
    ) -> dict[str, str]:
        creds = self.creds if secret is None else Credentials(self.creds.access_key, secret)
        req = AWSRequest(
            method=method,
            url=f"{self.scheme}://{self.netloc}{path}",
            data=body,
            headers={"Content-Type": "application/json", "Host": self.netloc},
        )
        SigV4Auth(creds, "kms-xks-proxy", self.region).add_auth(req)
        return dict(req.headers.items())

    def raw(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Response:
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {"raw": data.decode("latin-1")}
        return Response(resp.status, parsed if isinstance(parsed, dict) else {"raw": parsed})

    def call(
        self, operation: str, payload: dict[str, Any], key_id: str | None = None, secret: str | None = None
    ) -> Response:
        path = f"{self.uri_path}/health" if key_id is None else f"{self.uri_path}/keys/{key_id}/{operation}"
        body = json.dumps(payload).encode()
        return self.raw("POST", path, body, self.signed_headers(path, body, secret))


def request_metadata(kms_operation: str, with_key_arn: bool = True) -> dict[str, str]:
    meta = {
        "awsPrincipalArn": "arn:aws:iam::111122223333:role/xks-acceptance-check",
        "kmsOperation": kms_operation,
        "kmsRequestId": str(uuid.uuid4()),
    }
    if with_key_arn:
        meta["kmsKeyArn"] = "arn:aws:kms:eu-west-3:111122223333:key/00000000-0000-0000-0000-000000000000"
    return meta


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def run_checks(client: XksClient, key_id: str) -> list[tuple[str, bool, str]]:
    results: list[tuple[str, bool, str]] = []

    def step(name: str, ok: bool, detail: str) -> None:
        results.append((name, ok, detail))

    try:
        r = client.call(
            "health",
            {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "KmsHealthCheck"}},
        )
        fleet = r.body.get("ekmFleetDetails") or [{}]
        statuses = [d.get("healthStatus") for d in fleet]
        ok = (
            r.status == 200
            and all(s in ("ACTIVE", "DEGRADED") for s in statuses)
            and r.body.get("xksProxyFleetSize", 0) > 0
        )
        step("health", ok, f"HTTP {r.status} ekm={statuses}")

        r = client.call("metadata", {"requestMetadata": request_metadata("DescribeKey")}, key_id)
        ok = (
            r.status == 200
            and r.body.get("keySpec") == "AES_256"
            and {"ENCRYPT", "DECRYPT"} <= set(r.body.get("keyUsage", []))
            and r.body.get("keyStatus") == "ENABLED"
        )
        step("metadata", ok, f"HTTP {r.status} {r.body}")

        plaintext, aad = os.urandom(32), b"acceptance-check:" + os.urandom(8)
        r = client.call(
            "encrypt",
            {
                "requestMetadata": request_metadata("GenerateDataKey"),
                "plaintext": b64(plaintext),
                "additionalAuthenticatedData": b64(aad),
                "encryptionAlgorithm": "AES_GCM",
                "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
            },
            key_id,
        )
        enc = r.body
        ok = r.status == 200 and all(
            k in enc for k in ("ciphertext", "initializationVector", "authenticationTag")
        )
        if ok:
            parts = [aad] + [
                base64.b64decode(enc.get(k, ""))
                for k in ("ciphertextMetadata", "initializationVector", "ciphertext", "authenticationTag")
            ]
            cdiv = b64(hashlib.sha256(b"".join(parts)).digest())
            ok = (
                enc.get("ciphertextDataIntegrityValue") == cdiv
                and len(base64.b64decode(enc["ciphertext"])) == 32
            )
        step("encrypt", ok, f"HTTP {r.status}" + ("" if ok else f" {enc}"))

        dec_payload: dict[str, Any] = {
            "requestMetadata": request_metadata("Decrypt"),
            "additionalAuthenticatedData": b64(aad),
            "encryptionAlgorithm": "AES_GCM",
            "ciphertext": enc.get("ciphertext", ""),
            "initializationVector": enc.get("initializationVector", ""),
            "authenticationTag": enc.get("authenticationTag", ""),
        }
        if "ciphertextMetadata" in enc:
            dec_payload["ciphertextMetadata"] = enc["ciphertextMetadata"]
        r = client.call("decrypt", dec_payload, key_id)
        ok = r.status == 200 and r.body.get("plaintext") == b64(plaintext)
        step("decrypt round trip", ok, f"HTTP {r.status}" + ("" if ok else f" {r.body}"))

        ct = bytearray(base64.b64decode(enc.get("ciphertext", "")) or b"\x00")
        ct[0] ^= 0x01
        r = client.call("decrypt", {**dec_payload, "ciphertext": b64(bytes(ct))}, key_id)
        ok = r.status == 400 and r.body.get("errorName") == "InvalidCiphertextException"
        step("tampered ciphertext rejected", ok, f"HTTP {r.status} {r.body.get('errorName')}")

        wrong = b64(os.urandom(32))
        r = client.call(
            "metadata", {"requestMetadata": request_metadata("DescribeKey")}, key_id, secret=wrong
        )
        ok = r.status == 401 and r.body.get("errorName") == "AuthenticationFailedException"
        step("bad signature rejected", ok, f"HTTP {r.status} {r.body.get('errorName')}")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        step("connection", False, f"{type(exc).__name__}: {exc}")
    return results


def load_credentials(path: str | None) -> tuple[str | None, str, str]:
    if path:
        data = json.loads(Path(path).read_text())
        cred = data["XksProxyAuthenticationCredential"]
        return data.get("XksProxyUriPath"), cred["AccessKeyId"], cred["RawSecretAccessKey"]
    akid, secret = os.environ.get("XKS_ACCESS_KEY_ID"), os.environ.get("XKS_SECRET_ACCESS_KEY")
    if not akid or not secret:
        raise ValueError("--credentials FILE or XKS_ACCESS_KEY_ID and XKS_SECRET_ACCESS_KEY are required")
    return None, akid, secret


def main(argv: list[str] | None = None) -> int:
    p = Parser(prog="xks_check", description=__doc__)
    p.add_argument("--endpoint", required=True, help="https://host[:port] (the XksProxyUriEndpoint)")
    p.add_argument(
        "--uri-path", help="XksProxyUriPath, e.g. /keystores/x/kms/xks/v1 (default: from --credentials)"
    )
    p.add_argument("--credentials", help="KMS console JSON file with the SigV4 credential")
    p.add_argument("--key-id", required=True, help="an external key id the key store allows")
    p.add_argument("--region", default="eu-west-3", help="region in the SigV4 scope (KMS's region)")
    p.add_argument("--ca-file", help="CA bundle to verify the proxy's certificate (default: system store)")
    p.add_argument("--client-cert", help="client certificate PEM for mTLS")
    p.add_argument("--client-key", help="client private key PEM for mTLS")
    args = p.parse_args(argv)
    return run("xks_check", lambda: _check(args), debug=args.debug)


def _check(args: argparse.Namespace) -> int:
    try:
        file_path, akid, secret = load_credentials(args.credentials)
    except (ValueError, KeyError, OSError) as exc:
        print(f"xks_check: error: --credentials {args.credentials}: {exc}", file=sys.stderr)
        return 2
    uri_path = args.uri_path or file_path
    if not uri_path or not uri_path.endswith("/kms/xks/v1"):
        print(
            "xks_check: error: --uri-path (ending in /kms/xks/v1) is required when the credentials file has none",
            file=sys.stderr,
        )
        return 2
    if bool(args.client_cert) != bool(args.client_key):
        print("xks_check: error: --client-cert and --client-key go together", file=sys.stderr)
        return 2
    try:
        client = XksClient(
            args.endpoint,
            uri_path,
            akid,
            secret,
            args.region,
            args.ca_file,
            (args.client_cert, args.client_key) if args.client_cert else None,
        )
    except (ValueError, OSError, ssl.SSLError) as exc:
        print(f"xks_check: error: {exc}", file=sys.stderr)
        return 2
    results = run_checks(client, args.key_id)
    client.close()
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name:30} {detail}")
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
