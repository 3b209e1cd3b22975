"""Adapters from every form the engine gives a stack to :class:`policies.model.Stack`."""

from policies.adapters.common import resolve_region
from policies.adapters.export import stack_from_export
from policies.adapters.preview import stack_from_preview

__all__ = ["resolve_region", "stack_from_export", "stack_from_preview"]
