# ruff: noqa: PLR0911 - table-like rule logic reads better whole
"""Exports the model as a Terraform-plan JSON document, for checkov.

pulumi-aws bridges the Terraform AWS provider, so types and properties map: ``aws:s3/bucket:Bucket``
is ``aws_s3_bucket``, ``kmsKeyId`` is ``kms_key_id``. ``planned_values`` carries the values;
``configuration`` carries, for each attribute naming another resource of the stack, a
``references`` expression, so checkov's graph (cross-resource) checks can connect them. Secrets are
never written: they are marked in ``sensitive_values``. The model itself is embedded under
``pulumi_model`` so the project's custom checkov checks can run the very same rules.
"""

from __future__ import annotations

import re
from typing import Any

from policies.model import SECRET, UNKNOWN, Resource, Stack

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
#: Pulumi names that differ from the Terraform ones beyond camelCase -> snake_case.
_TYPE_OVERRIDES = {
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:rds/cluster:Cluster": "aws_rds_cluster",
    "aws:rds/clusterInstance:ClusterInstance": "aws_rds_cluster_instance",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "aws_rds_cluster_parameter_group",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:opensearch/domain:Domain": "aws_opensearch_domain",
}
#: EC2 networking types drop the module in Terraform (aws_vpc, aws_security_group, aws_flow_log, ...).
_MODULE_DROPPED = ("ec2",)
#: Properties that stay maps in Terraform (not blocks).
_MAPS = {"tags", "tagsAll", "environmentVariables", "settings", "initSettings", "variables"}
#: Pulumi pluralises list blocks; Terraform names them in the singular.
_SINGULAR = {
    "rules": "rule", "parameters": "parameter", "defaultActions": "default_action", "copyActions": "copy_action",
    "encryptionConfigurations": "encryption_configuration", "statements": "statement", "replicas": "replica",
    "capacityProviderStrategies": "capacity_provider_strategy", "loadBalancers": "load_balancer",
}  # fmt: skip


#: pulumi-gcp bridges the Terraform google provider (S3NS runs Google Cloud technology): its modules
#: name the google_* types with these prefixes; a few types take another name altogether.
_GCP_MODULES = {
    "cloudrunv2": "cloud_run_v2",
    "secretmanager": "secret_manager",
    "servicenetworking": "service_networking",
    "projects": "project",
}
_GCP_TYPE_OVERRIDES = {
    "gcp:serviceaccount/account:Account": "google_service_account",
    "gcp:projects/serviceIdentity:ServiceIdentity": "google_project_service_identity",
}
#: Block names of the google provider: Terraform keeps most plurals, singularises a few.
_GCP_SINGULAR = {
    "allows": "allow",
    "denies": "deny",
    "hostRules": "host_rule",
    "pathMatchers": "path_matcher",
    "pathRules": "path_rule",
    "backends": "backend",
    "envs": "env",
    "lifecycleRules": "lifecycle_rule",
    "replicas": "replicas",
    "databaseFlags": "database_flags",
    "authorizedNetworks": "authorized_networks",
}
#: google provider maps (not blocks).
_GCP_MAPS = {"labels", "userLabels", "limits", "annotations", "effectiveLabels", "defaultLabels"}
_GCP_IAM = re.compile(r"I[Aa][Mm](?=Member|Binding|Policy)")


class _Naming:
    """How one provider's Pulumi names become Terraform names."""

    def __init__(self, singular: dict[str, str], maps: set[str]) -> None:
        self.singular, self.maps = singular, maps

    def snake(self, name: str, value: Any = None) -> str:
        if isinstance(value, list) and name in _SINGULAR_WHEN_LIST and self.singular is _SINGULAR:
            return _SINGULAR_WHEN_LIST[name]
        return self.singular.get(name) or _CAMEL.sub("_", name).lower()


_AWS_NAMING = _Naming(_SINGULAR, _MAPS)
_GCP_NAMING = _Naming(_GCP_SINGULAR, _GCP_MAPS)


def _naming(package: str) -> _Naming:
    return _GCP_NAMING if package == "gcp" else _AWS_NAMING


def terraform_type(type_token: str) -> str:
    if type_token in _TYPE_OVERRIDES:
        return _TYPE_OVERRIDES[type_token]
    if type_token in _GCP_TYPE_OVERRIDES:
        return _GCP_TYPE_OVERRIDES[type_token]
    package, middle, _ = type_token.split(":", 2)
    module, _, name = middle.partition("/")
    snake = _CAMEL.sub("_", _GCP_IAM.sub("Iam", name) if package == "gcp" else name).lower()
    if package == "aws" and module in _MODULE_DROPPED:
        return f"aws_{snake}"
    if package == "gcp":
        return f"google_{_GCP_MODULES.get(module, module.lower())}_{snake}"
    return f"{package}_{module.lower()}_{snake}" if module != "index" else f"{package}_{snake}"


#: Names that are a map in one resource type and a list of blocks in another (Scaleway database
#: ``settings`` is a map; ECS cluster ``settings`` is Terraform's repeated ``setting`` block).
_SINGULAR_WHEN_LIST = {"settings": "setting"}


def _snake(name: str, value: Any = None) -> str:
    return _AWS_NAMING.snake(name, value)


def _values(value: Any, key: str = "", naming: _Naming = _AWS_NAMING) -> tuple[Any, Any]:
    """(terraform value, sensitive marker) for a model value."""
    if value is SECRET:
        return None, True
    if isinstance(value, str) and value == UNKNOWN:
        return None, False
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        sensitive: dict[str, Any] = {}
        for k, v in value.items():
            converted, marker = _values(v, k, naming)
            name = k if key in naming.maps else naming.snake(k, v)
            if converted is not None:
                out[name] = converted
            if marker:
                sensitive[name] = marker
        if key and key not in naming.maps:
            return [out], ([sensitive] if sensitive else False)
        return out, (sensitive or False)
    if isinstance(value, list):
        items = [_values(v, "", naming) for v in value]
        converted_list = []
        for (converted, _), original in zip(items, value, strict=True):
            # A list of objects: each object is one block, not a block inside a list.
            converted_list.append(
                converted[0] if isinstance(original, dict) and isinstance(converted, list) else converted
            )
        markers = [m for _, m in items]
        return converted_list, (markers if any(markers) else False)
    if isinstance(value, float) and value.is_integer():
        return int(value), False
    return value, False


def _address(resource: Resource, names: dict[str, str]) -> str:
    return names[resource.urn]


def _identifiers(resource: Resource) -> set[str]:
    found = {resource.id} if resource.id else set()
    for key in ("arn", "id", "bucket", "name", "keyId", "customKeyStoreId"):
        value = resource.properties.get(key)
        if isinstance(value, str) and value and value != UNKNOWN:
            found.add(value)
    return found


def _expressions(value: Any, targets: dict[str, str], naming: _Naming = _AWS_NAMING) -> Any:
    """Terraform configuration expressions: references where a value names a resource of the stack."""
    if isinstance(value, dict):
        return {
            k if k in naming.maps and not isinstance(v, list) else naming.snake(k, v): _expressions(
                v, targets, naming
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expressions(v, targets, naming) for v in value]
    if isinstance(value, str) and value in targets:
        return {"references": [f"{targets[value]}.id", targets[value]]}
    if value is SECRET:
        return {}
    return {"constant_value": value}


def export(stack: Stack) -> dict[str, Any]:
    """The Terraform-plan JSON (format 1.2) of the stack's custom resources."""
    names: dict[str, str] = {}
    used: set[str] = set()
    exported = [
        r for r in stack if r.custom and not r.is_provider and not r.type.startswith("pulumi-python:")
    ]
    for resource in exported:
        tf_type = terraform_type(resource.type)
        local = re.sub(r"[^a-zA-Z0-9_]", "_", resource.name) or "r"
        address = f"{tf_type}.{local}"
        while address in used:
            address += "_"
        used.add(address)
        names[resource.urn] = address
    targets: dict[str, str] = {}
    for resource in exported:
        for ident in _identifiers(resource):
            targets.setdefault(ident, names[resource.urn])
    planned = []
    configured = []
    changes = []
    for resource in exported:
        address = names[resource.urn]
        tf_type, local = address.split(".", 1)
        naming = _naming(resource.package)
        values, sensitive = _values(dict(resource.properties), naming=naming)
        values["pulumi_urn"] = resource.urn
        if resource.region:
            values.setdefault("region", resource.region)
        provider = (
            f"registry.terraform.io/hashicorp/{'google' if resource.package == 'gcp' else resource.package}"
        )
        entry = {"address": address, "mode": "managed", "type": tf_type, "name": local, "provider_name": provider,
                 "schema_version": 0, "values": values, "sensitive_values": sensitive or {}}  # fmt: skip
        planned.append(entry)
        own = {k: v for k, v in targets.items() if v != address}
        expressions = _expressions(dict(resource.properties), own, naming)
        # Dependencies the values cannot show (unknown ids in a preview) still connect the graph.
        for dependency in resource.dependencies:
            if dependency in names and names[dependency] != address:
                expressions.setdefault("depends_on_pulumi", {"references": []})["references"].append(
                    names[dependency]
                )
        configured.append({"address": address, "mode": "managed", "type": tf_type, "name": local,
                           "provider_config_key": resource.package, "expressions": expressions, "schema_version": 0})  # fmt: skip
        changes.append({"address": address, "mode": "managed", "type": tf_type, "name": local, "provider_name": provider,
                        "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": {},
                                   "before_sensitive": False, "after_sensitive": sensitive or {}}})  # fmt: skip
    regions = {r.package: r.region for r in stack if r.is_provider and r.region}
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                package: {"name": package, "expressions": {"region": {"constant_value": region}}}
                for package, region in regions.items()
            },
            "root_module": {"resources": configured},
        },
        "pulumi_model": model_document(stack),
    }


def model_document(stack: Stack) -> dict[str, Any]:
    """The model as JSON (secrets as the envelope without value), for the custom checkov checks."""
    from policies.model import SECRET_SIG, SIG_KEY

    def encode(value: Any) -> Any:
        if value is SECRET:
            return {SIG_KEY: SECRET_SIG}
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    return {
        "stack": stack.name,
        "config": dict(stack.config),
        "secret_config_keys": sorted(stack.secret_config_keys),
        "resources": [
            {"type": r.type, "name": r.name, "urn": r.urn, "properties": encode(dict(r.properties)),
             "provider": r.provider, "provider_urn": r.provider_urn, "region": r.region, "parent": r.parent,
             "custom": r.custom, "dependencies": list(r.dependencies), "id": r.id}
            for r in stack
        ],
    }  # fmt: skip
