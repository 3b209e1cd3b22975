"""What the parts of the Scaleway platform share: their type prefix, tags and id helpers."""

from __future__ import annotations

from typing import Any

import pulumi

from components.scaleway.args import ScalewayBookingPlatformArgs

TYPE_PREFIX = "booking:scaleway"


def tags_for(args: ScalewayBookingPlatformArgs, part: str) -> list[str]:
    base = {"app": "booking", "environment": args.environment, "part": part, "data": "health"}
    base.update(args.tags)
    return [f"{k}:{v}" if v else k for k, v in sorted(base.items())]


def regional_uuid(regional_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Scaleway ids in state read ``fr-par/<uuid>``; several APIs want the bare uuid."""
    return pulumi.Output.from_input(regional_id).apply(lambda value: str(value).split("/")[-1])


def uuid_of(value: str) -> str:
    return str(value).split("/")[-1]


def get_field(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)
