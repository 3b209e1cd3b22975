"""Writes the side-by-side comparison of the hosting options: compare.html and compare.md.

    uv run --frozen python scripts/compare.py [--stacks A,B,...] [--appointments-per-month N] [--out DIR]

Reads the offline previews of the stacks (stacks/), the policy audit (policies/, when present) and
the versioned facts and prices in data/. Exits 2 with a clear message on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reporting.analysis import Assumptions, PreviewError
from reporting.facts import FactsError, load
from reporting.report import build, policy_auditor, render_html, render_markdown

DEFAULT_OUT = Path("reports/compare")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
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
    from stacks.offline import StackNotFoundError, run_preview, stack_names

    try:
        if args.appointments_per_month < 0:
            raise ValueError(
                f"--appointments-per-month must be zero or more, not {args.appointments_per_month}"
            )
        known = stack_names()
        stacks = [s.strip() for s in args.stacks.split(",") if s.strip()] if args.stacks else known
        unknown = [s for s in stacks if s not in known]
        if unknown or not stacks:
            raise ValueError(
                f"unknown stack(s) {', '.join(unknown) or '(none given)'} (known: {', '.join(known)})"
            )
        facts = load(args.data) if args.data else load()
        previews = {stack: run_preview(stack).document for stack in stacks}
        report = build(
            previews, facts, Assumptions(appointments_per_month=args.appointments_per_month), policy_auditor()
        )
    except (ValueError, FactsError, PreviewError, StackNotFoundError) as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.html").write_text(render_html(report), encoding="utf-8")
    (args.out / "compare.md").write_text(render_markdown(report), encoding="utf-8")
    print(f"wrote {args.out / 'compare.html'} and {args.out / 'compare.md'}")
    from reporting.report import total_text

    for column in report.columns:
        print(f"  {column.option.stack}: {total_text(column)} per month for the priced lines")
        if column.unpriced_items:
            print(f"    not priced (no sourced price): {'; '.join(column.unpriced_items)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
