"""Adapter from ``pulumi stack export`` files (deployment version 3)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.inputs.common import build_resources
from policies.inputs.preview import AdapterError
from policies.model import Stack

SUPPORTED_VERSIONS = (3,)


def stack_from_export(
    document: Mapping[str, Any], stack: str, config: Mapping[str, Any] | None = None
) -> Stack:
    """A Stack from ``{"version": 3, "deployment": {"resources": [...]}}``.

    An export carries no stack config: the default providers (``pulumi:providers:aws::default_*``)
    are in the resource list with the region they were given, which is what region resolution uses;
    ``config`` may add the stack's config when it is known. Resources pending deletion are skipped.
    """
    if not isinstance(document, Mapping) or "deployment" not in document:
        raise AdapterError(
            "a stack export must be a JSON object with 'version' and 'deployment' (pulumi stack export)"
        )
    version = document.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise AdapterError(f"unsupported stack export version {version!r} (supported: {SUPPORTED_VERSIONS})")
    resources = (document.get("deployment") or {}).get("resources") or []
    if not isinstance(resources, list):
        raise AdapterError("deployment.resources must be a list")
    states = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or "urn" not in resource or "type" not in resource:
            raise AdapterError(f"deployment.resources[{index}] must carry 'urn' and 'type'")
        if resource.get("delete"):
            continue
        states.append(resource)
    config = dict(config or {})
    return Stack(stack, build_resources(states, config), config, frozenset())


def load_export_file(path: Path, stack: str | None = None) -> Stack:
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise AdapterError(f"{path}: cannot read a stack export: {error}") from error
    name = stack
    if name is None:
        for resource in (document.get("deployment") or {}).get("resources") or ():
            urn = str(resource.get("urn", ""))
            if urn.startswith("urn:pulumi:"):
                name = urn.split("::", 1)[0][len("urn:pulumi:") :]
                break
    return stack_from_export(document, name or path.stem)
