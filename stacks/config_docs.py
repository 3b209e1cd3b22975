"""What a configuration field allows, in words: the one reader of the config models' field docs.

The README's configuration table (scripts/config_table.py) and the component package's schema
(stacks/component_provider.py) both describe a key with :func:`describe`, so a key reads the same
in the README, in a TypeScript SDK's doc comments and in `pulumi package get-schema`.
"""

from __future__ import annotations

from pydantic.fields import FieldInfo


def describe(field: FieldInfo) -> str:
    """The field's description, else the doc of the check that validates it ("" when neither)."""
    if field.description:
        return field.description
    for meta in field.metadata:
        doc = getattr(getattr(meta, "func", None), "__doc__", None)
        if doc:
            return str(doc)
    return ""
