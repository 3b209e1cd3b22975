#!/usr/bin/env python3
"""Compares two sets of offline previews by URN and inputs: proves a refactoring changed nothing deployed.

    scripts/preview.py --json /tmp/before        # on the old checkout
    scripts/preview.py --json /tmp/after         # on the new one
    scripts/preview_diff.py /tmp/before /tmp/after

Each folder holds one ``<stack>.json`` per stack (``pulumi preview --json`` shape). For every stack
the two sides must list the same URNs, and each URN the same type, parent, provider, dependencies
and inputs, and the stacks the same config. Exit status: 0 identical, 1 differences (listed),
2 bad input (a folder missing or a file not a preview).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: What a resource declares (its outputs under mocks echo the inputs; ids are not compared).
_COMPARED = ("type", "parent", "provider", "dependencies", "inputs", "custom")


class PreviewFileError(Exception):
    """A folder or file that is not a set of previews."""


def _resources(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    try:
        document = json.loads(path.read_text())
        states = [step["newState"] for step in document["steps"]]
        by_urn = {state["urn"]: {key: state.get(key) for key in _COMPARED} for state in states}
        return document.get("config", {}), by_urn
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PreviewFileError(f"{path}: not a preview document ({error})") from error


def _differences(name: str, before: Path, after: Path) -> list[str]:
    config_before, old = _resources(before)
    config_after, new = _resources(after)
    found = []
    if config_before != config_after:
        keys = sorted(
            k
            for k in config_before.keys() | config_after.keys()
            if config_before.get(k) != config_after.get(k)
        )
        found.append(f"{name}: config differs at {', '.join(keys)}")
    found += [f"{name}: {urn} only before" for urn in sorted(old.keys() - new.keys())]
    found += [f"{name}: {urn} only after" for urn in sorted(new.keys() - old.keys())]
    for urn in sorted(old.keys() & new.keys()):
        for key in _COMPARED:
            if old[urn][key] != new[urn][key]:
                found.append(f"{name}: {urn}: {key} differs: {old[urn][key]!r} != {new[urn][key]!r}")
    return found


def compare(before: Path, after: Path) -> tuple[int, list[str]]:
    """(number of resources compared, differences) over every stack of either folder."""
    for folder in (before, after):
        if not folder.is_dir():
            raise PreviewFileError(f"{folder}: not a folder of <stack>.json previews")
    names = {p.stem for p in before.glob("*.json")} | {p.stem for p in after.glob("*.json")}
    if not names:
        raise PreviewFileError(f"{before}, {after}: no <stack>.json preview in either folder")
    found: list[str] = []
    compared = 0
    for name in sorted(names):
        old, new = before / f"{name}.json", after / f"{name}.json"
        if not (old.exists() and new.exists()):
            found.append(f"{name}: previewed only {'before' if old.exists() else 'after'}")
            continue
        compared += len(_resources(old)[1])
        found += _differences(name, old, new)
    return compared, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="folder of <stack>.json previews, before the change")
    parser.add_argument("after", type=Path, help="folder of <stack>.json previews, after the change")
    args = parser.parse_args(argv)
    try:
        compared, found = compare(args.before, args.after)
    except PreviewFileError as error:
        print(f"preview_diff: {error}", file=sys.stderr)
        return 2
    for line in found:
        print(line)
    print(f"preview_diff: {compared} resources compared, {len(found)} differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
