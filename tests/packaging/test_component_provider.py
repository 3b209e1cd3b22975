"""The component package: its schema (served over gRPC by the PulumiPlugin.yaml entry) and Construct.

Construct runs under the same mocks as the offline preview, with the inputs a consumer would send
(the shipped stack file's values, integers as floats, the credential as a secret), and must register
exactly what the Python program registers for that stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pulumi
import pytest
from google.protobuf import empty_pb2
from pulumi.provider.experimental.util import camel_case
from pulumi.provider.server import ComponentInitError
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components import __version__
from stacks import component_provider as cp
from stacks import config
from stacks.config_docs import describe
from stacks.offline import OfflineMocks, RecordingMonitor, read_stack_file, run_preview, run_program
from tests.packaging.conftest import ROOT

#: Component -> the shipped stack whose Python program it must match.
STACKS = {
    "AwsBookingPlatform": "aws-xks-paris",
    "ScalewayBookingPlatform": "scaleway-paris",
    "S3nsBookingPlatform": "s3ns-secnumcloud",
    "KeystoreHost": "keystore-paris",
}
#: The name the Python program gives the component of each stack (the Construct uses the same).
NAMES = {"KeystoreHost": "keystore"}
#: Stack keys that are not component inputs: the target chooses the component; requireSecNumCloud is
#: read by the policies, not by the platform.
NOT_INPUTS = {"target", "require_sec_num_cloud"}


@pytest.fixture(scope="module")
def served_schema() -> Iterator[dict[str, Any]]:
    """GetSchema from the entry PulumiPlugin.yaml names, as the engine starts it (port on stdout)."""
    plugin = (ROOT / "PulumiPlugin.yaml").read_text(encoding="utf-8")
    entry = next(line.split(":", 1)[1].strip() for line in plugin.splitlines() if line.startswith("main:"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / entry), "127.0.0.1:1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        assert line.isdigit(), (
            f"no port printed: {line!r} {process.stderr.read().decode() if process.stderr else ''}"
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0))
        info = stub.GetPluginInfo(empty_pb2.Empty())
        assert info.version == __version__
        channel.close()
        yield json.loads(response.schema)
    finally:
        process.kill()
        process.wait(timeout=30)


def _model_fields(model: type[Any]) -> dict[str, Any]:
    return {camel_case(name): field for name, field in model.model_fields.items() if name not in NOT_INPUTS}


def test_schema_lists_every_component_with_described_inputs_and_outputs(
    served_schema: dict[str, Any],
) -> None:
    assert served_schema["name"] == cp.PACKAGE and served_schema["version"] == __version__
    # The README's TypeScript import names this package.
    assert served_schema["language"]["nodejs"]["packageName"] == cp.NODE_PACKAGE
    assert f'from "{cp.NODE_PACKAGE}"' in (ROOT / "README.md").read_text(encoding="utf-8")
    resources = served_schema["resources"]
    assert sorted(resources) == sorted(f"{cp.PACKAGE}:index:{name}" for name in STACKS)
    for component, (model, secret) in cp.COMPONENTS.items():
        resource = resources[f"{cp.PACKAGE}:index:{component.__name__}"]
        assert resource["isComponent"] is True
        assert resource.get("description"), component.__name__
        inputs = resource["inputProperties"]
        fields = _model_fields(model)
        # Exactly the stack configuration's keys, each described as the README table describes it.
        assert sorted(inputs) == sorted(fields), component.__name__
        for key, prop in inputs.items():
            assert prop["description"] == describe(fields[key]), f"{component.__name__}.{key}"
        required = {key for key, field in fields.items() if field.is_required()}
        assert set(resource.get("requiredInputs", [])) == required, component.__name__
        # Credentials secret, everything else plain (checked and used before any resource exists).
        assert {k for k, p in inputs.items() if p.get("secret")} == {camel_case(f) for f in secret}
        assert all(p.get("plain") for k, p in inputs.items() if not p.get("secret"))
        outputs = resource["properties"]
        assert outputs and all(p.get("description") for p in outputs.values()), component.__name__
    assert {camel_case(f) for f in cp.COMPONENTS[cp.AwsBookingPlatform][1]} == set(config.SECRET_KEYS["aws"])
    for token, definition in served_schema["types"].items():
        model = cp.TYPE_MODELS[token.rsplit(":", 1)[-1]]
        fields = _model_fields(model)
        assert sorted(definition["properties"]) == sorted(fields), token
        for key, prop in definition["properties"].items():
            assert prop["description"] == describe(fields[key]), f"{token}.{key}"


def test_a_config_key_without_docs_is_refused() -> None:
    schema = json.loads(cp.BookingComponentProvider().schema or "{}")
    schema["types"][f"{cp.PACKAGE}:index:Images"]["properties"]["undocumented"] = {"type": "string"}
    with pytest.raises(LookupError, match=r"Images\.undocumented: no description"):
        cp.complete_schema(schema)


def _consumer_inputs(stack: str) -> dict[str, Any]:
    """The stack file's booking:* values as an SDK sends them: objects, integers as floats, secrets."""
    values, secret = read_stack_file(stack)
    if "booking:keystore" in values:
        # The key store's keys are one object in the stack file.
        return dict(json.loads(values["booking:keystore"]))
    inputs: dict[str, Any] = {}
    for key, raw in values.items():
        name = key.split(":", 1)[1]
        if not key.startswith(f"{config.NAMESPACE}:") or name in ("target", "requireSecNumCloud"):
            continue
        value: Any = json.loads(raw) if raw[:1] in "{[" else raw
        if isinstance(value, str) and value.isdigit():
            value = float(value)
        inputs[name] = pulumi.Output.secret(value) if key in secret else value
    return inputs


def _floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _construct(
    component: str, stack: str, change: Callable[[dict[str, Any]], None] | None = None
) -> RecordingMonitor:
    provider = cp.BookingComponentProvider()
    monitor = RecordingMonitor(OfflineMocks(stack))

    def program() -> None:
        inputs = {k: _floats(v) for k, v in _consumer_inputs(stack).items()}
        if change:
            change(inputs)
        provider.construct(
            name=NAMES.get(component, "booking"),
            resource_type=f"{cp.PACKAGE}:index:{component}",
            inputs=inputs,
            options=None,
        )

    run_program(program, stack, "consumer", {}, set(), monitor=monitor)
    return monitor


def _resources(states: list[dict[str, Any]]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(type, name, inputs) of every resource but providers, and the providers' inputs."""
    resources = sorted(
        (s["type"], s["urn"].rsplit("::", 1)[1], json.dumps(s["inputs"], sort_keys=True))
        for s in states
        if not s["type"].startswith(("pulumi:providers:", f"{cp.PACKAGE}:"))
    )
    providers = sorted(
        json.dumps(s["inputs"], sort_keys=True) for s in states if s["type"].startswith("pulumi:providers:")
    )
    return resources, providers


@pytest.mark.parametrize("component", sorted(STACKS))
def test_construct_registers_what_the_python_program_registers(component: str) -> None:
    stack = STACKS[component]
    monitor = _construct(component, stack)
    constructed = [{"type": r.type, "urn": r.urn, "inputs": r.inputs} for r in monitor.registrations]
    program = run_preview(stack).states[1:]
    got, got_providers = _resources(constructed)
    want, want_providers = _resources(program)
    assert got == want, f"{component}: {len(got)} resources vs the program's {len(want)}"
    assert got_providers == want_providers, component
    wrappers = [r for r in monitor.registrations if r.type == f"{cp.PACKAGE}:index:{component}"]
    assert len(wrappers) == 1
    # The platform and the provider are the wrapper's children; nothing lands outside it.
    assert all(r.parent for r in monitor.registrations if r is not wrappers[0])


def _construct_error(component: str, change: Callable[[dict[str, Any]], None]) -> str:
    with pytest.raises(ComponentInitError) as raised:
        _construct(component, STACKS[component], change)
    return str(raised.value.inner)


def test_construct_refuses_a_region_outside_the_allowed_set() -> None:
    message = _construct_error("AwsBookingPlatform", lambda i: i.update(region="us-east-1"))
    assert "invalid inputs (1): region: must be one of eu-west-3 (got 'us-east-1')" in message
    assert "\n" not in message


def test_construct_refuses_a_plaintext_credential() -> None:
    message = _construct_error(
        "AwsBookingPlatform",
        lambda i: i.update(xksSecretAccessKey="PlaintextNotASecretAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    assert "xksSecretAccessKey: must be a secret" in message
    assert "PlaintextNotASecret" not in message


def test_construct_refuses_a_value_computed_by_another_resource() -> None:
    message = _construct_error(
        "ScalewayBookingPlatform", lambda i: i.update(domain=pulumi.Output.from_input("rdv.example.fr"))
    )
    assert "domain: must be a plain value, known when the component is built" in message


def test_construct_names_every_bad_nested_input() -> None:
    def change(inputs: dict[str, Any]) -> None:
        inputs["sizes"] = {"dbDiskGb": 1.0}
        inputs["images"] = {"api": "not an image", "web": inputs["images"]["web"]}

    message = _construct_error("S3nsBookingPlatform", change)
    assert "sizes.dbDiskGb: must be between 10 and 65536 (got 1)" in message
    assert "images.api: " in message and "images.web" not in message


def test_construct_names_a_bad_key_store_input() -> None:
    message = _construct_error("KeystoreHost", lambda i: i.update(zones=["fr-par-1"], proxyRef="main"))
    assert "zones: " in message and "proxyRef: must match" in message


def test_construct_checks_the_credential_without_showing_it() -> None:
    with pytest.raises(
        Exception,
        match=r"xksAccessKeyId: does not match what is allowed \(the proxy credential's key id, 20 to 30",
    ) as raised:
        _construct(
            "AwsBookingPlatform",
            "aws-xks-paris",
            lambda i: i.update(xksAccessKeyId=pulumi.Output.secret("bad!")),
        )
    assert "bad!" not in str(raised.value)
