"""Runs the real Pulumi program offline, under Pulumi's mocks: no cloud account, no Pulumi CLI.

The result is a document in the shape of ``pulumi preview --json`` (``config`` and ``steps[]`` whose
``newState`` carries ``urn``, ``type``, ``custom``, ``inputs``, ``parent`` and ``provider``), so that
every later tool (policies, checkov export, comparison report) reads one format whether the graph
came from here or from a real ``pulumi preview --json``.

Secret values never leave as plaintext: secure config values are replaced by clearly fake
placeholders (still marked secret), and every secret input is written as Pulumi's secret envelope.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.rpc_manager import RPCManager
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from facts import tokens
from facts.providers import home_region
from facts.s3ns import universe_domain
from facts.tokens import CUSTOM_KEY_STORE, KMS_KEY
from stacks import config as stack_config
from tooling.cli import BadInputError, read_yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = PROJECT_ROOT / "stacks"
PROJECT_NAME = "sovereign-booking"

#: Pulumi's marker for a secret value, as found in `pulumi stack export` and the RPC wire format.
SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig

#: Clearly fake values, valid in shape so the program's validation passes. Never real credentials.
PLACEHOLDERS: dict[str, str] = {
    "booking:xksAccessKeyId": "PREVIEWPLACEHOLDERAAAAAAAA",
    "booking:xksSecretAccessKey": "PreviewPlaceholderNotARealSecretAAAAAAAAAAAA",
}

FAKE_ACCOUNT = "000000000000"


class StackNotFoundError(LookupError):
    """No stacks/Pulumi.<name>.yaml for the requested stack."""


class StackFileError(ValueError):
    """A stack file that cannot be read: the message names the file and, where known, the line."""


#: Top-level keys of a Pulumi stack settings file (pulumi.com/docs/iac/concepts/projects/stack-settings-file).
STACK_FILE_KEYS = frozenset({"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})


def _line_of(path: Path, key: str) -> str:
    """``:N`` for the line where a top-level key starts, to point the reader at it."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(f"{key}:"):
            return f":{number}"
    return ""


def stack_names() -> list[str]:
    """Every stack that has a file in stacks/, sorted."""
    return _stack_names(STACKS_DIR)


def _stack_names(stacks_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def read_stack_file(
    stack: str, *, stacks_dir: Path | None = None, project: str = PROJECT_NAME
) -> tuple[dict[str, str], set[str]]:
    """Returns the stack's config as the engine passes it (flat keys, objects as JSON) and its secret keys.

    ``stacks_dir`` and ``project`` default to this project's; another Pulumi project (examples/, a
    platform team's own) passes its stack folder and its name, which un-namespaced keys belong to.
    """
    # Resolved at call time: tests point STACKS_DIR at a folder of their own.
    stacks_dir = STACKS_DIR if stacks_dir is None else stacks_dir
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(_stack_names(stacks_dir)) or "none"
        shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        raise StackNotFoundError(f"unknown stack {stack!r}: no {shown} (known: {known})")
    try:
        document = read_yaml(path, "stack file") or {}
    except BadInputError as error:
        raise StackFileError(str(error)) from error
    if not isinstance(document, dict):
        raise StackFileError(
            f"stack file {path}: must be a YAML mapping with a 'config' mapping, not a {type(document).__name__}"
        )
    unknown = sorted(str(k) for k in document if k not in STACK_FILE_KEYS)
    if unknown:
        raise StackFileError(
            f"stack file {path}: unknown top-level key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(STACK_FILE_KEYS))})"
        )
    if not isinstance(document.get("config") or {}, dict):
        raise StackFileError(
            f"stack file {path}{_line_of(path, 'config')}: 'config' must be a mapping of keys to values, "
            f"not a {type(document['config']).__name__}"
        )
    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for name, value in (document.get("config") or {}).items():
        # A key without namespace belongs to the project, as in Pulumi.
        key = name if ":" in name else f"{project}:{name}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's secrets provider, which is not here: use a fake, keep it secret.
            values[key] = PLACEHOLDERS.get(key, "preview-placeholder-secret")
            secret_keys.add(key)
        elif isinstance(value, str):
            values[key] = value
        else:
            values[key] = json.dumps(value)
    # A secret the stack expects but that is set outside the file (`pulumi config set --secret`).
    target = values.get("booking:target", "")
    for name in stack_config.SECRET_KEYS.get(target, ()):
        key = f"{stack_config.NAMESPACE}:{name}"
        if key not in values:
            values[key] = PLACEHOLDERS[key]
            secret_keys.add(key)
    return values, secret_keys


@dataclass
class _Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)


def _envelope(value: Any) -> Any:
    """Replaces every secret in a deserialized RPC value with Pulumi's secret envelope (no plaintext)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return {SECRET_SIG_KEY: SECRET_SIG}
        return {k: _envelope(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_envelope(v) for v in value]
    return value


class RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, plus a record of every registration as the engine would see it."""

    def __init__(self, mock: mocks.Mocks) -> None:
        super().__init__(mock)
        self.registrations: list[_Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            inputs = {k: v for k, v in _envelope(_wire_secrets(request.object)).items() if k != "__provider"}
            self.registrations.append(
                _Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    provider=request.provider,
                    inputs=inputs,
                    outputs=_envelope(_wire_secrets(response.object)),
                    dependencies=list(request.dependencies),
                )
            )
        return response


def _wire_secrets(struct: Any) -> Any:
    """Converts a protobuf Struct to plain data keeping secret markers where they are on the wire."""
    return json_format.MessageToDict(struct)


class OfflineMocks(mocks.Mocks):
    """Answers registrations with plausible computed outputs (ids, ARNs) so the program can wire parts."""

    def __init__(self, stack: str) -> None:
        self.stack = stack

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        digest = hashlib.sha256(f"{args.typ}/{args.name}".encode()).hexdigest()
        resource_id = f"{args.name}-{digest[:8]}"
        state = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return resource_id, state
        if args.typ.startswith("aws:"):
            region = str(args.inputs.get("region") or home_region("aws"))
            service = args.typ.split(":")[1].split("/")[0]
            state.setdefault("arn", f"arn:aws:{service}:{region}:{FAKE_ACCOUNT}:{args.name}/{resource_id}")
            if args.typ == KMS_KEY:
                key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
                resource_id = key_id
                state["keyId"] = key_id
                state["arn"] = f"arn:aws:kms:{region}:{FAKE_ACCOUNT}:key/{key_id}"
            if args.typ == CUSTOM_KEY_STORE:
                resource_id = f"cks-{digest[:17]}"
            if args.typ == "aws:s3/bucket:Bucket":
                bucket = str(args.inputs.get("bucket") or resource_id)
                resource_id = bucket
                state["bucket"] = bucket
                state["arn"] = f"arn:aws:s3:::{bucket}"
            if args.typ == "aws:rds/instance:Instance":
                secret_arn = f"arn:aws:secretsmanager:{region}:{FAKE_ACCOUNT}:secret:rds!{resource_id}"
                state["masterUserSecrets"] = [{"secretArn": secret_arn, "secretStatus": "active"}]
                state["endpoint"] = f"{resource_id}.{region}.rds.amazonaws.com:5432"
            if args.typ == "aws:lb/loadBalancer:LoadBalancer":
                state["dnsName"] = f"{resource_id}.{region}.elb.amazonaws.com"
        if args.typ.startswith("gcp:"):
            state.update(_gcp_outputs(args.typ, args.name, args.inputs, digest))
            # GCP ids are resource paths (a key's id is what a CMEK setting names).
            resource_id = str(state.get("id") or resource_id)
        if args.typ == "scaleway:containers/container:Container":
            # Scaleway gives each container a default HTTPS endpoint: the custom domains' CNAME target.
            state["publicEndpoint"] = f"https://{resource_id}.functions.fnc.fr-par.scw.cloud"
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = pulumi.Output.secret("preview-placeholder-password")
        # Unset computed names would stay unknown in a preview and hide what references them.
        if not args.typ.startswith("booking:"):
            state.setdefault("name", args.name)
        state.setdefault("id", resource_id)
        return resource_id, state

    def call(self, args: mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override] # the SDK accepts a dict
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":  # noqa: S105 - an invoke token
            return {
                "accountId": FAKE_ACCOUNT,
                "arn": f"arn:aws:iam::{FAKE_ACCOUNT}:root",
                "userId": "preview",
            }
        if args.token == "aws:index/getPartition:getPartition":  # noqa: S105 - an invoke token
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":  # noqa: S105
            return {
                "emailAddress": f"service-{FAKE_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
                "member": f"serviceAccount:service-{FAKE_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
                "id": "preview",
            }
        if args.token == "gcp:logging/getProjectCmekSettings:getProjectCmekSettings":  # noqa: S105
            return {
                "serviceAccountId": f"service-{FAKE_PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com",
                "name": f"projects/{args.args.get('project', 'preview')}/cmekSettings",
                "id": "preview",
            }
        return {}


#: A fake project number for the service agents' addresses in a preview.
FAKE_PROJECT_NUMBER = "000000000000"


def _gcp_outputs(typ: str, name: str, inputs: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """Computed outputs the S3NS component wires together (ids in the provider's own formats).

    Mock inputs arrive camelCase; numbers arrive as floats.
    """
    project = str(inputs.get("project") or "preview")
    location = str(inputs.get("location") or inputs.get("region") or "u-france-east1")
    out: dict[str, Any] = {}
    if typ == tokens.GCP_KMS_KEY_RING:
        out["id"] = f"projects/{project}/locations/{location}/keyRings/{name}"
    elif typ == tokens.GCP_KMS_KEY:
        out["id"] = f"{inputs.get('keyRing')}/cryptoKeys/{name}"
    elif typ == "gcp:projects/serviceIdentity:ServiceIdentity":
        service = str(inputs.get("service", "")).split(".")[0]
        email = f"service-{FAKE_PROJECT_NUMBER}@gcp-sa-{service}.iam.gserviceaccount.com"
        out.update(email=email, member=f"serviceAccount:{email}")
    elif typ == "gcp:serviceaccount/account:Account":
        email = f"{inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
        out.update(email=email, member=f"serviceAccount:{email}")
    elif typ == tokens.GCP_SQL_INSTANCE:
        out.update(
            connectionName=f"{project}:{location}:{name}",
            privateIpAddress="10.21.0.3",
            # A placeholder, not a certificate: what the instance reports once created.
            serverCaCerts=[{"cert": "-----BEGIN CERTIFICATE-----\n(preview)\n-----END CERTIFICATE-----\n"}],
        )
    elif typ == "gcp:secretmanager/regionalSecret:RegionalSecret":
        out["id"] = f"projects/{project}/locations/{location}/secrets/{inputs.get('secretId')}"
        out["name"] = out["id"]
    elif typ == "gcp:kms/ekmConnection:EkmConnection":
        out["id"] = f"projects/{project}/locations/{location}/ekmConnections/{inputs.get('name') or name}"
    elif typ == "gcp:compute/regionSecurityPolicy:RegionSecurityPolicy":
        out["selfLink"] = (
            f"https://compute.{universe_domain()}/compute/v1/projects/{project}/regions/{location}/securityPolicies/{name}"
        )
        out["id"] = f"projects/{project}/regions/{location}/securityPolicies/{name}"
    elif typ == tokens.GCP_SECRET:
        out["id"] = f"projects/{project}/secrets/{inputs.get('secretId')}"
    elif typ == "gcp:compute/address:Address":
        out["address"] = f"203.0.113.{int(digest[:2], 16) % 250 + 1}"
    elif typ.startswith(("gcp:compute/", "gcp:servicenetworking/")):
        out["selfLink"] = f"https://compute.{universe_domain()}/compute/v1/projects/{project}/{name}"
    return out


@dataclass
class Preview:
    """The outcome of one offline preview."""

    stack: str
    document: dict[str, Any]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [step["newState"] for step in self.document["steps"]]


def run_preview(
    stack: str,
    *,
    overrides: Mapping[str, str | None] | None = None,
    secret_overrides: set[str] | None = None,
    monitor: RecordingMonitor | None = None,
) -> Preview:
    """Runs stacks/program.py for ``stack`` under mocks; raises ConfigError on bad config.

    ``overrides`` replaces config values (None removes the key) and ``secret_overrides`` lists which
    of them are secret: tests use them to flip one setting of a shipped stack. Pass ``monitor`` to
    inspect what was registered even when the program fails.
    """
    values, secret_keys = read_stack_file(stack)
    for key, value in (overrides or {}).items():
        secret_keys.discard(key)
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    secret_keys |= secret_overrides or set()
    from stacks import program  # imported late: it imports the components, which is slow

    return run_program(program.main, stack, PROJECT_NAME, values, secret_keys, monitor=monitor)


def run_program(
    main: Callable[[], None],
    stack: str,
    project: str,
    values: Mapping[str, str],
    secret_keys: set[str],
    *,
    monitor: RecordingMonitor | None = None,
) -> Preview:
    """Runs any Pulumi program ``main`` under the mocks with flat config ``values``: this project's
    program (:func:`run_preview`) or another project's (:func:`run_project_preview`)."""
    pulumi.runtime.set_all_config(dict(values), list(secret_keys))
    monitor = monitor or RecordingMonitor(OfflineMocks(stack))
    # A fresh event loop per run: the SDK keeps per-loop state, and a previous run may have left one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks.set_mocks(monitor.mocks, project=project, stack=stack, preview=True, monitor=monitor)
    try:
        _sync_await(run_pulumi_func(main))
    except BaseException:
        # A run that raised (a refused input, say) leaves its outstanding RPCs and output tasks in the
        # SDK's process-wide settings, bound to this run's event loop; set_mocks does not clear them, and
        # the next run in this process would wait on them for ever. Nothing of a failed run is kept.
        pulumi_settings.SETTINGS.rpc_manager = RPCManager()  # type: ignore[no-untyped-call]
        pulumi_settings.SETTINGS.outputs = set()
        raise

    steps = [{"op": "create", "urn": _stack_urn(stack, project), "newState": _stack_state(stack, project)}]
    for reg in monitor.registrations:
        state: dict[str, Any] = {
            "urn": reg.urn,
            "type": reg.type,
            "custom": reg.custom,
            "inputs": reg.inputs,
            # What the mocks computed (ids, ARNs); in a real preview most outputs are still unknown.
            "outputs": reg.outputs,
            "parent": reg.parent or _stack_urn(stack, project),
            "provider": reg.provider,
        }
        if reg.dependencies:
            state["dependencies"] = sorted(set(reg.dependencies))
        steps.append({"op": "create", "urn": reg.urn, "newState": state})
    document = {
        "config": _redacted_config(values, secret_keys),
        "steps": steps,
        "changeSummary": {"create": len(steps)},
    }
    return Preview(stack=stack, document=document)


def _stack_urn(stack: str, project: str = PROJECT_NAME) -> str:
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


def _stack_state(stack: str, project: str = PROJECT_NAME) -> dict[str, Any]:
    return {
        "urn": _stack_urn(stack, project),
        "type": "pulumi:pulumi:Stack",
        "custom": False,
        "inputs": {},
        "outputs": {},
        "parent": "",
        "provider": "",
    }


def _redacted_config(values: Mapping[str, str], secret_keys: set[str]) -> dict[str, Any]:
    """Config as `pulumi preview --json` shows it: secrets as "[secret]"."""
    return {k: ("[secret]" if k in secret_keys else v) for k, v in sorted(values.items())}


def run_project_preview(
    project_dir: Path,
    stack: str,
    *,
    overrides: Mapping[str, str] | None = None,
    secret_overrides: set[str] | None = None,
) -> Preview:
    """Previews another Pulumi Python project (its Pulumi.yaml, its stack file) under the same mocks.

    The program is the project's ``main`` (a file, or a folder's ``__main__.py``), run as the engine
    runs it, as ``__main__``; it imports the components from wherever they are installed. Secrets the
    project sets outside its stack file (``pulumi config set --secret``) are passed in ``overrides``
    and named in ``secret_overrides``.
    """
    import runpy

    manifest = project_dir / "Pulumi.yaml"
    try:
        document = read_yaml(manifest, "project file")
    except BadInputError as error:
        raise StackFileError(str(error)) from error
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise StackFileError(f"project file {manifest}: must be a mapping with a 'name' (the project's name)")
    runtime = document.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise StackFileError(f"project file {manifest}: runtime: must be python (got {runtime_name!r})")
    entry = project_dir / str(document.get("main") or ".")
    if entry.is_dir():
        entry = entry / "__main__.py"
    if not entry.is_file():
        raise StackFileError(f"project file {manifest}: main: {entry} is not a Python file")
    project = document["name"]
    stacks_dir = project_dir / str(document.get("stackConfigDir") or ".")
    values, secret_keys = read_stack_file(stack, stacks_dir=stacks_dir, project=project)
    values.update(overrides or {})
    secret_keys |= secret_overrides or set()

    def main() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    return run_program(main, stack, project, values, secret_keys)
