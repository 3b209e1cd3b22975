"""Typed, validated stack configuration for the French key store host (``booking:keystore``).

A pydantic v2 model: every problem is collected and reported together, each naming the config key
(``booking:keystore.<field>: <what is wrong>``), in the same form as the platform stacks' config, and
the program stops before it registers a single resource. No secret lives here.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Annotated, Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from facts import xks

FQDN_RE = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
KEY_ID_RE = xks.KEY_ID.pattern
ACCESS_KEY_ID_RE = xks.ACCESS_KEY_ID.pattern
COMMIT_RE = r"^[0-9a-f]{40}$"
PROJECT_ID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
DEBIAN_PACKAGE_RE = r"^[a-z0-9][a-z0-9+.-]+$"
# An allowed-signers line for `git verify-commit` with gpg.format=ssh: principal, key type, base64 key.
SSH_SIGNER_RE = r"^\S+ (ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]{40,}( \S+)?$"
ZONES = ("fr-par-1", "fr-par-2", "fr-par-3")
HSM_KINDS = ("network-hsm", "softhsm")

Zone = Literal["fr-par-1", "fr-par-2", "fr-par-3"]


#: What an unedited example value contains: refused at preview, naming the key.
PLACEHOLDER = "REPLACE"
#: Scaleway's own BGP AS number (a customer gateway must use another one: s2svpn.CustomerGateway docs).
SCALEWAY_ASN = 12876


class PinnedPackage(BaseModel):
    """A vendor package fetched over HTTPS and installed only if its SHA-256 matches."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
    url: Annotated[str, Field(pattern=r"^https://\S+\.deb$")] = Field(
        description="https:// address of the .deb"
    )
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="the package's SHA-256 (64 hex): installed only if it matches"
    )


class HsmPath(BaseModel):
    """The path to the ministry's HSM: a Site-to-Site VPN to its premises, one VPN gateway per zone."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
    kind: Literal["site-to-site-vpn"] = Field(default="site-to-site-vpn", description="site-to-site-vpn")
    customer_gateway_ip: str = Field(description="the ministry's VPN device (public IPv4)")
    customer_asn: Annotated[int, Field(ge=1, le=4294967294)] = Field(
        description="the ministry's BGP AS number (not Scaleway's 12876)"
    )
    gateway_type: Annotated[str, Field(pattern=r"^VGW-[A-Z]+$")] = Field(
        default="VGW-S", description="the Scaleway VPN gateway type, e.g. VGW-S"
    )

    @field_validator("customer_gateway_ip")
    @classmethod
    def _public_ipv4(cls, value: str) -> str:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"must be an IPv4 address (got {value!r})") from None
        if address.version != 4 or not address.is_global:
            raise ValueError(f"must be the ministry's public IPv4 address (got {value!r})")
        return value

    @field_validator("customer_asn")
    @classmethod
    def _not_scaleway(cls, value: int) -> int:
        if value == SCALEWAY_ASN:
            raise ValueError(f"must differ from Scaleway's AS number {SCALEWAY_ASN}")
        return value


def _no_placeholder(value: str, what: str) -> str:
    if PLACEHOLDER in value:
        raise ValueError(f"still holds the example placeholder ({PLACEHOLDER}...): set {what}")
    return value


def _certificates(value: str, what: str) -> list[Any]:
    """The PEM's certificates, parsed (a placeholder or a truncated PEM is refused here, not at boot)."""
    from cryptography import x509

    _no_placeholder(value, what)
    try:
        found = x509.load_pem_x509_certificates(value.encode())
    except ValueError:
        raise ValueError(f"must be a PEM X.509 certificate chain ({what}); it does not parse") from None
    return found


class KeystoreConfigError(ValueError):
    """``booking:keystore`` is invalid. ``problems`` lists each one, key first."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{where}: invalid configuration ({len(problems)} problem(s)):\n{lines}")


def _cidr(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError(f"must be {what} in CIDR notation (got {value!r})") from None


class KeystoreStackConfig(BaseModel):
    """Everything the key store stack needs. The HSM PIN, the SigV4 secret access keys, the TLS
    private key and the Secret Manager reader's API key never pass through here (nor Pulumi)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=True
    )

    project_id: Annotated[str, Field(pattern=PROJECT_ID_RE)] = Field(
        description="the Scaleway project (UUID) of every resource; every IAM rule is scoped to it (Scaleway "
        "requires a project or organization per rule)"
    )
    endpoint_hostname: Annotated[str, Field(pattern=FQDN_RE, max_length=253)] = Field(
        description="the proxy's public name (the AWS stack's booking:xks.uriEndpoint host), a fully qualified name"
    )
    path_prefix: Annotated[str, Field(pattern=r"^(/[A-Za-z0-9_-]+)+$")] = Field(
        default="/keystores/booking-paris",
        description="the URI path before /kms/xks/v1 (the AWS stack's booking:xks.uriPath is <pathPrefix>/kms/xks/v1)",
    )
    zones: Annotated[tuple[Zone, ...], Field(min_length=2, max_length=3)] = Field(
        default=("fr-par-1", "fr-par-2"),
        description="2 or 3 distinct zones of fr-par: one proxy host in each",
    )
    instance_type: Annotated[str, Field(min_length=1)] = Field(
        default="PRO2-XXS", description="the Scaleway instance type of each proxy host"
    )
    image: Annotated[str, Field(min_length=1)] = Field(
        default="debian_bookworm", description="the Scaleway image of each proxy host"
    )
    hsm_module: Annotated[str, Field(pattern=r"^/[^\s]+\.so(\.[0-9.]+)?$")] = Field(
        description="absolute path of the HSM's PKCS#11 client library (.so) on the hosts"
    )
    hsm_token_label: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="label of the HSM token holding the keys, 1 to 32 characters"
    )
    hsm_kind: Literal["network-hsm", "softhsm"] | None = Field(
        default=None, description="network-hsm (production) or softhsm (tests only)"
    )
    hsm_client_packages: tuple[Annotated[str, Field(pattern=DEBIAN_PACKAGE_RE)], ...] = Field(
        default=(),
        description="Debian archive packages installed on the hosts (signed by Debian, fetched over HTTPS), "
        "e.g. softhsm2 for tests",
    )
    hsm_client: tuple[PinnedPackage, ...] = Field(
        default=(),
        description="the HSM vendor's PKCS#11 client as .deb files, each an https URL and its SHA-256 "
        "(required with network-hsm)",
    )
    hsm_cidrs: tuple[str, ...] = Field(
        default=(),
        description="where the network HSM listens (private IPv4 CIDR, outside privateNetworkCidr): the only "
        "destinations the proxy may reach besides the private network",
    )
    hsm_path: HsmPath | None = Field(
        default=None,
        description="how the proxies reach the HSM: a Site-to-Site VPN to the ministry's premises, one VPN "
        "gateway per zone (required with network-hsm; Scaleway sells no PKCS#11 network HSM)",
    )
    dns_zone: Annotated[str, Field(pattern=FQDN_RE, max_length=253)] | None = Field(
        default=None,
        description="the Scaleway Domains zone holding endpointHostname: the stack writes a health-checked "
        "record over the per-zone load balancers (DNS failover); unset: set one up elsewhere",
    )
    allowed_key_ids: Annotated[
        tuple[Annotated[str, Field(pattern=KEY_ID_RE)], ...], Field(min_length=1, max_length=100)
    ] = Field(description="the HSM key ids the proxy serves (the AWS stack's booking:xks.keyIds), distinct")
    access_key_ids: Annotated[
        tuple[Annotated[str, Field(pattern=ACCESS_KEY_ID_RE)], ...], Field(min_length=1, max_length=2)
    ] = Field(
        description="1 or 2 SigV4 access key ids AWS KMS signs with (not secret; their secret keys are "
        "in Secret Manager, never here)"
    )
    tls_certificate_pem: Annotated[str, Field(min_length=1)] = Field(
        description="the proxy's public TLS certificate (PEM; no private key)"
    )
    mtls_client_ca_pem: str | None = Field(
        default=None,
        description="CA certificate (PEM) of the TLS clients accepted (mTLS), with mtlsClientSubject",
    )
    mtls_client_subject: Annotated[str, Field(pattern=FQDN_RE, max_length=253)] | None = Field(
        default=None, description="the only TLS client name accepted, e.g. cks.kms.eu-west-3.amazonaws.com"
    )
    proxy_repository: Annotated[str, Field(pattern=r"^https://\S+$")] = Field(
        description="https:// address of the git repository the hosts install the proxy from"
    )
    #: A full commit id: a tag or branch can be moved to other code after review.
    proxy_ref: Annotated[str, Field(pattern=COMMIT_RE)] = Field(
        description="the full 40-hex commit id to install (a tag or branch can be moved after review)"
    )
    #: SSH allowed-signers lines: the commit must carry a signature by one of them (git verify-commit).
    proxy_commit_signers: Annotated[
        tuple[Annotated[str, Field(pattern=SSH_SIGNER_RE)], ...], Field(min_length=1)
    ] = Field(
        description="SSH allowed-signers lines: the commit must be signed by one of them (git verify-commit)"
    )
    private_network_cidr: str = Field(
        default="172.16.32.0/22", description="the private network's IPv4 range (load balancer and proxies)"
    )
    custodian_cidrs: tuple[str, ...] = Field(
        default=(),
        description="public addresses allowed on the Public Gateway's SSH bastion (the custodian's, to "
        "deliver the Secret Manager reader key out of band); empty: bastion off",
    )

    @field_validator("zones", "allowed_key_ids", "access_key_ids", "proxy_commit_signers")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"must not repeat an entry (got {list(value)!r})")
        return value

    @field_validator("path_prefix")
    @classmethod
    def _uri_path_length(cls, value: str) -> str:
        if len(value + xks.API_PATH) > xks.URI_PATH_LENGTH.stop - 1:
            raise ValueError("makes XksProxyUriPath longer than 128 characters")
        return value

    @field_validator("tls_certificate_pem")
    @classmethod
    def _certificate_only(cls, value: str) -> str:
        if "-----BEGIN CERTIFICATE-----" not in value or "PRIVATE KEY" in value:
            raise ValueError(
                "must be a PEM certificate chain (public CA, for endpointHostname), never a private key"
            )
        _certificates(value, "the proxy's certificate chain for endpointHostname")
        return value

    @field_validator("mtls_client_ca_pem")
    @classmethod
    def _ca(cls, value: str | None) -> str | None:
        if value is not None and ("-----BEGIN CERTIFICATE-----" not in value or "PRIVATE KEY" in value):
            raise ValueError("must be a PEM CA certificate (Amazon Trust Services root)")
        if value is not None:
            _certificates(value, "the CA that signs AWS KMS's client certificate")
        return value

    @field_validator("proxy_commit_signers")
    @classmethod
    def _real_signers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for line in value:
            _no_placeholder(line, "the release signing key's allowed-signers line")
            key_type, blob = line.split()[1:3]
            try:
                raw = base64.b64decode(blob, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("must carry a base64 public key (allowed-signers format)") from None
            # An SSH public key blob starts with its own type name: a made-up string does not.
            length = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
            if raw[4 : 4 + length].decode("ascii", "replace") != key_type:
                raise ValueError(f"the {key_type} key does not decode as an SSH public key of that type")
        return value

    @field_validator("hsm_cidrs", "custodian_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_cidr(v, "an address range") for v in value)

    @field_validator("private_network_cidr")
    @classmethod
    def _private(cls, value: str) -> str:
        net = ipaddress.ip_network(_cidr(value, "an IPv4 range"))
        if net.version != 4 or not net.is_private:
            raise ValueError(f"must be a private IPv4 range (got {value!r})")
        return str(net)

    @model_validator(mode="after")
    def _consistent(self) -> KeystoreStackConfig:
        is_softhsm_module = "softhsm" in self.hsm_module.lower()
        if self.hsm_kind is None:
            object.__setattr__(self, "hsm_kind", "softhsm" if is_softhsm_module else "network-hsm")
        elif is_softhsm_module and self.hsm_kind != "softhsm":
            raise ValueError(f"hsmKind: the module {self.hsm_module} is SoftHSM; hsmKind must be softhsm")
        if self.hsm_kind == "softhsm" and "softhsm2" not in self.hsm_client_packages:
            object.__setattr__(self, "hsm_client_packages", (*self.hsm_client_packages, "softhsm2"))
        if (self.mtls_client_ca_pem is None) != (self.mtls_client_subject is None):
            raise ValueError(
                "mtlsClientCaPem and mtlsClientSubject go together (e.g. cks.kms.eu-west-3.amazonaws.com)"
            )
        if self.hsm_kind == "network-hsm" and not self.hsm_cidrs:
            raise ValueError(
                "hsmCidrs: required for a network HSM (the proxy may reach nothing else outside)"
            )
        if self.hsm_kind == "network-hsm" and self.hsm_path is None:
            raise ValueError(
                "hsmPath: required for a network HSM: how the proxies reach it (a Site-to-Site VPN to the "
                "ministry's premises; Scaleway sells no PKCS#11 network HSM)"
            )
        if self.hsm_kind == "network-hsm" and not self.hsm_client:
            raise ValueError(
                "hsmClient: required for a network HSM: the vendor's PKCS#11 client as .deb files "
                "(https URL + sha256), or the proxy cannot load hsmModule"
            )
        network = ipaddress.ip_network(self.private_network_cidr)
        for cidr in self.hsm_cidrs:
            hsm = ipaddress.ip_network(cidr)
            if hsm.version != 4 or not hsm.is_private or hsm.overlaps(network):
                raise ValueError(
                    f"hsmCidrs: {cidr} must be a private IPv4 range outside privateNetworkCidr (routed "
                    "through the VPN, not the Internet)"
                )
        if len(list(network.subnets(new_prefix=min(network.prefixlen + 2, 28)))) < len(self.zones):
            raise ValueError("privateNetworkCidr: too small for one subnet per zone")
        san = _names_of(self.tls_certificate_pem)
        if san is not None and self.endpoint_hostname not in san:
            raise ValueError(
                f"tlsCertificatePem: does not cover {self.endpoint_hostname} (names: {sorted(san)})"
            )
        if self.dns_zone is not None and not self.endpoint_hostname.endswith(f".{self.dns_zone}"):
            raise ValueError(f"dnsZone: must be the zone holding {self.endpoint_hostname}")
        return self

    def zone_subnets(self) -> dict[str, str]:
        """One IPv4 subnet of privateNetworkCidr per zone: each zone's proxy has its own Private Network."""
        network = ipaddress.ip_network(self.private_network_cidr)
        subnets = list(network.subnets(new_prefix=min(network.prefixlen + 2, 28)))
        return {zone: str(subnets[i]) for i, zone in enumerate(self.zones)}

    def balancer_addresses(self) -> dict[str, dict[str, str]]:
        """Load balancer zone -> {Private Network zone -> the address reserved for it there}.

        Every zone's balancer joins every zone's Private Network (each reaches every proxy). Its address
        on each is reserved in IPAM (``scaleway.ipam.Ip``, handed to the balancer by ``ipam_ids``) so the
        proxies can accept PROXY protocol from exactly these addresses, never from the whole network.
        Host numbers from 10 up stay clear of the gateway and of what IPAM hands out first.
        """
        subnets = self.zone_subnets()
        return {
            lb_zone: {
                net_zone: str(ipaddress.ip_network(subnets[net_zone])[10 + i]) for net_zone in self.zones
            }
            for i, lb_zone in enumerate(self.zones)
        }

    @property
    def software_hsm(self) -> bool:
        return self.hsm_kind == "softhsm"

    @staticmethod
    def from_pulumi_config(cfg: pulumi.Config, key: str = "keystore") -> KeystoreStackConfig:
        raw = cfg.get_object(key)
        if raw is None:
            raise KeystoreConfigError(
                f"booking:{key}",
                [f"booking:{key}: is required (a YAML mapping; see stacks/Pulumi.keystore-paris.yaml)"],
            )
        return KeystoreStackConfig.from_dict(raw, f"booking:{key}")

    @staticmethod
    def from_dict(raw: Any, where: str = "booking:keystore") -> KeystoreStackConfig:
        if not isinstance(raw, dict):
            raise KeystoreConfigError(where, [f"{where}: must be a YAML mapping"])
        try:
            return KeystoreStackConfig.model_validate(_lists_as_tuples(raw))
        except ValidationError as exc:
            raise KeystoreConfigError(where, [_problem(where, err) for err in exc.errors()]) from None


def _names_of(pem: str) -> set[str] | None:
    """DNS names of the leaf certificate (SAN, else CN); None if it cannot be read (refused earlier)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        leaf = x509.load_pem_x509_certificates(pem.encode())[0]
    except ValueError:
        return None
    try:
        return set(
            leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                x509.DNSName
            )
        )
    except x509.ExtensionNotFound:
        return {str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}


def _lists_as_tuples(raw: dict[str, Any]) -> dict[str, Any]:
    # YAML gives lists; strict mode wants the declared tuples (and still refuses "a,b" for a list).
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


_KNOWN = sorted(to_camel(name) for name in KeystoreStackConfig.model_fields)


def _problem(where: str, err: Any) -> str:
    loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
    key = f"{where}.{'.'.join(loc)}" if loc else where
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return f"{key}: is not a known setting (known: {', '.join(_KNOWN)})"
    if kind == "missing":
        return f"{key}: is required"
    if kind == "string_pattern_mismatch":
        return f"{key}: must match {err['ctx']['pattern']} (got {err['input']!r})"
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        if ":" in msg.split(" ", 1)[0]:  # model-level message naming its own key first
            field, _, rest = msg.partition(": ")
            return f"{where}.{field}: {rest}"
        return f"{key}: {msg}" if loc else f"{where}: {msg}"
    return f"{key}: {msg[0].lower()}{msg[1:]} (got {err['input']!r})"
