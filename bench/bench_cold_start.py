"""Benchmark: every handler's import time (the cold start's share the code controls), against
`import boto3` in the same run.

Each import runs in a fresh python3.12 process (the template's runtime) from the built,
precompiled artifacts (`make lambda-artifacts` stages them in build/lambda), with bytecode
writing off and only the function's code, its layers and the standard library on sys.path, as
on Lambda. The functions and the baseline take turns, so a slow moment of the machine touches
them alike; each figure is the median of the runs. The time is the importing process's CPU time
(`time.process_time`): on an idle machine it is the wall time (the files are in the page cache),
and on a busy one it still counts only this import's work.

Two environments: as deployed (the template's `Tracing: Active`, so Powertools' Tracer is on) and
with tracing off (`POWERTOOLS_TRACE_DISABLED=true`, as the local stack and the tests run).

    .venv/bin/python bench/bench_cold_start.py [--runs 9] [--build build/lambda]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.cfn_yaml import read_template
from tests.artifacts.lambda_artifacts import (
    ROOT,
    STAGED,
    TEMPLATE,
    Function,
    functions,
    import_handler,
    runtime_python,
    runtime_version,
)

# The target: an API handler's (and the authorizer's) import costs at most this many boto3s.
TARGET_RATIO = 1.5
BASELINE = Function("import boto3", "", "boto3.client", ("DepsLayer",))
ENVIRONMENTS = {
    # Powertools and X-Ray tell Lambda by LAMBDA_TASK_ROOT; only its presence matters here.
    "as deployed": {"LAMBDA_TASK_ROOT": "/var/task"},
    "tracing off": {"POWERTOOLS_TRACE_DISABLED": "true"},
}


def serves_requests(function: Function) -> bool:
    """The functions a client waits for: API routes and the authorizer in front of them."""
    properties = read_template(TEMPLATE)["Resources"][function.logical_id]["Properties"]
    events = properties.get("Events", {}).values()
    return function.logical_id == "AuthorizerFunction" or any(event["Type"] == "Api" for event in events)


def measure(python: str, build: Path, runs: int, chosen: list[Function]) -> dict[str, dict[str, float]]:
    """Median import ms per environment and function (the baseline included)."""
    subjects = [BASELINE, *chosen]
    medians: dict[str, dict[str, float]] = {}
    for label, settings in ENVIRONMENTS.items():
        samples: dict[str, list[float]] = {subject.logical_id: [] for subject in subjects}
        for _ in range(runs):
            for subject in subjects:
                result = import_handler(python, build, subject, settings)
                samples[subject.logical_id].append(result["import_cpu_ms"])
        medians[label] = {name: statistics.median(values) for name, values in samples.items()}
    return medians


def report(medians: dict[str, dict[str, float]], runs: int, chosen: list[Function]) -> bool:
    """Prints the table (Markdown, as bench/README.md shows it); True if every target is met.
    (bench/run.py captures it with --markdown.)"""
    labels = list(ENVIRONMENTS)
    header = " | ".join(f"{label}: ms (x boto3)" for label in labels)
    print(f"| handler | {header} | target ≤ {TARGET_RATIO}x |")
    print("|---|" + "---|" * len(labels) + "---|")
    baseline = {label: medians[label][BASELINE.logical_id] for label in labels}
    print("| `import boto3` | " + " | ".join(f"{baseline[label]:.0f} (1.00x)" for label in labels) + " | |")
    met = True
    for function in chosen:
        ratios = {label: medians[label][function.logical_id] / baseline[label] for label in labels}
        ms = {label: medians[label][function.logical_id] for label in labels}
        cells = " | ".join(f"{ms[label]:.0f} ({ratios[label]:.2f}x)" for label in labels)
        if serves_requests(function):
            within = max(ratios.values()) <= TARGET_RATIO
            met &= within
            verdict = "met" if within else "**over**"
        else:
            verdict = "n/a (queue/schedule)"
        print(f"| {function.logical_id} | {cells} | {verdict} |")
    print(f"\nMedian of {runs} fresh processes each, python{runtime_version()}, {platform.machine()}.")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="imports per handler and environment")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "lambda", help="the built artifacts")
    parser.add_argument("--only", help="comma-separated logical ids (default: every function)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file (bench/run.py)")
    args = parser.parse_args(argv)
    chosen = [f for f in functions() if not args.only or f.logical_id in args.only.split(",")]
    python = runtime_python()
    if python is None:
        missing = f"python{runtime_version()} not found (on PATH or in pyenv): no cold-start figures"
        print(missing, file=sys.stderr)
        if args.markdown:  # in make bench, the other benchmarks still run
            args.markdown.write_text(missing + "\n")
            return 0
        return 1
    if not (args.build / STAGED).exists() and not (args.build / "template.yaml").exists():
        print(f"no artifacts in {args.build}: run `make lambda-artifacts` first", file=sys.stderr)
        return 1
    medians = measure(python, args.build, args.runs, chosen)
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        met = report(medians, args.runs, chosen)
        print("every target met" if met else "a target is missed (see **over**)")
    print(table.getvalue(), end="")
    if args.markdown:
        args.markdown.write_text(table.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
