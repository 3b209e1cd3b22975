"""BK-EXP-004: credentials exist only as Pulumi secrets, never in plaintext in config or state."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import is_plain_string
from policies.settings import PolicyConfig

#: Property names that hold credentials: the name ends with one of these words (case-insensitive).
_CREDENTIAL_NAME = re.compile(
    r"(password|passwd|passphrase|secret|secretkey|secretaccesskey|secretstring|secretbinary|token|"
    r"credentials?|privatekey|apikey|connectionstring)$",
    re.IGNORECASE,
)
#: Properties holding a secret's value, by type (their names say nothing).
_VALUE_PROPERTIES = {
    "scaleway:secrets/version:Version": "data",
    "aws:ssm/parameter:Parameter": "value",
    "gcp:secretmanager/secretVersion:SecretVersion": "secretData",
    "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion": "secretData",
}
#: Properties named like credentials that hold a reference to a secret (its id), never its value, by
#: type (S3NS: a Secret Manager version names its secret). Cloud Run's ``secretKeyRef.secret`` is
#: recognised wherever it appears.
_REFERENCES: dict[str, frozenset[str]] = {
    "gcp:secretmanager/secretVersion:SecretVersion": frozenset({"secret"}),
    "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion": frozenset({"secret"}),
}
#: Values that are credentials whatever their name (AWS access keys, PEM private keys).
_CREDENTIAL_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----)")


def _is_credential_name(name: str) -> bool:
    return bool(_CREDENTIAL_NAME.search(name))


def _plaintext(value: Any, path: str, references: frozenset[str] = frozenset()) -> Iterator[str]:
    """Paths of plaintext credentials in a property tree (container environments included)."""
    if isinstance(value, dict):
        # ECS container definitions and similar: {"name": "DB_PASSWORD", "value": "..."}.
        name = value.get("name")
        if isinstance(name, str) and _is_credential_name(name) and is_plain_string(value.get("value")):
            yield f"{path}.{name}"
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if child in references or (key == "secret" and path.endswith("secretKeyRef")):
                continue
            if _is_credential_name(key) and is_plain_string(item):
                yield child
            else:
                yield from _plaintext(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _plaintext(item, f"{path}[{index}]")
    elif isinstance(value, str):
        if _CREDENTIAL_VALUE.search(value):
            yield path
        elif value[:1] in ("[", "{") and ("assword" in value or "ecret" in value or "oken" in value):
            try:
                yield from _plaintext(json.loads(value), path + "(json)")
            except ValueError:
                return


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for key, value in stack.config.items():
        name = key.split(":", 1)[-1]
        if key in stack.secret_config_keys or value == "[secret]":
            continue
        if (_is_credential_name(name) and is_plain_string(value)) or (
            isinstance(value, str) and _CREDENTIAL_VALUE.search(value)
        ):
            yield Violation(f"stack config {key} holds a credential in plaintext")
    for resource in stack:
        value_property = _VALUE_PROPERTIES.get(resource.type)
        if value_property and is_plain_string(resource.get(value_property)):
            yield Violation(
                f"{value_property} is a secret value in plaintext (not a Pulumi secret)", resource
            )
        for path in _plaintext(resource.properties, "", _REFERENCES.get(resource.type, frozenset())):
            yield Violation(f"{path} is a credential in plaintext (not a Pulumi secret)", resource)


RULE = Rule(
    id="BK-EXP-004",
    title="Credentials exist only as Pulumi secrets",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "SNC-3.2-19"),
    remediation=(
        "Set credentials with 'pulumi config set --secret' and pass them as pulumi.Output.secret; prefer "
        "managed secrets (RDS manageMasterUserPassword, Secrets Manager) referenced by ARN in containers."
    ),
    rationale="A plaintext credential in config or state is readable by anyone who reads the state file.",
    check=check,
    scope="stack",
)
