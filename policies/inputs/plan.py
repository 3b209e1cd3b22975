"""Rebuilds the model from the ``pulumi_model`` document an exported Terraform plan embeds.

The custom checkov checks run the project's rules on it (``policies.outputs.terraform_plan`` writes it).
"""

from __future__ import annotations

from typing import Any

from policies.model import Resource, Stack, normalize


def stack_from_model_document(document: dict[str, Any]) -> Stack:
    resources = [
        Resource(type=r["type"], name=r["name"], urn=r["urn"], properties=normalize(r["properties"]),
                 provider=r["provider"], provider_urn=r["provider_urn"], region=r["region"], parent=r["parent"],
                 custom=r["custom"], dependencies=tuple(r["dependencies"]), id=r["id"])
        for r in document["resources"]
    ]  # fmt: skip
    return Stack(
        document["stack"],
        resources,
        document.get("config", {}),
        frozenset(document.get("secret_config_keys", [])),
        kind="plan",
    )
