"""Alert rules shipped with every key store host, evaluated by a local Prometheus scraping the proxy.

Each host runs Debian's ``prometheus`` package, scraping the proxy's ops port on loopback every 15 s
(the proxy aggregates its workers: one target per host, xks_proxy/metrics.py). The rules cover what
issue 21 asked to be watched: the fleet-wide GCM invocation budget per key, worker restarts and hung
workers, bursts of authentication failures, HSM errors, an unhealthy zone (this host's proxy failing
its health, which the load balancer sees too) and configs that did not reload. Every metric a rule
names is one the proxy exports (tested against a real scrape) or Prometheus's own ``up``; every rule
passes ``promtool check rules`` and the firing ones are tested with ``promtool test rules``.

Where alerts go (Alertmanager, the custodian's on-call) is the operator's choice and not set here.
"""

from __future__ import annotations

import json

SCRAPE_JOB = "xks-proxy"
RULES_PATH = "/etc/prometheus/rules/xks-proxy.yml"
PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml"


def _rule(name: str, expr: str, for_: str, severity: str, summary: str, action: str) -> dict[str, object]:  # noqa: PLR0917
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "action": action},
    }


def alert_rules() -> dict[str, object]:
    """The rule groups, as the YAML document Prometheus reads."""
    budget = "max by (key) (xks_key_gcm_leased_invocations) / scalar(max(xks_key_gcm_invocation_limit))"
    rules = [
        _rule(
            "XksGcmBudgetHalfSpent",
            f"{budget} >= 0.5",
            "0m",
            "warning",
            "Key {{ $labels.key }} has leased half of its GCM invocation budget (NIST SP 800-38D).",
            "Plan its rotation now (docs/xks-proxy.md, 'Rotating an external key').",
        ),
        _rule(
            "XksGcmBudgetNearlySpent",
            f"{budget} >= 0.9",
            "0m",
            "critical",
            "Key {{ $labels.key }} has leased 90 % of its GCM invocation budget; encryption stops at 100 %.",
            "Rotate now: new external key and KMS key, move the aliases, set the old key to decrypt only.",
        ),
        _rule(
            "XksWorkerRestarting",
            "increase(xks_worker_restarts_total[15m]) > 0",
            "0m",
            "warning",
            "The XKS proxy replaced a worker ({{ $labels.reason }}) in the last 15 minutes.",
            "Read the proxy journal for worker_exited / worker_unresponsive and their cause.",
        ),
        _rule(
            "XksWorkerNotAnswering",
            "min(xks_worker_up) == 0",
            "1m",
            "critical",
            "A worker of the XKS proxy has not beaten for a minute and was not replaced.",
            "Check the parent process and the journal; systemd's watchdog restarts a fleet it cannot heal.",
        ),
        _rule(
            "XksAuthenticationFailureBurst",
            'sum(rate(xks_requests_total{status="401"}[5m])) > 1',
            "5m",
            "warning",
            "More than one failed SigV4 authentication per second for 5 minutes.",
            "A credential is wrong after a rotation, or someone is probing: compare access key ids in the log.",
        ),
        _rule(
            "XksHsmErrors",
            'sum(rate(xks_requests_total{status=~"5.."}[5m])) > 0.1 or increase(xks_hsm_replaced_sessions_total[10m]) > 0',
            "2m",
            "critical",
            "The HSM fails or hangs XKS operations (5xx answers or stuck sessions replaced).",
            "Check the HSM link (VPN, HSM cluster) and the proxy's hsm_* log lines.",
        ),
        _rule(
            "XksZoneUnhealthy",
            f'up{{job="{SCRAPE_JOB}"}} == 0 or min(xks_hsm_health) == 0 or min(xks_worker_up) == 0',
            "1m",
            "critical",
            "This zone's key store proxy is unhealthy: the load balancer takes it out of rotation.",
            "The other zone serves alone: restore this one (HSM reachability, proxy service).",
        ),
        _rule(
            "XksConfigReloadFailed",
            "increase(xks_config_reload_failures_total[15m]) > 0",
            "0m",
            "warning",
            "A config reload (SIGHUP) was refused; the proxy still serves the previous config.",
            "Read the reload_failed line: fix the file or restart for changes a reload cannot apply.",
        ),
        _rule(
            "XksConfigGenerationsDiffer",
            "max(xks_config_generation) != min(xks_config_generation)",
            "5m",
            "critical",
            "The proxy's workers serve different config generations.",
            "Restart the proxy service; report it: workers must always converge on the parent's config.",
        ),
    ]
    return {"groups": [{"name": "xks-proxy", "rules": rules}]}


def render_alert_rules() -> str:
    return json.dumps(alert_rules(), indent=2)  # JSON is YAML


def render_prometheus_config(metrics_port: int) -> str:
    return json.dumps(
        {
            "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
            "rule_files": [RULES_PATH],
            "scrape_configs": [
                {"job_name": SCRAPE_JOB, "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
            ],
        },
        indent=2,
    )


def install_script(metrics_port: int) -> str:
    """The cloud-init lines that install the rules and point the local Prometheus at the proxy."""
    return f"""# Monitoring: the local Prometheus scrapes the proxy and evaluates its alert rules (alerts.py).
install -d -m 0755 /etc/prometheus/rules
cat > {RULES_PATH} <<'RULES'
{render_alert_rules()}
RULES
cat > {PROMETHEUS_CONFIG_PATH} <<'PROM'
{render_prometheus_config(metrics_port)}
PROM
promtool check config {PROMETHEUS_CONFIG_PATH}
systemctl restart prometheus.service
"""
