"""checkov custom checks (``--external-checks-dir policies/checkov/checks``): one per project rule.

They call the rules themselves, never copies: the plan exported by ``policies.outputs.terraform_plan``
embeds the resource model (``pulumi_model``); each check rebuilds the stack from it once per plan
file and fails a resource when the rule reports it. Runs inside checkov's own environment, which
only needs PyYAML besides checkov (the rules use the standard library).
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from checkov.common.models.enums import CheckCategories, CheckResult  # type: ignore[import-not-found]  # noqa: E402
from checkov.terraform.checks.resource.base_resource_check import (  # type: ignore[import-not-found]  # noqa: E402
    BaseResourceCheck,
)

from policies.inputs.plan import stack_from_model_document  # noqa: E402
from policies.outputs.terraform_plan import terraform_type  # noqa: E402
from policies.rules import Rule, all_rules  # noqa: E402
from policies.settings import PolicyConfig  # noqa: E402

#: Every Terraform type the project exports; a check sees only the types it declares.
_SUPPORTED = sorted(
    {
        terraform_type(t)
        for t in (
            __import__("policies.catalog", fromlist=["x"]).AWS_DATA_STORES.keys()
            | __import__("policies.catalog", fromlist=["x"]).SCALEWAY_DATA_STORES.keys()
            | __import__("policies.catalog", fromlist=["x"]).GCP_DATA_STORES.keys()
            | __import__("policies.catalog", fromlist=["x"]).NON_DATA_TYPES
        )
        if not t.startswith(("pulumi", "random"))
    }
    | {"aws_s3_bucket", "aws_opensearch_domain", "aws_s3_bucket_replication_configuration",
       "aws_lb_listener",
       "aws_cloudwatch_log_subscription_filter", "aws_iam_role", "aws_iam_role_policy", "aws_lb",
       "aws_lb_target_group", "aws_lb_listener_rule", "aws_iam_role_policy_attachment",
       "scaleway_datawarehouse_deployment", "scaleway_loadbalancers_frontend", "scaleway_loadbalancers_backend",
       "scaleway_loadbalancers_load_balancer", "scaleway_loadbalancers_ip", "scaleway_loadbalancers_route",
       "scaleway_loadbalancers_certificate", "scaleway_loadbalancers_private_network", "scaleway_network_vpc",
       "scaleway_network_private_network", "scaleway_iam_application", "scaleway_iam_api_key",
       "scaleway_iam_policy", "scaleway_observability_source"}
)  # fmt: skip


@cache
def _violations(plan_file: str, rule_id: str) -> dict[str, list[str]]:
    """URN -> messages for one rule over the stack embedded in one plan file."""
    document = json.loads(Path(plan_file).read_text())
    model = document.get("pulumi_model")
    if not model:
        return {}
    stack = stack_from_model_document(model)
    rule = next(r for r in all_rules() if r.id == rule_id)
    found: dict[str, list[str]] = {}
    first_urn = next((r.urn for r in stack if r.custom and not r.is_provider), "")
    for violation in rule.check(stack, PolicyConfig()):
        # Stack-wide findings (plaintext config) are pinned to the first exported resource.
        urn = (
            violation.resource.urn if violation.resource and not violation.resource.is_provider else first_urn
        )
        found.setdefault(urn, []).append(violation.message)
    return found


class BookingRuleCheck(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._file = ""
        super().__init__(
            name=f"{rule.title} [{rule.id}]",
            id=f"CKV_BK_{rule.id.removeprefix('BK-').replace('-', '_')}",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=_SUPPORTED,
        )

    def run(self, scanned_file: str, entity_configuration: Any, *args: Any, **kwargs: Any) -> Any:
        self._file = scanned_file
        return super().run(scanned_file, entity_configuration, *args, **kwargs)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        urn = conf.get("pulumi_urn")
        urn = urn[0] if isinstance(urn, list) else urn
        # checkov names files relative to the scanned directory, which the runner passes in the environment.
        base = Path(os.environ.get("BOOKING_CHECKOV_PLANS", "."))
        path = self._file if Path(self._file).is_file() else str(base / self._file.lstrip("/"))
        if not urn or not Path(path).is_file():
            return CheckResult.UNKNOWN
        messages = _violations(path, self.rule.id).get(urn)
        if messages:
            self.details = messages
            return CheckResult.FAILED
        return CheckResult.PASSED


#: Mandatory rules only: checkov has no advisory outcome, and every FAILED it reports must be excepted
#: in the register or the audit fails. Advisory rules (BK-KEY-004, BK-PROV-005) are reported by the
#: native engine as warnings, which is what advisory means everywhere else.
CHECKS = [BookingRuleCheck(rule) for rule in all_rules() if rule.topic != "live" and rule.mandatory]
