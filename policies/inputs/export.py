"""Adapter from ``pulumi stack export`` files (deployment version 3)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.inputs.common import build_resources, check_state
from policies.inputs.preview import AdapterError
from policies.model import Stack
from tooling.cli import BadInputError, read_json

SUPPORTED_VERSIONS = (3,)


def stack_from_export(
    document: Mapping[str, Any], stack: str, config: Mapping[str, Any] | None = None
) -> Stack:
    """A Stack from ``{"version": 3, "deployment": {"resources": [...]}}``.

    An export carries no stack config: the default providers (``pulumi:providers:aws::default_*``)
    are in the resource list with the region they were given, which is what region resolution uses;
    ``config`` may add the stack's config when it is known. Resources pending deletion are skipped.
    Outputs that disagree with inputs are kept for BK-STATE-001 (drift between program and state).
    """
    if not isinstance(document, Mapping) or "deployment" not in document:
        raise AdapterError(
            "a stack export must be a JSON object with 'version' and 'deployment' (pulumi stack export), "
            f"not {_kind(document)}"
        )
    version = document.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise AdapterError(
            f"version: unsupported stack export version {version!r} (supported: {SUPPORTED_VERSIONS})"
        )
    deployment = document.get("deployment")
    if not isinstance(deployment, Mapping):
        raise AdapterError(f"deployment must be an object, not {_kind(deployment)}")
    resources = deployment.get("resources")
    resources = [] if resources is None else resources
    if not isinstance(resources, list):
        raise AdapterError(f"deployment.resources must be a list, not {_kind(resources)}")
    states = []
    for index, resource in enumerate(resources):
        check_state(resource, f"deployment.resources[{index}]")
        if resource.get("delete"):
            continue
        states.append(resource)
    config = dict(config or {})
    return Stack(
        stack, build_resources(states, config, keep_disagreements=True), config, frozenset(), kind="export"
    )


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def load_export_file(path: Path, stack: str | None = None) -> Stack:
    try:
        document = read_json(path, "stack export")
    except BadInputError as error:
        raise AdapterError(str(error)) from error
    if not isinstance(document, Mapping):
        raise AdapterError(
            f"stack export {path}: must be a JSON object (pulumi stack export), not {_kind(document)}"
        )
    name = stack
    deployment = document.get("deployment")
    resources = deployment.get("resources") if isinstance(deployment, Mapping) else None
    for resource in resources if isinstance(resources, list) else ():
        urn = str(resource.get("urn", "")) if isinstance(resource, Mapping) else ""
        if urn.startswith("urn:pulumi:"):
            name = name or urn.split("::", 1)[0][len("urn:pulumi:") :]
            break
    try:
        return stack_from_export(document, name or path.stem)
    except AdapterError as error:
        raise AdapterError(f"stack export {path}: {error}") from error
