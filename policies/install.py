"""Writes a ready CrossGuard policy pack folder for the environment this package is installed in.

    sovereign-booking-policy-pack .policy-pack      # prints the folder; then:
    pulumi preview --policy-pack .policy-pack

The pack shipped inside the package (``policies/PulumiPolicy.yaml``) names the checkout's ``../.venv``;
an installed wheel has no such folder, so a platform team's CI writes a pack whose ``virtualenv`` is
the environment the wheel is installed in (``sys.prefix``), whose version and description are the
shipped pack's, and whose entry serves the same rules (``policies.pack.serve``). Files are written
atomically; an existing folder holding anything else is refused rather than mixed with.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from tooling.cli import BadInputError, Exit, Parser, atomic_write_text, check_out_dir, run

#: What the written folder holds, and nothing else.
PACK_FILES = ("PulumiPolicy.yaml", "__main__.py")

ENTRY = '''"""CrossGuard entry point written by sovereign-booking-policy-pack: the installed package's rules."""

from policies.pack import serve

if __name__ == "__main__":
    serve()
'''


def manifest(prefix: Path) -> dict[str, Any]:
    """The shipped PulumiPolicy.yaml with the runtime pointed at the environment ``prefix``."""
    shipped = yaml.safe_load(files("policies").joinpath("PulumiPolicy.yaml").read_text(encoding="utf-8"))
    return {
        "description": shipped["description"],
        "version": shipped["version"],
        # Absolute: the engine resolves a relative virtualenv from the pack folder.
        "runtime": {"name": "python", "options": {"virtualenv": str(prefix.resolve())}},
    }


def write(folder: Path, prefix: Path) -> Path:
    check_out_dir(folder, "FOLDER")
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in PACK_FILES)
    if foreign:
        raise BadInputError(
            f"FOLDER {folder}: holds {', '.join(foreign)}; give an empty folder or one this command wrote"
        )
    atomic_write_text(folder / "PulumiPolicy.yaml", yaml.safe_dump(manifest(prefix), sort_keys=False))
    atomic_write_text(folder / "__main__.py", ENTRY)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="sovereign-booking-policy-pack", description=__doc__)
    parser.add_argument("folder", type=Path, metavar="FOLDER", help="where to write the pack (created)")
    args = parser.parse_args(argv)

    def _write() -> int:
        print(write(args.folder, Path(sys.prefix)))
        return Exit.PASS

    return run("policy-pack", _write, debug=args.debug, bad_input=(BadInputError,))


if __name__ == "__main__":
    sys.exit(main())
