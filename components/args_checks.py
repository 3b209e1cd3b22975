"""How a component's args class lists what is wrong with it: every field at once, each as
``<field>: must be <what is allowed> (got <value>)``, refused before any resource is registered."""

from __future__ import annotations


class Problems(list[str]):
    """The invalid fields of one args object, in the order they were checked."""

    def check(self, ok: bool, name: str, allowed: str, value: object) -> None:
        if not ok:
            self.append(f"{name}: must be {allowed} (got {value!r})")


def refuse_invalid(args_class: str, problems: list[str]) -> None:
    """Raises ``ValueError`` naming every problem, so nothing is registered from a bad args object."""
    if problems:
        raise ValueError(f"invalid {args_class}: " + "; ".join(problems))
