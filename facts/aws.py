"""AWS constraints of the AWS option, read from ``data/facts/aws.yaml`` (one place).

Which service principal and condition keys each use of a KMS key needs in its key policy, which
account-level resources a stack must not own, what a server-access-log target may be encrypted with,
and the order a custom key store may be deleted in. Every row names a source in the file's
``sources``; a row naming no source, or an unknown one, is refused when the file loads, so a
capability with no source is never assumed. Read by the components (key policies), the stack and the
policies (BK-KEY-006).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facts.resources import data_dir, read_model

AWS_FILE: Final = data_dir() / "facts" / "aws.yaml"


class AwsFactsError(ValueError):
    """The AWS facts file is missing or malformed: the message names the file and the key."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Row):
    url: str = Field(pattern=r"^https://")
    says: str = Field(min_length=20)
    #: What the page read does not establish (the row then fails closed or the docs say what to check).
    gap: str = ""


class Consumer(_Row):
    """A resource type whose property ``key`` (a path) names the key it uses."""

    type: str = Field(pattern=r"^aws:[a-zA-Z0-9]+/[a-zA-Z0-9]+:[A-Za-z0-9]+$")
    key: tuple[str, ...] = Field(min_length=1)


class Statement(_Row):
    actions: tuple[str, ...] = Field(min_length=1)
    #: operator -> condition key -> value template ({region}, {account}, {cluster}, {trail_arn}).
    conditions: dict[str, dict[str, str]]


class KeyUse(_Row):
    source: str
    consumers: tuple[Consumer, ...] = Field(min_length=1)
    #: The service principal the key policy must name (template); None: the use goes through the
    #: caller's IAM permissions and grants, and no service principal may be named for it.
    principal: str | None = None
    statements: tuple[Statement, ...] = ()

    @model_validator(mode="after")
    def _principal_has_statements(self) -> KeyUse:
        if (self.principal is None) != (not self.statements):
            raise ValueError("principal and statements go together (both or neither)")
        return self


class SharedResource(_Row):
    type: str
    name: str
    source: str
    consequence: str


class NamePrefix(_Row):
    prefix: str = Field(min_length=1)
    source: str


class LogTarget(_Row):
    allowed: tuple[str, ...] = Field(min_length=1)
    source: str


class Window(_Row):
    min: int
    max: int
    source: str


class KeyStoreDeletion(_Row):
    source: str
    schedule_window_days: Window
    preconditions: tuple[str, ...] = Field(min_length=1)


class UpdateField(_Row):
    #: The connection resource's input, the UpdateCustomKeyStore parameter, the CustomKeyStore property.
    input: str
    api: str
    pulumi: str


class KeyStoreUpdate(_Row):
    source: str
    disconnect_to_change: tuple[UpdateField, ...] = Field(min_length=1)


ClientCertificateMode = Literal["required", "optional", "off"]


class ClientCertificate(_Row):
    default: ClientCertificateMode
    allowed: tuple[ClientCertificateMode, ...]
    source: str


class AwsFacts(_Row):
    retrieved: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    sources: dict[str, Source]
    key_uses: dict[str, KeyUse]
    shared_resources: tuple[SharedResource, ...]
    log_target_encryption: dict[str, LogTarget]
    log_destination_prefixes: dict[str, NamePrefix]
    key_store_deletion: KeyStoreDeletion
    key_store_update: KeyStoreUpdate
    xks_client_certificate: ClientCertificate

    @model_validator(mode="after")
    def _every_row_sourced(self) -> AwsFacts:
        cited: list[tuple[str, str]] = [(f"key_uses.{n}.source", u.source) for n, u in self.key_uses.items()]
        cited += [(f"shared_resources.{r.name}.source", r.source) for r in self.shared_resources]
        cited += [
            (f"log_target_encryption.{n}.source", t.source) for n, t in self.log_target_encryption.items()
        ]
        cited += [
            ("key_store_deletion.source", self.key_store_deletion.source),
            (
                "key_store_deletion.schedule_window_days.source",
                self.key_store_deletion.schedule_window_days.source,
            ),
            ("xks_client_certificate.source", self.xks_client_certificate.source),
            ("key_store_update.source", self.key_store_update.source),
        ]
        unknown = [f"{where}: {name!r}" for where, name in cited if name not in self.sources]
        if unknown:
            raise ValueError(f"names no source of 'sources' ({'; '.join(unknown)})")
        return self


@cache
def load(path: Path = AWS_FILE) -> AwsFacts:
    """The AWS facts of ``path``, read and checked once per process."""
    return read_model(path, AwsFacts, AwsFactsError)


def key_uses(path: Path = AWS_FILE) -> dict[str, KeyUse]:
    return load(path).key_uses


def fill(template: str, values: Mapping[str, str]) -> str:
    """A template with its {placeholders} replaced; an unknown placeholder is an error, never ''."""
    try:
        return template.format_map(dict(values))
    except KeyError as error:
        raise AwsFactsError(f"{AWS_FILE}: placeholder {error} has no value here") from None


def key_policy_statements(
    uses: list[str], values: Mapping[str, str], path: Path = AWS_FILE
) -> list[dict[str, Any]]:
    """The service statements a key serving ``uses`` needs, in the order of the facts file.

    ``values`` fills the templates (region, account, cluster, trail_arn). Uses served through IAM add
    nothing: the account statement already lets IAM policies grant the key.
    """
    table = key_uses(path)
    unknown = sorted(set(uses) - set(table))
    if unknown:
        raise AwsFactsError(f"{path}: unknown key use(s) {unknown} (known: {', '.join(table)})")
    statements: list[dict[str, Any]] = []
    for name, use in table.items():
        if name not in uses or use.principal is None:
            continue
        for index, statement in enumerate(use.statements, 1):
            entry: dict[str, Any] = {
                "Sid": f"{''.join(part.title() for part in name.split('-'))}{index}",
                "Effect": "Allow",
                "Principal": {"Service": fill(use.principal, values)},
                "Action": list(statement.actions),
                "Resource": "*",
            }
            if statement.conditions:
                entry["Condition"] = {
                    operator: {key: fill(value, values) for key, value in keys.items()}
                    for operator, keys in statement.conditions.items()
                }
            statements.append(entry)
    return statements


def shared_resource_names(type_token: str, path: Path = AWS_FILE) -> frozenset[str]:
    """Names of the account-level resources of ``type_token`` a stack must not own."""
    return frozenset(r.name for r in load(path).shared_resources if r.type == type_token)
