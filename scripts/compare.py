"""Writes the side-by-side comparison of the hosting options: compare.html and compare.md.

    uv run --frozen python scripts/compare.py [--stacks A,B,...] [--appointments-per-month N] [--out DIR]

Reads the offline previews of the stacks (stacks/), the policy audit (policies/, when present) and
the versioned facts and prices in data/. --out is checked before any work; both files are written
atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reporting.analysis import Assumptions, PreviewError
from reporting.facts import FactsError, load
from reporting.report import build, policy_auditor, render_html, render_markdown
from stacks.offline import StackFileError, StackNotFoundError
from tooling.cli import BadInputError, Exit, Parser, atomic_write_text, check_out_dir, run

DEFAULT_OUT = Path("reports/compare")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="compare", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stacks", help="comma-separated stacks (default: every stack in stacks/)")
    parser.add_argument(
        "--appointments-per-month",
        type=int,
        default=5_000_000,
        help="load used to size the cost (default 5,000,000)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--data", type=Path, default=None, help="data folder (default data/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bad_input = (FactsError, PreviewError, StackNotFoundError, StackFileError)
    return run("compare", lambda: _compare(args), debug=args.debug, bad_input=bad_input)


def _compare(args: argparse.Namespace) -> int:
    from stacks.offline import run_preview, stack_names

    if args.appointments_per_month < 0:
        raise BadInputError(
            f"--appointments-per-month must be zero or more, not {args.appointments_per_month}"
        )
    known = stack_names()
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()] if args.stacks else known
    unknown = [s for s in stacks if s not in known]
    if unknown or not stacks:
        raise BadInputError(
            f"--stacks: unknown stack(s) {', '.join(unknown) or '(none given)'} (known: {', '.join(known)})"
        )
    check_out_dir(args.out)
    facts = load(args.data) if args.data else load()
    previews = {stack: run_preview(stack).document for stack in stacks}
    report = build(
        previews, facts, Assumptions(appointments_per_month=args.appointments_per_month), policy_auditor()
    )
    atomic_write_text(args.out / "compare.html", render_html(report))
    atomic_write_text(args.out / "compare.md", render_markdown(report))
    print(f"wrote {args.out / 'compare.html'} and {args.out / 'compare.md'}")
    from reporting.report import total_text

    for column in report.columns:
        print(f"  {column.option.stack}: {total_text(column)} per month for the priced lines")
        if column.unpriced_items:
            print(f"    not priced (no sourced price): {'; '.join(column.unpriced_items)}")
    return Exit.PASS


if __name__ == "__main__":
    sys.exit(main())
