"""Writes the comparison of the hosting options for ministries: full report and one-page summary,
in English and French, as HTML and PDF.

    uv run --frozen python scripts/compare.py [--lang en|fr|all] [--stacks A,B,...]
        [--appointments-per-month N] [--weights FILE] [--out DIR] [--no-pdf] [--debug]

Reads the offline previews of the stacks (stacks/), the policy audit and the facts and prices in data/.
--out and the arguments are checked before any preview starts; every file is written atomically.
A summary that does not print on exactly one A4 page is an internal error (exit 4).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from tooling.cli import BadInputError, Exit, Parser, atomic_write_bytes, check_out_dir, run

DEFAULT_OUT = Path("reports/compare")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="compare", description=(__doc__ or "").split("\n", 1)[0])
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
    return parser.parse_args(argv)


def _compare(args: argparse.Namespace) -> int:
    from reporting.analysis import PreviewError
    from reporting.answer import DecisionError, answers, check_decision
    from reporting.bom import Assumptions
    from reporting.facts import DATA_DIR, FactsError, load
    from reporting.model import build, policy_auditor
    from reporting.pdf import page_count, print_pdf
    from reporting.render import render
    from stacks.offline import StackFileError, StackNotFoundError, run_preview, stack_names

    if args.appointments_per_month < 0:
        raise BadInputError(
            f"--appointments-per-month must be zero or more, not {args.appointments_per_month}"
        )
    if args.weights is not None and not args.weights.is_file():
        raise BadInputError(f"--weights {args.weights}: no such file")
    known = stack_names()
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()] if args.stacks else known
    unknown = [s for s in stacks if s not in known]
    if unknown or not stacks:
        raise BadInputError(
            f"--stacks: unknown stack(s) {', '.join(unknown) or '(none given)'} (known: {', '.join(known)})"
        )
    check_out_dir(args.out)
    try:
        facts = load(args.data or DATA_DIR, weights=args.weights)
        previews = {stack: run_preview(stack).document for stack in stacks}
        report = build(
            previews, facts, Assumptions(appointments_per_month=args.appointments_per_month), policy_auditor()
        )
        # The recommendation must agree with the derived answers before anything is written.
        found = answers(report)
        check_decision(report, found)
    except (FactsError, PreviewError, StackNotFoundError, StackFileError, DecisionError) as error:
        raise BadInputError(str(error)) from error
    langs = ("en", "fr") if args.lang == "all" else (args.lang,)
    for lang in langs:
        suffix = "" if lang == "en" else ".fr"
        for template, name in (("report.html.j2", "compare"), ("summary.html.j2", "summary")):
            html, _cited = render(report, template, lang, found)
            page = args.out / f"{name}{suffix}.html"
            atomic_write_bytes(page, html.encode("utf-8"))
            print(f"wrote {page}")
            if args.no_pdf:
                continue
            with tempfile.TemporaryDirectory(dir=args.out, prefix=".pdf-") as tmp:
                pdf_tmp = Path(tmp) / f"{name}{suffix}.pdf"
                print_pdf(page, pdf_tmp)
                pages = page_count(pdf_tmp)
                if name == "summary" and pages != 1:
                    raise RuntimeError(f"{page}: the one-page summary prints on {pages} A4 pages")
                atomic_write_bytes(args.out / pdf_tmp.name, pdf_tmp.read_bytes())
            print(f"wrote {args.out / pdf_tmp.name} ({pages} page{'s' if pages > 1 else ''})")
    _print_outcome(report, found)
    return Exit.PASS


def _print_outcome(report: Any, found: dict[str, Any]) -> None:
    """The answers, the recommendation, the matrix and each option's monthly cost, one line each."""
    from reporting.decision import matrix

    print("  question: " + report.facts.decision.question.en)
    for key, found_answer in found.items():
        print(f"  option {key}: {found_answer.verdict}")
    ranked = matrix(report, found)
    print(
        f"  recommended: option {report.facts.decision.decision.recommended.option}; fallback: option {report.facts.decision.decision.fallback.option}"
    )
    print(
        "  matrix: "
        + "; ".join(
            f"{k} {v:.1f}{'' if ranked.eligible[k] else ' (not eligible)'}" for k, v in ranked.totals.items()
        )
    )
    for currency, rate in sorted(report.facts.exchange_rates.items()):
        if rate is not None:
            print(
                f"  {currency} converted at {rate.per_eur} per euro ({rate.date}, {', '.join(rate.sources)})"
            )
    for column in report.columns:
        eur = column.cost.in_eur(report.facts.exchange_rates)
        figure = f"EUR {eur.low:,.2f}-{eur.high:,.2f}" if eur.complete else f"from EUR {eur.low:,.2f}"
        state = "total" if eur.complete else f"priced part EUR {eur.low:,.2f}-{eur.high:,.2f}, not a total"
        unconverted = (
            f"; {eur.unconverted} USD lines not converted (no sourced rate)" if eur.unconverted else ""
        )
        print(f"  option {column.key} ({column.definition.stack}): {figure} per month ({state}{unconverted})")
        for line in column.cost.material_unpriced:
            print(f"    not priced: {line.label.en if hasattr(line.label, 'en') else line.label}")


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as done:  # usage error (one line already printed) or --help
        return int(done.code or 0)
    return run("compare", lambda: _compare(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
