"""KeystoreHost under Pulumi mocks, and its typed stack config (one change per case from a good baseline)."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import pulumi
import pytest


def _certificate(hostname: str = "xks.cles.sante-exemple.fr") -> str:
    """A self-signed certificate made at run time (its key is dropped): nothing of it is committed."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _signer() -> str:
    """An allowed-signers line for a key made at run time (its private half is dropped)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PrivateKey.generate().public_key()
    key = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"release@example.fr {key}"


CERTIFICATE = _certificate()
SIGNER = _signer()
PROJECT = "6f1c2b9e-3a47-4d58-9b0e-2c7d8e9f0a1b"

BASE: dict[str, Any] = {
    "projectId": PROJECT,
    "endpointHostname": "xks.cles.sante-exemple.fr",
    "pathPrefix": "/keystores/booking-paris",
    "zones": ["fr-par-1", "fr-par-2"],
    "hsmModule": "/opt/hsm/lib/libcryptoki.so",
    "hsmTokenLabel": "xks",
    "allowedKeyIds": ["booking-db", "booking-docs"],
    "accessKeyIds": ["ABCDEFGHIJKLMNOPQRSTUVWX"],
    "tlsCertificatePem": CERTIFICATE,
    "proxyRepository": "https://git.example.fr/sovereign-booking.git",
    "proxyRef": "0123456789abcdef0123456789abcdef01234567",
    "proxyCommitSigners": [SIGNER],
    "hsmCidrs": ["10.20.0.0/28"],
    "hsmClient": [{"url": "https://paquets.example.fr/pkcs11-client_7.4_amd64.deb", "sha256": "ab" * 32}],
    "hsmPath": {"customerGatewayIp": "194.5.187.10", "customerAsn": 65010},
    "custodianCidrs": ["198.51.100.0/29"],
}


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        state = dict(args.inputs)
        if args.typ == "scaleway:instance/server:Server":
            state["privateIps"] = [{"id": "x", "address": f"172.16.0.{len(self.resources)}"}]
        if args.typ == "scaleway:network/publicGatewayIp:PublicGatewayIp":
            state["address"] = "51.159.0.20"
        if args.typ == "scaleway:loadbalancers/ip:Ip":
            state["ipAddress"] = "51.159.0.10"
        return f"fr-par/{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def build(raw: dict[str, Any]) -> tuple[Mocks, dict[str, Any]]:
    from components.keystore import KeystoreHost, KeystoreHostArgs, KeystoreStackConfig

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, preview=False)
    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(raw))
    host = KeystoreHost("ks", KeystoreHostArgs(cfg, project_id=PROJECT))
    out: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def collect() -> Any:
        return pulumi.Output.all(host.endpoint, host.uri_path, host.load_balancer_ip).apply(
            lambda v: out.update(v=v)
        )

    collect()
    return mocks, out


def by_type(mocks: Mocks, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
    return [r for r in mocks.resources if r.typ == typ]


def test_baseline_two_zones_passthrough_lb_and_empty_secrets() -> None:
    mocks, out = build(BASE)
    assert out["v"] == [
        "https://xks.cles.sante-exemple.fr",
        "/keystores/booking-paris/kms/xks/v1",
        "51.159.0.10",
    ]
    servers = by_type(mocks, "scaleway:instance/server:Server")
    assert sorted(s.inputs["zone"] for s in servers) == ["fr-par-1", "fr-par-2"]
    assert all("hsm-kind=network-hsm" in s.inputs["tags"] for s in servers)
    backends = [
        b
        for b in by_type(mocks, "scaleway:loadbalancers/backend:Backend")
        if b.inputs["name"] == "xks-proxies"
    ]
    assert len(backends) == 2  # one load balancer per zone, each reaching every proxy
    for backend in backends:
        assert backend.inputs["forwardProtocol"] == "tcp" and backend.inputs["forwardPort"] == 443
        assert backend.inputs["healthCheckHttp"]["uri"] == "/healthz"
        assert len(backend.inputs["serverIps"]) == 2
    secrets = by_type(mocks, "scaleway:secrets/secret:Secret")
    assert len(secrets) == 3  # PIN, TLS key, one SigV4 secret
    assert not by_type(mocks, "scaleway:secrets/version:Version")  # values never pass through Pulumi
    sgs = by_type(mocks, "scaleway:instance/securityGroup:SecurityGroup")
    assert all(sg.inputs["inboundDefaultPolicy"] == "drop" for sg in sgs)
    components = [r for r in mocks.resources if r.typ == "booking:keystore:KeystoreHost"]
    assert len(components) <= 1


def script(raw: dict[str, Any] | None = None) -> str:
    from components.keystore import KeystoreStackConfig, locked_requirements, render_cloud_init

    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(raw or BASE))
    return render_cloud_init(cfg, 2, "fr-par", {"hsm-pin": "id1"}, locked_requirements())


def test_cloud_init_reads_secrets_from_files_and_runs_the_verified_commit() -> None:
    from components.keystore import KeystoreStackConfig, render_proxy_config

    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(BASE))
    proxy_cfg = render_proxy_config(cfg, 2)
    assert '"pin_file": "/run/xks/hsm-pin"' in proxy_cfg and '"fleet_size": 2' in proxy_cfg
    text = script()
    sha = BASE["proxyRef"]
    assert f"checkout --quiet {sha}" in text and f"verify-commit {sha}" in text
    assert "gpg.ssh.allowedSignersFile=/etc/xks/allowed_signers" in text
    assert BASE["proxyCommitSigners"][0] in text
    assert "versions/latest/access" in text and "python -m xks_proxy --config /etc/xks/config.yaml" in text


def test_hosts_install_exactly_the_locked_versions_by_hash() -> None:
    import hashlib
    import re
    import tomllib

    from components.keystore.supply_chain import LOCK

    text = script()
    lock = {p["name"]: p["version"] for p in tomllib.loads(LOCK.read_text())["package"]}
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs and all(
        "--require-hashes" in line and "--no-deps" in line and "--only-binary=:all:" in line
        for line in installs
    )
    req = text.split("cat > /etc/xks/requirements.txt <<'REQ'\n", 1)[1].split("\nREQ\n", 1)[0]
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", req, re.M))
    for dist in ("botocore", "cryptography", "pyyaml", "python-pkcs11", "h11", "urllib3", "cffi"):
        assert pins[dist] == lock[dist], dist  # the tested versions, not a hand-kept list
    entries = req.split(" \\\n    --hash=")
    assert len(re.findall(r"^[a-z0-9-]+==", req, re.M)) == len(pins)
    assert all(
        re.match(r"^[a-z0-9-]+==\S+ \\$", line) or "--hash=sha256:" in line for line in req.splitlines()
    )
    assert entries and f"{hashlib.sha256(LOCK.read_bytes()).hexdigest()}  /opt/xks/src/uv.lock" in text


def test_proxy_distributions_cover_every_third_party_import_of_the_proxy() -> None:
    import ast
    import sys
    from pathlib import Path

    from components.keystore.supply_chain import IMPORT_NAMES, PROXY_DISTRIBUTIONS

    imported: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "xks_proxy").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "xks_proxy"}
    assert {IMPORT_NAMES.get(m, m) for m in third_party} <= set(PROXY_DISTRIBUTIONS), third_party


def test_no_api_key_in_user_data_state_or_argv() -> None:
    mocks, _ = build(BASE)
    assert not by_type(mocks, "scaleway:iam/apiKey:ApiKey")  # nothing in the state to leak
    everything = json.dumps([r.inputs for r in mocks.resources], default=str)
    assert "secretKey" not in everything and "X-Auth-Token: " not in everything.replace(
        "X-Auth-Token: %s", ""
    )
    (server, *_) = by_type(mocks, "scaleway:instance/server:Server")
    user_data = server.inputs["userData"]["cloud-init"]
    # The reader key reaches curl through a header file, never through argv (/proc/PID/cmdline).
    assert "-H @/run/xks-auth/header" in user_data and "$(cat /etc/xks/scw-secret-key)" not in user_data
    assert "X-Auth-Token: $(" not in user_data
    (policy,) = by_type(mocks, "scaleway:iam/policy:Policy")
    assert policy.inputs["rules"][0]["condition"] == 'inIpRange(request.ip, "51.159.0.20/32")'


def test_hosts_have_no_public_ip_and_egress_is_allow_listed() -> None:
    mocks, _ = build(BASE)
    assert not by_type(mocks, "scaleway:instance/ip:Ip")
    for server in by_type(mocks, "scaleway:instance/server:Server"):
        assert server.inputs.get("enableDynamicIp") is False and "ipId" not in server.inputs
    for sg in by_type(mocks, "scaleway:instance/securityGroup:SecurityGroup"):
        assert sg.inputs["outboundDefaultPolicy"] == "drop"
    gateways = by_type(mocks, "scaleway:network/publicGateway:PublicGateway")
    assert sorted(g.inputs["zone"] for g in gateways) == ["fr-par-1", "fr-par-2"]
    assert all(g.inputs["allowedIpRanges"] == ["198.51.100.0/29"] for g in gateways)
    text = script()
    assert "policy drop;" in text and "meta skuid xks ip daddr 169.254.42.42 drop" in text
    assert "IPAddressDeny=any" in text and "IPAddressAllow=localhost 172.16.32.0/22 10.20.0.0/28" in text
    assert "--local-port 1-1023 -X DELETE http://169.254.42.42/user_data/cloud-init" in text


def test_unit_runs_without_capabilities_with_nofile_limit_and_watchdog() -> None:
    text = script()
    assert "CAP_NET_BIND_SERVICE" not in text
    assert "tcp dport 443 redirect to :8443" in text  # the balancer's 443 reaches the unprivileged port
    assert "CapabilityBoundingSet=\n" in text and "AmbientCapabilities=\n" in text
    assert "LimitNOFILE=65536" in text and "WatchdogSec=30" in text and "Type=notify" in text
    from components.keystore import KeystoreStackConfig, render_proxy_config

    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(BASE))
    server = json.loads(render_proxy_config(cfg, 2))["server"]
    assert server["listen"] == "0.0.0.0:8443"


def test_proxy_protocol_is_trusted_from_the_balancers_reserved_addresses_only() -> None:
    from components.keystore import KeystoreStackConfig, render_proxy_config
    from xks_proxy.config import _balancers

    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(BASE))
    trusted = json.loads(render_proxy_config(cfg, 2))["server"]["proxy_protocol_from"]
    reserved = {a for per_network in cfg.balancer_addresses().values() for a in per_network.values()}
    # Every balancer (one per zone) on every zone's network: 2 x 2 addresses, no range, all in the cells.
    assert sorted(trusted) == sorted(reserved) and len(reserved) == len(cfg.zones) ** 2
    assert _balancers(trusted, "server.proxy_protocol_from") == tuple(trusted)  # the proxy accepts them
    subnets = [ipaddress.ip_network(s) for s in cfg.zone_subnets().values()]
    assert all(any(ipaddress.ip_address(a) in net for net in subnets) for a in trusted)


def test_each_balancer_joins_each_network_with_its_reserved_address() -> None:
    from components.keystore import KeystoreStackConfig

    mocks, _ = build(BASE)
    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(BASE))
    ips = {r.inputs["address"] for r in by_type(mocks, "scaleway:ipam/ip:Ip")}
    assert ips == {a for per_network in cfg.balancer_addresses().values() for a in per_network.values()}
    for lb in by_type(mocks, "scaleway:loadbalancers/loadBalancer:LoadBalancer"):
        networks = lb.inputs["privateNetworks"]
        assert len(networks) == len(cfg.zones) and all(pn.get("ipamIds") for pn in networks), lb.name


def test_load_balancer_passes_tls_through_with_proxy_protocol_v2() -> None:
    mocks, _ = build(BASE)
    for backend in by_type(mocks, "scaleway:loadbalancers/backend:Backend"):
        if backend.inputs["name"] == "xks-proxies":
            assert backend.inputs["proxyProtocol"] == "v2" and backend.inputs["forwardPort"] == 443
        else:  # the health frontend's backend: the ops port, /healthz only
            assert backend.inputs["forwardPort"] == 9464
    ports = sorted(
        f.inputs["inboundPort"] for f in by_type(mocks, "scaleway:loadbalancers/frontend:Frontend")
    )
    assert ports == [443, 443, 8080, 8080]
    for frontend in by_type(mocks, "scaleway:loadbalancers/frontend:Frontend"):
        if frontend.inputs["inboundPort"] == 8080:
            (acl,) = frontend.inputs["acls"]
            assert acl["action"] == {"type": "deny"} and acl["match"]["invert"] is True
            assert acl["match"]["httpFilterValues"] == ["/healthz"]


def test_softhsm_is_flagged() -> None:
    raw = {**BASE, "hsmModule": "/usr/lib/softhsm/libsofthsm2.so"}
    mocks, _ = build(raw)
    servers = by_type(mocks, "scaleway:instance/server:Server")
    assert all("hsm-kind=softhsm" in s.inputs["tags"] for s in servers)
    with pytest.raises(ValueError, match="hsmKind"):
        build({**raw, "hsmKind": "network-hsm"})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("endpointHostname", "51.159.0.10", "endpointHostname"),
        ("zones", ["fr-par-1"], "zones"),
        ("zones", ["fr-par-1", "nl-ams-1"], "zones"),
        ("pathPrefix", "no-slash", "pathPrefix"),
        ("accessKeyIds", ["lowercase-not-allowed-here"], "accessKeyIds"),
        ("accessKeyIds", ["A" * 24, "B" * 24, "C" * 24], "accessKeyIds"),
        ("tlsCertificatePem", "-----BEGIN PRIVATE KEY-----", "tlsCertificatePem"),
        ("proxyRef", "main", "proxyRef"),
        ("proxyRef", "v1.0.0", "proxyRef"),  # a tag can be moved: a full commit id only
        ("proxyRef", "0123456", "proxyRef"),
        ("proxyCommitSigners", [], "proxyCommitSigners"),
        ("proxyCommitSigners", ["not a key"], "proxyCommitSigners"),
        ("hsmCidrs", [], "hsmCidrs"),
        ("hsmCidrs", ["10.20.0.1/28"], "hsmCidrs"),
        ("privateNetworkCidr", "8.8.8.0/24", "privateNetworkCidr"),
        ("hsmModule", "libcryptoki.so", "hsmModule"),
        ("surprise", 1, "surprise: is not a known setting"),
    ],
)
def test_config_errors_name_the_key(key: str, value: Any, message: str) -> None:
    from components.keystore import KeystoreConfigError, KeystoreStackConfig

    with pytest.raises(KeystoreConfigError, match=message):
        KeystoreStackConfig.from_dict({**BASE, key: value})


def test_mtls_settings_go_together() -> None:
    from components.keystore import KeystoreConfigError, KeystoreStackConfig

    with pytest.raises(KeystoreConfigError, match="mtlsClientCaPem and mtlsClientSubject"):
        KeystoreStackConfig.from_dict({**BASE, "mtlsClientSubject": "cks.kms.eu-west-3.amazonaws.com"})


def test_each_zone_is_a_cell_with_its_own_edge_and_path_to_the_hsm() -> None:
    mocks, _ = build(BASE)
    zones = ["fr-par-1", "fr-par-2"]
    for typ in (
        "scaleway:loadbalancers/loadBalancer:LoadBalancer",
        "scaleway:network/publicGateway:PublicGateway",
        "scaleway:s2svpn/gateway:Gateway",
    ):
        assert sorted(r.inputs["zone"] for r in by_type(mocks, typ)) == zones, typ
    networks = by_type(mocks, "scaleway:network/privateNetwork:PrivateNetwork")
    assert sorted(n.inputs["ipv4Subnet"]["subnet"] for n in networks) == ["172.16.32.0/24", "172.16.33.0/24"]
    (policy,) = by_type(mocks, "scaleway:s2svpn/routingPolicy:RoutingPolicy")
    assert policy.inputs["prefixFilterIns"] == ["10.20.0.0/28"]
    tunnels = by_type(mocks, "scaleway:s2svpn/connection:Connection")
    assert len(tunnels) == 2 and all(t.inputs["enableRoutePropagation"] is True for t in tunnels)
    (reader,) = by_type(mocks, "scaleway:iam/policy:Policy")
    assert len(reader.inputs["rules"]) == 2  # one per egress address
    assert all(r["projectIds"] == [PROJECT] for r in reader.inputs["rules"])


def test_backends_take_ipv4_only() -> None:
    from components.keystore.host import first_private_ipv4

    assert first_private_ipv4([{"address": "fd00::5/64"}, {"address": "172.16.32.7/24"}]) == "172.16.32.7"
    assert first_private_ipv4([{"address": "fd00::5/64"}]) == ""


def test_boot_script_installs_the_pinned_client_and_keeps_updates_over_https() -> None:
    text = script()
    assert 'curl -fsSL --proto "=https" -o /tmp/hsm-client-0.deb "https://paquets.example.fr/' in text
    assert f'echo "{"ab" * 32}  /tmp/hsm-client-0.deb" | sha256sum --check --quiet -' in text
    assert "meta skuid _apt tcp dport 443 accept" in text
    assert "s#http://deb.debian.org#https://deb.debian.org#g" in text
    assert 'APT::Periodic::Unattended-Upgrade "1";' in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hsmPath": None}, "hsmPath: required for a network HSM"),
        ({"hsmClient": []}, "hsmClient: required for a network HSM"),
        ({"hsmCidrs": ["172.16.33.0/28"]}, "hsmCidrs: 172.16.33.0/28 must be a private IPv4 range outside"),
        ({"hsmPath": {"customerGatewayIp": "10.0.0.1", "customerAsn": 65010}}, "hsmPath.customerGatewayIp"),
        ({"hsmPath": {"customerGatewayIp": "194.5.187.10", "customerAsn": 12876}}, "hsmPath.customerAsn"),
        ({"hsmClient": [{"url": "http://x.fr/a.deb", "sha256": "ab" * 32}]}, "hsmClient.url"),
        (
            {
                "tlsCertificatePem": "-----BEGIN CERTIFICATE-----\nREPLACE-WITH-IT\n-----END CERTIFICATE-----\n"
            },
            "tlsCertificatePem: still holds the example placeholder",
        ),
        (
            {"tlsCertificatePem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
            "tlsCertificatePem: must be a PEM X.509 certificate chain",
        ),
        ({"tlsCertificatePem": _certificate("other.example.fr")}, "tlsCertificatePem: does not cover"),
        (
            {
                "proxyCommitSigners": [
                    "r@x.fr ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIREPLACEWITHTHERELEASESIGNINGPUBLICKEYxx"
                ]
            },
            "proxyCommitSigners: still holds the example placeholder",
        ),
        (
            {
                "proxyCommitSigners": [
                    "r@x.fr ssh-ed25519 AAAAB3NzaC1yc2EAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                ]
            },
            "proxyCommitSigners: the ssh-ed25519 key does not decode",
        ),
        ({"dnsZone": "autre.fr"}, "dnsZone: must be the zone holding"),
    ],
)
def test_network_hsm_and_placeholders_are_refused_naming_the_key(
    change: dict[str, Any], message: str
) -> None:
    from components.keystore import KeystoreConfigError, KeystoreStackConfig

    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(KeystoreConfigError, match=message):
        KeystoreStackConfig.from_dict(raw)


@pytest.mark.parametrize("value", [None, "default"])
def test_a_missing_project_id_is_refused_naming_the_key(value: str | None) -> None:
    """Every IAM rule needs a project: the key store's is required (the old stack read scaleway:project_id,
    a key the provider does not have, so it was always empty)."""
    from components.keystore import KeystoreConfigError, KeystoreStackConfig

    raw = {k: v for k, v in {**BASE, "projectId": value}.items() if v is not None}
    with pytest.raises(KeystoreConfigError, match=r"booking:keystore\.projectId: (is required|must match)"):
        KeystoreStackConfig.from_dict(raw)
