"""Which keys protect which data: shared by the encryption and key-location rules.

Each provider resolves its own key references (``aws``: KMS keys, aliases and ARNs; ``scaleway``: Key
Manager keys); the neutral results they return live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.model import Resource


@dataclass(frozen=True, slots=True)
class KeyResolution:
    """What a key reference on a data store points to."""

    #: The stack's key resources the reference can denote (several when only dependencies tell).
    keys: tuple[Resource, ...]
    #: Why the reference denotes no key of the stack, when it does not.
    problem: str = ""


@dataclass(frozen=True, slots=True)
class Protection:
    """A data store (or one part of it) and what protects it at rest."""

    resource: Resource
    protects: str
    #: Set when encryption is off or not with a customer key: the reason.
    problem: str
    resolution: KeyResolution | None
