"""The S3NS option under the rules: its compliant stack passes; each single-property mutant is caught
by the expected rule in preview form and in `pulumi stack export` form; the qualified-perimeter rule
fails the two other options when SecNumCloud is required."""

from __future__ import annotations

import pytest

from policies.audit import audit_export, audit_preview
from policies.settings import PolicyConfig
from tests.policies.policy_mutants import Mutant
from tests.policies.policy_support import as_export, mandatory_failures, preview_document, stack_config
from tests.policies.s3ns_mutants import S3NS, S3NS_MUTANTS

REQUIRED = PolicyConfig().model_copy(update={"secnumcloud_only": True})


def test_compliant_stack_passes_in_both_forms() -> None:
    document = preview_document(S3NS)
    assert audit_preview(document, S3NS).passed
    assert audit_export(as_export(document), S3NS, stack_config=stack_config(document)).passed


def test_at_least_the_required_mutant_kinds_exist() -> None:
    rules = {m.expected_rule for m in S3NS_MUTANTS}
    assert {"BK-ENC-005", "BK-REGION-001", "BK-PROV-002", "BK-EXP-002", "BK-TLS-004", "BK-EXP-004"} <= rules
    assert len({m.name for m in S3NS_MUTANTS}) == len(S3NS_MUTANTS)


@pytest.mark.parametrize("mutant", S3NS_MUTANTS, ids=lambda m: m.name)
def test_mutant_caught_in_preview_form(mutant: Mutant) -> None:
    result = audit_preview(mutant.apply(preview_document(mutant.stack)), mutant.stack)
    failed = mandatory_failures(result)
    assert mutant.expected_rule in failed, (
        f"{mutant.name}: expected {mutant.expected_rule}, got {sorted(failed)}"
    )


@pytest.mark.parametrize("mutant", S3NS_MUTANTS, ids=lambda m: m.name)
def test_mutant_caught_in_export_form(mutant: Mutant) -> None:
    document = mutant.apply(preview_document(mutant.stack))
    result = audit_export(as_export(document), mutant.stack, stack_config=stack_config(document))
    failed = mandatory_failures(result)
    assert mutant.expected_rule in failed, (
        f"{mutant.name}: expected {mutant.expected_rule}, got {sorted(failed)}"
    )


@pytest.mark.parametrize("stack", ["aws-xks-paris", "scaleway-paris"])
def test_other_options_fail_the_perimeter_when_secnumcloud_is_required(stack: str) -> None:
    document = preview_document(stack)
    assert not {f.rule_id for f in audit_preview(document, stack).failed} & {"BK-PROV-002"}
    result = audit_preview(document, stack, config=REQUIRED)
    outside = [f for f in result.failed if f.rule_id == "BK-PROV-002"]
    cloud = [
        s
        for s in document["steps"]
        if s["newState"]["custom"] and not s["newState"]["type"].startswith(("pulumi:", "random:"))
    ]
    assert outside and len(outside) >= len(cloud) - 1


def test_s3ns_passes_the_perimeter_when_required_by_policy_config_too() -> None:
    result = audit_preview(preview_document(S3NS), S3NS, config=REQUIRED)
    assert not [f for f in result.failed if f.rule_id == "BK-PROV-002"]


def test_perimeter_rows_name_dated_sources_and_only_their_package() -> None:
    from facts.providers import by_package, perimeter
    from reporting.facts import load_sources
    from tests.policies.policy_support import ROOT

    sources = load_sources(ROOT / "data")
    rows = by_package()["gcp"].perimeter
    assert rows and by_package()["gcp"].secnumcloud is not None
    for row in rows:
        assert all(s in sources and sources[s].retrieved for s in row.sources), row.service
        assert all(t.startswith("gcp:") for t in row.types)
    assert perimeter("aws") == {} and perimeter("scaleway") == {}
    assert "gcp:pubsub/topic:Topic" not in perimeter("gcp")


def test_external_vpc_through_the_stack_ekm_connection_passes_in_both_forms() -> None:
    """The ministry keeps custody: EXTERNAL_VPC keys through an EKM connection of the stack pass."""
    import base64
    import json
    import os

    from facts.domains import DATA_DOMAINS
    from stacks.offline import run_preview

    body = os.urandom(120)  # a DER-shaped stand-in generated per run: no certificate is committed
    ekm = {
        "hostname": "ekm.ministere.example.fr",
        "serverCertificate": base64.b64encode(bytes([0x30, 0x81, len(body)]) + body).decode(),
        "serviceDirectoryService": "projects/s3ns:booking-sante-prod/locations/u-france-east1/namespaces/ekm/services/hsm",
        "keyPaths": {d: f"v0/booking/{d}" for d in DATA_DOMAINS},
    }
    document = run_preview(
        S3NS, overrides={"booking:keyProtectionLevel": "EXTERNAL_VPC", "booking:ekm": json.dumps(ekm)}
    ).document
    levels = {
        s["newState"]["inputs"]["versionTemplate"]["protectionLevel"]
        for s in document["steps"]
        if s["newState"]["type"] == "gcp:kms/cryptoKey:CryptoKey"
    }
    assert levels == {"EXTERNAL_VPC"}
    assert audit_preview(document, S3NS).passed
    assert audit_export(as_export(document), S3NS, stack_config=stack_config(document)).passed


def test_every_resource_fails_under_a_public_universe_provider() -> None:
    document = preview_document(S3NS)
    for step in document["steps"]:
        if step["newState"]["type"] == "pulumi:providers:gcp":
            step["newState"]["inputs"]["universeDomain"] = "googleapis.com"
    failed = [f for f in audit_preview(document, S3NS).failed if f.rule_id == "BK-PROV-003"]
    gcp_resources = [
        s for s in document["steps"] if s["newState"]["custom"] and s["newState"]["type"].startswith("gcp:")
    ]
    assert len(failed) == len(gcp_resources)


def test_perimeter_rows_on_provider_documentation_are_advisory_findings() -> None:
    result = audit_preview(preview_document(S3NS), S3NS)
    advisory = [f for f in result.failed if f.rule_id == "BK-PROV-005"]
    assert advisory and not any(f.mandatory for f in advisory)
    assert result.passed


@pytest.mark.parametrize(
    "name", ["s3ns-provider-public-universe", "s3ns-default-provider-public-universe", "s3ns-key-hsm"]
)
def test_universe_and_key_mutants_caught_from_the_plan_input(name: str) -> None:
    """The Terraform-plan export embeds the model checkov's custom checks rebuild: same findings there."""
    import json

    from policies.inputs.plan import stack_from_model_document
    from policies.inputs.preview import stack_from_preview
    from policies.outputs.terraform_plan import export
    from policies.rules import all_rules

    mutant = next(m for m in S3NS_MUTANTS if m.name == name)
    plan = json.loads(json.dumps(export(stack_from_preview(mutant.apply(preview_document(S3NS)), S3NS))))
    stack = stack_from_model_document(plan["pulumi_model"])
    rule = next(r for r in all_rules() if r.id == mutant.expected_rule)
    assert list(rule.check(stack, PolicyConfig()))
    baseline = stack_from_model_document(
        export(stack_from_preview(preview_document(S3NS), S3NS))["pulumi_model"]
    )
    assert not list(rule.check(baseline, PolicyConfig()))
