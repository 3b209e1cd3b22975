"""The key store hosts' alert rules (components/keystore/alerts.py): valid, firing, and naming only real metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.keystore.alerts import RULES_PATH, alert_rules, render_alert_rules
from tests.xks_proxy.test_xks_api import encrypt_payload
from tests.xks_proxy.xks_helpers import KEY, RunningProxy

PROMTOOL = shutil.which("promtool") or "promtool"
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package prometheus)"
)
# Prometheus's own series and PromQL words that look like metric names in an expression.
NOT_PROXY_METRICS = {
    "up",
    "max",
    "min",
    "sum",
    "rate",
    "increase",
    "by",
    "or",
    "scalar",
    "job",
    "status",
    "key",
}


def metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    return {name for name in re.findall(r"[a-z_][a-z0-9_]*", without_ranges) if name not in NOT_PROXY_METRICS}


def unknown_metrics(rules: dict[str, Any], exported: set[str]) -> set[str]:
    named = {n for g in rules["groups"] for r in g["rules"] for n in metric_names(r["expr"])}
    return named - exported


def _exported(proxy: RunningProxy) -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    proxy.client().call("encrypt", encrypt_payload(), KEY)  # labelled series appear with their first value
    proxy.server.refresh_gauges()
    text = proxy.server.metrics.render().decode()
    return {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_rules_name_only_metrics_the_proxy_exports(proxy: RunningProxy) -> None:
    exported = _exported(proxy)
    assert unknown_metrics(alert_rules(), exported) == set()
    # The check itself catches a rule on a metric the proxy does not have (a renamed metric, say).
    mutant = alert_rules()
    mutant["groups"][0]["rules"][0]["expr"] = "xks_key_encryptions_count > 0"  # type: ignore[index]
    assert unknown_metrics(mutant, exported) == {"xks_key_encryptions_count"}


@needs_promtool
def test_promtool_checks_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(render_alert_rules())
    done = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alert_rules()['groups'][0]['rules'])} rules found" in done.stdout  # type: ignore[index]
    # A broken expression fails the same check (the check is not vacuous).
    broken = alert_rules()
    broken["groups"][0]["rules"][0]["expr"] = "max by (key) (xks_key_gcm_leased_invocations >= "  # type: ignore[index]
    rules.write_text(yaml.safe_dump(broken))
    bad = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0


@needs_promtool
def test_rules_fire_on_the_series_they_watch(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(render_alert_rules())
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    # Budget: key-a at 60 % (half spent), key-b at 95 % (nearly spent), cap 2^32.
                    {"series": 'xks_key_gcm_leased_invocations{key="key-a"}', "values": "2576980378x10"},
                    {"series": 'xks_key_gcm_leased_invocations{key="key-b"}', "values": "4080218931x10"},
                    {"series": "xks_key_gcm_invocation_limit", "values": "4294967296x10"},
                    # A worker replaced once, while another stays down.
                    {
                        "series": 'xks_worker_restarts_total{reason="exited"}',
                        "values": "0 0 1 1 1 1 1 1 1 1 1",
                    },
                    {"series": 'xks_worker_up{worker="0"}', "values": "1x10"},
                    {"series": 'xks_worker_up{worker="1"}', "values": "1 1 0 0 0 0 0 0 0 0 0"},
                    {"series": "xks_hsm_health", "values": "2x10"},
                    {"series": 'up{job="xks-proxy"}', "values": "1x10"},
                    # 120 failed authentications a minute (2/s).
                    {"series": 'xks_requests_total{status="401"}', "values": "0+120x10"},
                    {"series": 'xks_config_generation{worker="0"}', "values": "1x10"},
                    {"series": 'xks_config_generation{worker="1"}', "values": "1x10"},
                    {"series": "xks_config_reload_failures_total", "values": "0x10"},
                    {"series": "xks_hsm_replaced_sessions_total", "values": "0x10"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "5m",
                        "alertname": "XksGcmBudgetHalfSpent",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "key": "key-a"},
                                "exp_annotations": _ann("XksGcmBudgetHalfSpent", "key-a"),
                            },
                            {
                                "exp_labels": {"severity": "warning", "key": "key-b"},
                                "exp_annotations": _ann("XksGcmBudgetHalfSpent", "key-b"),
                            },
                        ],
                    },
                    {
                        "eval_time": "5m",
                        "alertname": "XksGcmBudgetNearlySpent",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "critical", "key": "key-b"},
                                "exp_annotations": _ann("XksGcmBudgetNearlySpent", "key-b"),
                            }
                        ],
                    },
                    {
                        "eval_time": "5m",
                        "alertname": "XksWorkerRestarting",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "reason": "exited"},
                                "exp_annotations": _ann("XksWorkerRestarting", reason="exited"),
                            }
                        ],
                    },
                    {
                        "eval_time": "5m",
                        "alertname": "XksWorkerNotAnswering",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "critical"},
                                "exp_annotations": _ann("XksWorkerNotAnswering"),
                            }
                        ],
                    },
                    {
                        "eval_time": "9m",
                        "alertname": "XksAuthenticationFailureBurst",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning"},
                                "exp_annotations": _ann("XksAuthenticationFailureBurst"),
                            }
                        ],
                    },
                    {"eval_time": "9m", "alertname": "XksConfigGenerationsDiffer", "exp_alerts": []},
                    {"eval_time": "9m", "alertname": "XksHsmErrors", "exp_alerts": []},
                ],
            }
        ],
    }
    spec = tmp_path / "tests.yml"
    spec.write_text(yaml.safe_dump(tests, sort_keys=False))
    done = subprocess.run([PROMTOOL, "test", "rules", str(spec)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _ann(alert: str, key: str = "", reason: str = "") -> dict[str, str]:
    rule = next(r for r in alert_rules()["groups"][0]["rules"] if r["alert"] == alert)  # type: ignore[index]
    ann = dict(rule["annotations"])
    ann["summary"] = ann["summary"].replace("{{ $labels.key }}", key).replace("{{ $labels.reason }}", reason)
    return ann


def test_hosts_install_the_rules_and_scrape_the_proxy() -> None:
    from tests.xks_proxy.test_keystore_component import script

    text = script()
    assert f"cat > {RULES_PATH} <<'RULES'\n{render_alert_rules()}\nRULES" in text
    assert '"targets": [\n            "127.0.0.1:9464"' in text
    assert "promtool check config /etc/prometheus/prometheus.yml" in text
    assert "prometheus" in text.split("apt-get install -y -q", 1)[1].split("\n", 1)[0]
