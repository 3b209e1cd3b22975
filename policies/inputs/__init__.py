"""Inputs: every form the engine or a cloud account gives a stack, turned into :class:`policies.model.Stack`."""

from policies.inputs.common import resolve_region
from policies.inputs.export import stack_from_export
from policies.inputs.preview import stack_from_preview

__all__ = ["resolve_region", "stack_from_export", "stack_from_preview"]
