"""KeystoreHost under Pulumi mocks, and its typed stack config (one change per case from a good baseline)."""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest

BASE: dict[str, Any] = {
    "endpointHostname": "xks.cles.sante-exemple.fr",
    "pathPrefix": "/keystores/booking-paris",
    "zones": ["fr-par-1", "fr-par-2"],
    "hsmModule": "/opt/hsm/lib/libcryptoki.so",
    "hsmTokenLabel": "xks",
    "allowedKeyIds": ["booking-db", "booking-docs"],
    "accessKeyIds": ["ABCDEFGHIJKLMNOPQRSTUVWX"],
    "tlsCertificatePem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "proxyRepository": "https://git.example.fr/sovereign-booking.git",
    "proxyRef": "v1.0.0",
}


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        state = dict(args.inputs)
        if args.typ == "scaleway:instance/server:Server":
            state["privateIps"] = [{"id": "x", "address": f"172.16.0.{len(self.resources)}"}]
        if args.typ == "scaleway:iam/apiKey:ApiKey":
            state["secretKey"] = "mock-secret-key-value"
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
    host = KeystoreHost("ks", KeystoreHostArgs(cfg))
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
    (backend,) = by_type(mocks, "scaleway:loadbalancers/backend:Backend")
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


def test_cloud_init_reads_secrets_from_files_and_pins_the_proxy() -> None:
    from components.keystore import KeystoreStackConfig, render_cloud_init, render_proxy_config

    cfg = KeystoreStackConfig.from_dict(copy.deepcopy(BASE))
    proxy_cfg = render_proxy_config(cfg, 2)
    assert '"pin_file": "/run/xks/hsm-pin"' in proxy_cfg and '"fleet_size": 2' in proxy_cfg
    script = render_cloud_init(cfg, 2, "fr-par", {"hsm-pin": "id1"}, "KEY")
    assert (
        "checkout --quiet v1.0.0" in script and "python -m xks_proxy --config /etc/xks/config.yaml" in script
    )
    assert "versions/latest/access" in script


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
        ("hsmModule", "libcryptoki.so", "hsmModule"),
        ("surprise", 1, "unknown key"),
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
