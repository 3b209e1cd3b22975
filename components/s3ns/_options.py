"""What a part's children inherit from the options the platform gave the part.

Pulumi does not pass a component's ``depends_on`` to the resources inside it: a Cloud SQL instance in
the Database part would not wait for the APIs the platform enables. Each part hands its own
dependencies to its children through ``inherited``.
"""

from __future__ import annotations

import pulumi


def inherited(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The resources ``opts`` makes a component wait for, as a list its children can extend."""
    depends_on = opts.depends_on if opts is not None else None
    if depends_on is None:
        return []
    items = depends_on if isinstance(depends_on, (list, tuple)) else [depends_on]
    return [item for item in items if isinstance(item, pulumi.Resource)]
