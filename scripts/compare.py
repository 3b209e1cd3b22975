"""Writes the comparison of the hosting options for ministries: full report and one-page summary,
in English and French, as HTML and PDF.

    uv run --frozen python scripts/compare.py [--lang en|fr|all] [--stacks A,B,...]
        [--appointments-per-month N] [--weights FILE] [--out DIR] [--no-pdf] [--debug]

Reads the offline previews of the stacks (stacks/), the policy audit and the facts and prices in data/.
Exit codes: 0 written; 2 bad input (one line naming the argument, file or field); 4 internal error
(including a summary that does not print on one A4 page). Files are written atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

DEFAULT_OUT = Path("reports/compare")


class UsageError(ValueError):
    """Bad input: reported as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--lang", choices=("en", "fr", "all"), default="all", help="report language(s)")
    parser.add_argument("--stacks", help="comma-separated stacks (default: every stack in stacks/)")
    parser.add_argument(
        "--appointments-per-month", type=int, default=5_000_000, help="load (default 5,000,000)"
    )
    parser.add_argument(
        "--weights", type=Path, help="decision-matrix weights (default data/facts/weights.yaml)"
    )
    parser.add_argument("--data", type=Path, help="data folder (default data/)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--no-pdf", action="store_true", help="write HTML only")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    return parser.parse_args(argv)


def check_out(out: Path) -> None:
    """Fails before any long work if the output folder cannot be created or written."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot create ({error.strerror})") from error
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out {out}: not writable")


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    from reporting.analysis import PreviewError
    from reporting.bom import Assumptions
    from reporting.facts import DATA_DIR, FactsError, load
    from reporting.model import build, policy_auditor
    from reporting.pdf import page_count, print_pdf
    from reporting.render import render
    from stacks.offline import StackNotFoundError, run_preview, stack_names

    if args.appointments_per_month < 0:
        raise UsageError(f"--appointments-per-month: must be zero or more, not {args.appointments_per_month}")
    if args.weights is not None and not args.weights.is_file():
        raise UsageError(f"--weights {args.weights}: no such file")
    check_out(args.out)
    try:
        facts = load(args.data or DATA_DIR, weights=args.weights)
        known = stack_names()
        stacks = [s.strip() for s in args.stacks.split(",") if s.strip()] if args.stacks else known
        unknown = [s for s in stacks if s not in known]
        if unknown or not stacks:
            raise UsageError(
                f"--stacks: unknown {', '.join(unknown) or '(none given)'} (known: {', '.join(known)})"
            )
        previews = {stack: run_preview(stack).document for stack in stacks}
        report = build(
            previews, facts, Assumptions(appointments_per_month=args.appointments_per_month), policy_auditor()
        )
    except (FactsError, PreviewError, StackNotFoundError) as error:
        raise UsageError(str(error)) from error
    langs = ("en", "fr") if args.lang == "all" else (args.lang,)
    for lang in langs:
        suffix = "" if lang == "en" else ".fr"
        for template, name in (("report.html.j2", "compare"), ("summary.html.j2", "summary")):
            html, _cited = render(report, template, lang)
            page = args.out / f"{name}{suffix}.html"
            write_atomic(page, html.encode("utf-8"))
            print(f"wrote {page}")
            if args.no_pdf:
                continue
            with tempfile.TemporaryDirectory(dir=args.out, prefix=".pdf-") as tmp:
                pdf_tmp = Path(tmp) / f"{name}{suffix}.pdf"
                print_pdf(page, pdf_tmp)
                pages = page_count(pdf_tmp)
                if name == "summary" and pages != 1:
                    raise RuntimeError(f"{page}: the one-page summary prints on {pages} A4 pages")
                write_atomic(args.out / pdf_tmp.name, pdf_tmp.read_bytes())
            print(f"wrote {args.out / pdf_tmp.name} ({pages} page{'s' if pages > 1 else ''})")
    for column in report.columns:
        totals = "; ".join(
            f"{cur} {lo:,.2f}-{hi:,.2f}" for cur, (lo, hi) in sorted(column.cost.totals().items())
        )
        state = "total" if column.cost.complete else "priced part only, not a total"
        print(
            f"  option {column.key} ({column.definition.stack}): {totals or 'nothing priced'} per month ({state})"
        )
        for line in column.cost.material_unpriced:
            print(f"    not priced: {line.label.en if hasattr(line.label, 'en') else line.label}")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return int(done.code or 0)
    try:
        return run(args)
    except UsageError as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if args.debug:
            raise
        print(f"compare: internal error: {error}", file=sys.stderr)
        return 4


if __name__ == "__main__":
    sys.exit(main())
