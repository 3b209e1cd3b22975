"""Builds ScalewayBookingPlatform under Pulumi mocks and records every registration.

Shared by the tests of this folder only (no tests/conftest.py on purpose: other parts have theirs).
Under mocks the inputs arrive as the engine sees them: camelCase keys, numbers as floats.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumiverse_scaleway as scw
from pulumi.runtime import mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.scaleway import (
    ScalewayBookingPlatform,
    ScalewayBookingPlatformArgs,
    ScalewayContainerSpec,
)

FAKE_PASSWORD = "Mock-Password-1!not-real"
PROJECT_ID = "11111111-2222-4333-8444-555555555555"
DEPLOYER = "user_id:99999999-8888-4777-8666-555555555555"


def baseline(**changes: Any) -> ScalewayBookingPlatformArgs:
    """The compliant baseline; keyword arguments change one field."""
    args = ScalewayBookingPlatformArgs(
        name_prefix="booking-test",
        domain="rdv.exemple.fr",
        project_id=PROJECT_ID,
        deployer_principal=DEPLOYER,
        api_key_expires_at="2027-06-30T00:00:00Z",
        dns_zone="exemple.fr",
        api=ScalewayContainerSpec(image="rg.fr-par.scw.cloud/booking/api:1.0.0"),
        web=ScalewayContainerSpec(image="rg.fr-par.scw.cloud/booking/web:1.0.0", cpu_limit_mvcpu=500),
    )
    return replace(args, **changes) if changes else args


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    provider: str
    custom: bool


@dataclass
class Recorder(mocks.Mocks):
    resources: list[Registered] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(
            Registered(args.typ, args.name, dict(args.inputs), args.provider or "", bool(args.custom))
        )
        digest = hashlib.sha256(f"{args.typ}/{args.name}".encode()).hexdigest()
        uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        state = dict(args.inputs)
        resource_id = f"fr-par/{uuid}"
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = FAKE_PASSWORD
            resource_id = "none"
        elif args.typ == "scaleway:containers/container:Container":
            state["publicEndpoint"] = f"https://{args.name}.functions.fnc.fr-par.scw.cloud"
        elif args.typ == "scaleway:databases/instance:Instance":
            state["privateNetwork"] = {
                **dict(state.get("privateNetwork") or {}),
                "ip": "172.16.32.10",
                "port": 5432,
            }
            state["certificate"] = "-----BEGIN CERTIFICATE-----\nMOCK-CA\n-----END CERTIFICATE-----\n"
        elif args.typ == "scaleway:loadbalancers/ip:Ip":
            state["ipAddress"] = "51.159.0.10"
            resource_id = f"fr-par-1/{uuid}"
        elif args.typ == "scaleway:iam/apiKey:ApiKey":
            state.update(accessKey="SCWMOCKACCESSKEY0000", secretKey="00000000-0000-0000-0000-000000000000")
        elif args.typ == "scaleway:observability/token:Token":
            state["secretKey"] = "mock-cockpit-token"
        elif args.typ == "scaleway:observability/source:Source":
            state["pushUrl"] = f"https://{uuid}.logs.cockpit.fr-par.scw.cloud"
        return resource_id, state

    def call(self, args: mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        # A bare dict: the mock monitor iterates the second item of a tuple, so (ret, None) breaks.
        self.calls.append(args.token)
        if args.token == "scaleway:ipam/getIps:getIps":
            return {"ips": [{"address": "172.16.32.20/22"}]}
        return {}

    # -- queries --------------------------------------------------------------------------------
    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str) -> dict[str, Any]:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {len(found)}"
        return found[0].inputs


@dataclass
class Built:
    platform: ScalewayBookingPlatform
    recorder: Recorder


def build(args: ScalewayBookingPlatformArgs | None = None) -> Built:
    """Registers the platform with an explicit fr-par provider, waits for every registration."""
    recorder = Recorder()
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks.set_mocks(recorder, project="sovereign-booking", stack="test", preview=False)
    holder: dict[str, ScalewayBookingPlatform] = {}

    def program() -> None:
        provider = scw.Provider("scaleway-fr-par", region="fr-par", zone="fr-par-1")
        holder["platform"] = ScalewayBookingPlatform(
            "booking", args or baseline(), opts=pulumi.ResourceOptions(providers=[provider])
        )

    _sync_await(run_pulumi_func(program))
    return Built(holder["platform"], recorder)


def resolve(output: pulumi.Output[Any]) -> tuple[Any, bool]:
    """Value and secretness of an output (after build())."""
    value = _sync_await(output.future())
    secret = _sync_await(output.is_secret())
    return value, bool(secret)
