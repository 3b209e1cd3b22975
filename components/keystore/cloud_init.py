"""The key store hosts' boot script and systemd units, rendered from the stack config. No secret in them.

What the script does, in order, and why:
1. deletes its own user-data from the metadata API (it holds no secret, but nothing needs it after boot);
2. installs Debian packages (apt over HTTPS) and the HSM vendor's pinned .deb files, then closes
   egress (nftables): afterwards only root (Secret Manager) and apt's ``_apt`` user (security updates)
   may open TCP 443, DNS and NTP leave, the HSM and the private network are reachable, and the
   service user can never reach the metadata API (which hands out user-data to privileged ports);
3. clones the proxy at a full commit id and runs ``git verify-commit`` against the configured SSH
   signers; checks the checkout's ``uv.lock`` is the one the requirements were rendered from;
4. installs the locked requirements with ``pip --require-hashes --no-deps --only-binary=:all:``;
5. writes the proxy config and two units: ``xks-secrets`` (root, oneshot) fetches the custodian's
   secrets into tmpfs with the Secret Manager reader key the custodian delivered out of band to
   ``/etc/xks/scw-secret-key`` (never in user-data, never in a process's argv: curl reads the header
   from a file), and ``xks-proxy`` runs unprivileged on port 8443 with no capability, an IP allow-list
   (systemd ``IPAddressDeny``/``IPAddressAllow``), ``LimitNOFILE`` and a systemd watchdog; nftables
   redirects the load balancer's port 443 to it, so no process needs to bind a privileged port.
"""

from __future__ import annotations

import json

from .alerts import install_script
from .config import KeystoreStackConfig
from .supply_chain import LockedRequirements

PROXY_PORT = 8443  # unprivileged: the service needs no CAP_NET_BIND_SERVICE
BACKEND_PORT = 443  # what the load balancer forwards to; nftables redirects it to PROXY_PORT
METRICS_PORT = 9464
METADATA_IPV4 = "169.254.42.42"  # Scaleway instance metadata API
NOFILE = 65536
WATCHDOG_S = 30


def render_proxy_config(cfg: KeystoreStackConfig, fleet_size: int) -> str:
    """The proxy's config.yaml on each instance: secrets are files in /run/xks (tmpfs), never inline."""
    tls: dict[str, str] = {"certificate": "/etc/xks/server.pem", "private_key": "/run/xks/tls-key.pem"}
    if cfg.mtls_client_ca_pem and cfg.mtls_client_subject:
        tls.update(client_ca="/etc/xks/kms-client-ca.pem", client_subject_cn=cfg.mtls_client_subject)
    doc = {
        "server": {
            "listen": f"0.0.0.0:{PROXY_PORT}",
            "tls": tls,
            "fleet_size": fleet_size,
            # The load balancers send PROXY protocol v2: logs and per-client limits see KMS's address,
            # not a balancer's. Trusted from the balancers' reserved addresses only, never from the
            # whole network (another host there could claim any client address).
            "proxy_protocol_from": sorted(
                {
                    address
                    for per_network in cfg.balancer_addresses().values()
                    for address in per_network.values()
                }
            ),
        },
        # Metrics and the load balancer's /healthz on the private network side only.
        "metrics": {"listen": f"0.0.0.0:{METRICS_PORT}"},
        "hsm": {"module": cfg.hsm_module, "token_label": cfg.hsm_token_label, "pin_file": "/run/xks/hsm-pin"},
        "keystores": [
            {
                "name": "booking",
                "path_prefix": cfg.path_prefix,
                "credentials": [
                    {"access_key_id": akid, "secret_access_key_file": f"/run/xks/sigv4-{akid}"}
                    for akid in cfg.access_key_ids
                ],
                "allowed_key_ids": list(cfg.allowed_key_ids),
            }
        ],
    }
    return json.dumps(doc, indent=2)  # JSON is YAML


def _nftables(cfg: KeystoreStackConfig) -> str:
    allowed = " ".join(
        f"ip daddr {c} accept" for c in (cfg.private_network_cidr, *cfg.hsm_cidrs) if ":" not in c
    )
    return f"""table ip xks_redirect {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport {BACKEND_PORT} redirect to :{PROXY_PORT}
  }}
}}
table inet xks_egress {{
  chain output {{
    type filter hook output priority 0; policy drop;
    oif lo accept
    ct state established,related accept
    meta skuid xks ip daddr {METADATA_IPV4} drop
    meta skuid xks ip6 daddr fd00:42::42 drop
    {allowed}
    udp dport {{ 53, 123 }} accept
    tcp dport 53 accept
    meta skuid 0 tcp dport 443 accept
    meta skuid _apt tcp dport 443 accept
  }}
}}"""


def render_units(cfg: KeystoreStackConfig) -> tuple[str, str]:
    allow = " ".join(["localhost", cfg.private_network_cidr, *cfg.hsm_cidrs])
    secrets_unit = """[Unit]
Description=Fetch the XKS proxy's secrets from Scaleway Secret Manager into /run/xks
After=network-online.target
Wants=network-online.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/opt/xks/fetch-secrets.sh
TimeoutStartSec=infinity
"""
    proxy_unit = f"""[Unit]
Description=AWS KMS XKS proxy (PKCS#11)
After=network-online.target xks-secrets.service
Requires=xks-secrets.service
[Service]
Type=notify
NotifyAccess=main
WatchdogSec={WATCHDOG_S}
ExecStart=/opt/xks/venv/bin/python -m xks_proxy --config /etc/xks/config.yaml
ExecReload=/bin/kill -HUP $MAINPID
Environment=PYTHONPATH=/opt/xks/src
WorkingDirectory=/opt/xks/src
User=xks
LimitNOFILE={NOFILE}
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
IPAddressDeny=any
IPAddressAllow={allow}
Restart=always
RestartSec=2
[Install]
WantedBy=multi-user.target
"""
    return secrets_unit, proxy_unit


def render_cloud_init(
    cfg: KeystoreStackConfig,
    fleet_size: int,
    region: str,
    secret_ids: dict[str, str],
    requirements: LockedRequirements,
) -> str:
    packages = " ".join(
        [
            "python3-venv",
            "git",
            "curl",
            "jq",
            "nftables",
            "unattended-upgrades",
            "prometheus",
            *cfg.hsm_client_packages,
        ]
    )
    # The HSM vendor's PKCS#11 client: fetched over HTTPS, installed only if its SHA-256 is the pinned one.
    vendor = "\n".join(
        f'curl -fsSL --proto "=https" -o /tmp/hsm-client-{i}.deb "{pkg.url}"\n'
        f'echo "{pkg.sha256}  /tmp/hsm-client-{i}.deb" | sha256sum --check --quiet -\n'
        f"apt-get install -y -q /tmp/hsm-client-{i}.deb"
        for i, pkg in enumerate(cfg.hsm_client)
    )
    fetch = "\n".join(f"fetch {sid} /run/xks/{name}" for name, sid in sorted(secret_ids.items()))
    mtls = (
        f"cat > /etc/xks/kms-client-ca.pem <<'PEM'\n{cfg.mtls_client_ca_pem.strip()}\nPEM\n"
        if cfg.mtls_client_ca_pem
        else ""
    )
    signers = "\n".join(cfg.proxy_commit_signers)
    secrets_unit, proxy_unit = render_units(cfg)
    return f"""#!/bin/bash
# cloud-init for the XKS proxy ({cfg.endpoint_hostname}); generated by components/keystore. No secret here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Nothing needs this user-data after boot: delete it from the metadata API (privileged source port).
curl -fsS --local-port 1-1023 -X DELETE http://{METADATA_IPV4}/user_data/cloud-init || echo "user-data not deleted" >&2
# Security updates keep flowing after egress closes: apt's mirrors over HTTPS only, and the _apt user
# may open TCP 443 (nftables below); plain-HTTP mirrors would be dropped.
sed -i 's#http://deb.debian.org#https://deb.debian.org#g; s#http://security.debian.org#https://security.debian.org#g' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true
apt-get update -q && apt-get install -y -q {packages}
{vendor}
printf 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n' > /etc/apt/apt.conf.d/20auto-upgrades
id xks >/dev/null 2>&1 || useradd --system --home /opt/xks --shell /usr/sbin/nologin xks
install -d -m 0755 /opt/xks /etc/xks
# Egress allow-list from here on (packages are installed).
cat > /etc/nftables.conf <<'NFT'
#!/usr/sbin/nft -f
flush ruleset
{_nftables(cfg)}
NFT
systemctl enable --now nftables.service
# The proxy's code: a full commit id, signed by a configured release key, checked before use.
git clone --quiet --no-checkout {cfg.proxy_repository} /opt/xks/src
git -C /opt/xks/src -c advice.detachedHead=false checkout --quiet {cfg.proxy_ref}
cat > /etc/xks/allowed_signers <<'SIGNERS'
{signers}
SIGNERS
git -C /opt/xks/src -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=/etc/xks/allowed_signers verify-commit {cfg.proxy_ref}
test "$(git -C /opt/xks/src rev-parse HEAD)" = "{cfg.proxy_ref}"
echo "{requirements.lock_sha256}  /opt/xks/src/uv.lock" | sha256sum --check --quiet -
# Exactly uv.lock's versions, by hash; no resolution, no build.
cat > /etc/xks/requirements.txt <<'REQ'
{requirements.text.rstrip()}
REQ
python3 -m venv /opt/xks/venv
/opt/xks/venv/bin/pip install --quiet --no-deps --require-hashes --only-binary=:all: -r /etc/xks/requirements.txt
cat > /etc/xks/config.yaml <<'YAML'
{render_proxy_config(cfg, fleet_size)}
YAML
cat > /etc/xks/server.pem <<'PEM'
{cfg.tls_certificate_pem.strip()}
PEM
{mtls}umask 077
cat > /opt/xks/fetch-secrets.sh <<'SH'
#!/bin/bash
# Fetch the custodian's secrets into tmpfs. The Secret Manager reader key is delivered out of band by
# the custodian to /etc/xks/scw-secret-key (root, 0400; short-lived, valid only from this stack's
# egress address); curl reads it from a header file, so it never appears in a process's argv.
set -euo pipefail
umask 077
until [ -s /etc/xks/scw-secret-key ]; do echo "waiting for /etc/xks/scw-secret-key" >&2; sleep 30; done
install -d -m 0700 /run/xks-auth
printf 'X-Auth-Token: %s\\n' "$(</etc/xks/scw-secret-key)" > /run/xks-auth/header
install -d -m 0700 -o xks -g xks /run/xks
fetch() {{
  for i in $(seq 1 60); do
    if curl -fsS -H @/run/xks-auth/header \\
      "https://api.scaleway.com/secret-manager/v1beta1/regions/{region}/secrets/$1/versions/latest/access" \\
      | jq -er .data | base64 -d > "$2.tmp"; then
      install -m 0400 -o xks -g xks "$2.tmp" "$2"; rm -f "$2.tmp"; return 0
    fi
    sleep 10
  done
  echo "secret $1 unavailable" >&2; return 1
}}
{fetch}
rm -rf /run/xks-auth
SH
chmod 0700 /opt/xks/fetch-secrets.sh
cat > /etc/systemd/system/xks-secrets.service <<'UNIT'
{secrets_unit.rstrip()}
UNIT
cat > /etc/systemd/system/xks-proxy.service <<'UNIT'
{proxy_unit.rstrip()}
UNIT
{install_script(METRICS_PORT)}systemctl daemon-reload
systemctl enable --now xks-proxy.service
"""  # noqa: S608
