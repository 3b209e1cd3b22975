"""Typed, validated stack configuration for the French key store host (``booking:keystore``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from facts import xks

FQDN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PREFIX_RE = re.compile(r"^(/[A-Za-z0-9_-]+)+$")
KEY_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
ACCESS_KEY_ID_RE = xks.ACCESS_KEY_ID
ZONES = ("fr-par-1", "fr-par-2", "fr-par-3")
HSM_KINDS = ("network-hsm", "softhsm")
KEYS = {
    "endpointHostname",
    "pathPrefix",
    "zones",
    "instanceType",
    "image",
    "hsmModule",
    "hsmTokenLabel",
    "hsmKind",
    "hsmClientPackages",
    "allowedKeyIds",
    "accessKeyIds",
    "tlsCertificatePem",
    "mtlsClientCaPem",
    "mtlsClientSubject",
    "proxyRepository",
    "proxyRef",
}


class KeystoreConfigError(ValueError):
    """A ``booking:keystore`` value is missing or not allowed; the message names the key."""


@dataclass(frozen=True)
class KeystoreStackConfig:
    """Everything the key store stack needs. No secret lives here: the HSM PIN, the SigV4 secret
    access keys and the TLS private key are put in Scaleway Secret Manager by the key custodian."""

    endpoint_hostname: str
    path_prefix: str
    zones: tuple[str, ...]
    instance_type: str
    image: str
    hsm_module: str
    hsm_token_label: str
    hsm_kind: str
    hsm_client_packages: tuple[str, ...]
    allowed_key_ids: tuple[str, ...]
    access_key_ids: tuple[str, ...]
    tls_certificate_pem: str
    mtls_client_ca_pem: str | None
    mtls_client_subject: str | None
    proxy_repository: str
    proxy_ref: str

    @property
    def software_hsm(self) -> bool:
        return self.hsm_kind == "softhsm"

    @staticmethod
    def from_pulumi_config(cfg: pulumi.Config, key: str = "keystore") -> KeystoreStackConfig:
        raw = cfg.get_object(key)
        if raw is None:
            raise KeystoreConfigError(
                f"booking:{key}: required (an object; see stacks/Pulumi.keystore-paris.yaml)"
            )
        return KeystoreStackConfig.from_dict(raw, f"booking:{key}")

    @staticmethod
    def from_dict(raw: Any, where: str = "booking:keystore") -> KeystoreStackConfig:
        if not isinstance(raw, dict):
            raise KeystoreConfigError(f"{where}: must be an object")
        unknown = sorted(set(raw) - KEYS)
        if unknown:
            raise KeystoreConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(KEYS)}")

        def string(
            name: str, default: str | None = None, pattern: re.Pattern[str] | None = None, what: str = ""
        ) -> str:
            value = raw.get(name, default)
            if not isinstance(value, str) or not value or (pattern is not None and not pattern.match(value)):
                raise KeystoreConfigError(
                    f"{where}.{name}: required, {what or 'a non-empty string'}; got {value!r}"
                )
            return value

        def strings(  # noqa: PLR0917
            name: str, default: list[str] | None, lo: int, hi: int, pattern: re.Pattern[str], what: str
        ) -> tuple[str, ...]:
            value = raw.get(name, default)
            if (
                not isinstance(value, list)
                or not lo <= len(value) <= hi
                or not all(isinstance(v, str) and pattern.match(v) for v in value)
            ):
                raise KeystoreConfigError(f"{where}.{name}: a list of {lo}-{hi} {what}; got {value!r}")
            if len(set(value)) != len(value):
                raise KeystoreConfigError(f"{where}.{name}: duplicate entries in {value!r}")
            return tuple(value)

        hostname = string(
            "endpointHostname",
            pattern=FQDN_RE,
            what="a fully qualified lower-case DNS name (KMS needs an FQDN)",
        )
        prefix = string(
            "pathPrefix", "/keystores/booking-paris", PREFIX_RE, "'/segment[/...]' of A-Z a-z 0-9 - _"
        )
        if len(prefix + xks.API_PATH) > 128:
            raise KeystoreConfigError(f"{where}.pathPrefix: XksProxyUriPath must stay within 128 characters")
        zones = strings(
            "zones",
            ["fr-par-1", "fr-par-2"],
            2,
            3,
            re.compile(r"^fr-par-[123]$"),
            "distinct zones among fr-par-1, fr-par-2, fr-par-3",
        )
        module = string(
            "hsmModule",
            pattern=re.compile(r"^/[^\s]+\.so(\.[0-9.]+)?$"),
            what="the absolute path of the PKCS#11 module (.so)",
        )
        kind = string("hsmKind", "softhsm" if "softhsm" in module.lower() else "network-hsm")
        if kind not in HSM_KINDS:
            raise KeystoreConfigError(f"{where}.hsmKind: one of {HSM_KINDS}; got {kind!r}")
        if "softhsm" in module.lower() and kind != "softhsm":
            raise KeystoreConfigError(
                f"{where}.hsmKind: the module {module} is SoftHSM; hsmKind must be softhsm"
            )
        pem = string(
            "tlsCertificatePem", what="the proxy's PEM certificate chain (public CA, for endpointHostname)"
        )
        if "-----BEGIN CERTIFICATE-----" not in pem or "PRIVATE KEY" in pem:
            raise KeystoreConfigError(
                f"{where}.tlsCertificatePem: a PEM certificate chain, and never a private key"
            )
        ca = raw.get("mtlsClientCaPem")
        subject = raw.get("mtlsClientSubject")
        if (ca is None) != (subject is None):
            raise KeystoreConfigError(
                f"{where}: mtlsClientCaPem and mtlsClientSubject go together (e.g. cks.kms.eu-west-3.amazonaws.com)"
            )
        if ca is not None and (not isinstance(ca, str) or "-----BEGIN CERTIFICATE-----" not in ca):
            raise KeystoreConfigError(
                f"{where}.mtlsClientCaPem: a PEM CA certificate (Amazon Trust Services root)"
            )
        if subject is not None and (not isinstance(subject, str) or not FQDN_RE.match(subject)):
            raise KeystoreConfigError(f"{where}.mtlsClientSubject: a DNS-like common name; got {subject!r}")
        packages = raw.get("hsmClientPackages", [])
        if not isinstance(packages, list) or not all(
            isinstance(p, str) and re.match(r"^[a-z0-9][a-z0-9+.-]+$", p) for p in packages
        ):
            raise KeystoreConfigError(f"{where}.hsmClientPackages: a list of Debian package names")
        if kind == "softhsm" and "softhsm2" not in packages:
            packages = [*packages, "softhsm2"]
        return KeystoreStackConfig(
            endpoint_hostname=hostname,
            path_prefix=prefix,
            zones=zones,
            instance_type=string("instanceType", "PRO2-XXS"),
            image=string("image", "debian_bookworm"),
            hsm_module=module,
            hsm_token_label=string("hsmTokenLabel", pattern=re.compile(r"^.{1,32}$"), what="1-32 characters"),
            hsm_kind=kind,
            hsm_client_packages=tuple(packages),
            allowed_key_ids=strings(
                "allowedKeyIds", None, 1, 100, KEY_ID_RE, "external key ids (A-Z a-z 0-9 . - _)"
            ),
            access_key_ids=strings(
                "accessKeyIds",
                None,
                1,
                2,
                ACCESS_KEY_ID_RE,
                "SigV4 access key ids (20-30 of A-Z 2-7; two while rotating)",
            ),
            tls_certificate_pem=pem,
            mtls_client_ca_pem=ca,
            mtls_client_subject=subject,
            proxy_repository=string(
                "proxyRepository",
                pattern=re.compile(r"^https://\S+$"),
                what="an https:// git URL of this repository",
            ),
            proxy_ref=string(
                "proxyRef",
                pattern=re.compile(r"^[0-9a-f]{40}$|^v?[0-9][\w.-]*$"),
                what="a commit sha or release tag (pinned, never a branch)",
            ),
        )
