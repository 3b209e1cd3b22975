#!/usr/bin/env python3
"""Benchmark: the native rules over N synthetic stacks, and checkov over one exported plan.

Synthetic stacks are copies of the shipped stacks' offline previews with renamed URNs (1000 stacks,
about 75k resources by default). Prints resources per second for both engines, wall time and peak
memory (tracemalloc for the model and rules; checkov runs in its own process).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from policies.audit import audit_stack  # noqa: E402
from policies.checkov import runner as checkov_runner  # noqa: E402
from policies.exceptions import load  # noqa: E402
from policies.inputs.preview import stack_from_preview  # noqa: E402
from policies.outputs import terraform_plan  # noqa: E402
from policies.rules import all_rules  # noqa: E402
from stacks.offline import run_preview, stack_names  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stacks", type=int, default=1000)
    args = parser.parse_args()
    base = {name: json.dumps(run_preview(name).document) for name in stack_names()}
    names = sorted(base)
    stacks = []
    for index in range(args.stacks):
        name = names[index % len(names)]
        text = base[name].replace(f"urn:pulumi:{name}::", f"urn:pulumi:{name}-{index}::")
        stacks.append(stack_from_preview(json.loads(text), f"{name}-{index}"))
    total = sum(len(s) for s in stacks)
    register = load(known_rules=[r.id for r in all_rules()])
    started = time.perf_counter()
    failed = sum(not audit_stack(s, exceptions=register).passed for s in stacks)
    native = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    native_rate = total / native
    print(f"native: {len(stacks)} stacks, {total} resources, {native:.2f} s wall, {native_rate:,.0f} resources/s, "
          f"peak RSS {peak_mb:.0f} MB (process, includes the previews), failed stacks {failed}")  # fmt: skip
    if not checkov_runner.CHECKOV.exists():
        print("checkov: not run (.venv-checkov missing)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        plans = Path(tmp) / "plans"
        plans.mkdir()
        plan = terraform_plan.export(stacks[0])
        (plans / "one.tfplan.json").write_text(json.dumps(plan))
        count = len(plan["planned_values"]["root_module"]["resources"])
        outcome = checkov_runner.run(plans, Path(tmp) / "out")
    checkov_rate = count / outcome.seconds
    print(f"checkov: 1 plan, {count} resources, {outcome.seconds:.2f} s wall (process start included), "
          f"{checkov_rate:,.1f} resources/s")  # fmt: skip
    print(f"ratio: native rules are {native_rate / checkov_rate:,.0f}x checkov's per-resource speed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
