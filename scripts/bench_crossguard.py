#!/usr/bin/env python3
"""Times the CrossGuard pack the way the Pulumi engine drives it: over gRPC, every resource of a stack.

    scripts/bench_crossguard.py                      # aws-xks-paris, 3 runs
    scripts/bench_crossguard.py --stack scaleway-paris --runs 5

Starts ``policies/__main__.py`` (the pack the engine starts for ``--policy-pack policies``), then,
per run, sends ``Analyze`` for each resource of the stack's offline preview and ``AnalyzeStack``
once, and prints the wall time of each run and the median. Prints figures only; the machine's load
(``os.getloadavg``) is printed with them, since a loaded machine slows every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from stacks.offline import run_preview

ROOT = Path(__file__).resolve().parent.parent


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(values, struct_pb2.Struct())


def analyzer_resources(document: dict[str, Any]) -> list[analyzer_pb2.AnalyzerResource]:
    """The preview's resources as the engine sends them to an analyzer (with their provider)."""
    states = [s["newState"] for s in document["steps"] if s["newState"]["type"] != "pulumi:pulumi:Stack"]
    by_urn = {s["urn"]: s for s in states}
    resources = []
    for state in states:
        provider = by_urn.get((state.get("provider") or "").rpartition("::")[0])
        kwargs: dict[str, Any] = {}
        if provider is not None:
            kwargs["provider"] = analyzer_pb2.AnalyzerProviderResource(
                type=provider["type"], properties=_struct(provider["inputs"]), urn=provider["urn"],
                name=provider["urn"].rsplit("::", 1)[-1],
            )  # fmt: skip
        resources.append(
            analyzer_pb2.AnalyzerResource(
                type=state["type"], properties=_struct({**(state.get("outputs") or {}), **state["inputs"]}),
                urn=state["urn"], name=state["urn"].rsplit("::", 1)[-1], parent=state.get("parent", ""),
                dependencies=state.get("dependencies", []), **kwargs,
            )
        )  # fmt: skip
    return resources


def analyze_all(stub: analyzer_pb2_grpc.AnalyzerStub, resources: list[analyzer_pb2.AnalyzerResource]) -> int:
    """One Analyze per resource, then AnalyzeStack; returns the number of diagnostics."""
    found = 0
    for resource in resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            provider=resource.provider if resource.HasField("provider") else None,
        )  # fmt: skip
        found += len(stub.Analyze(request).diagnostics)
    found += len(stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="aws-xks-paris")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    document = run_preview(args.stack).document
    resources = analyzer_resources(document)
    config = {k: v for k, v in document["config"].items() if v != "[secret]"}
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config), "PULUMI_PROJECT": "sovereign-booking",
           "PULUMI_STACK": args.stack, "PULUMI_DRY_RUN": "true"}  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - this interpreter, the project's own pack
        [sys.executable, str(ROOT / "policies" / "__main__.py")],
        cwd=ROOT / "policies", env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        times = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            diagnostics = analyze_all(stub, resources)
            times.append(time.perf_counter() - started)
            print(
                f"run {run}: {len(resources)} resources analyzed in {times[-1]:.2f} s ({diagnostics} diagnostics)"
            )
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{args.stack}: median {statistics.median(times):.2f} s over {args.runs} runs (load average {load})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
