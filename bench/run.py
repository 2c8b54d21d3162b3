"""Every benchmark, one after the other; the markdown tables in build/bench/results.md.

    .venv/bin/python bench/run.py                              # imaging, catalogue, stack
    .venv/bin/python bench/run.py --only imaging,stack
    .venv/bin/python bench/run.py --only quality --quality-ref <git revision>

Each benchmark runs in its own process (`make bench ONLY=...` passes --only) and writes its table
to build/bench/<name>.md; this script prints them and gathers them, with the machine's
description, into build/bench/results.md for bench/README.md.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
BENCHMARKS = {
    "imaging": ("Image processing", ["bench/bench_imaging.py"]),
    "catalogue": ("Catalogue listing cost", ["bench/bench_catalogue.py"]),
    "stack": ("Through the local stack", ["bench/bench_stack.py"]),
    "quality": ("Variant quality against another revision", ["bench/quality.py"]),
}
DEFAULT = ("imaging", "catalogue", "stack")


def selected(only: str | None) -> list[str]:
    """The benchmarks named in a comma-separated `only` (all the default ones when empty)."""
    if not only:
        return list(DEFAULT)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return names


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )  # fmt: skip
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs ({model}), "
        f"Python {platform.python_version()}, load average before the run {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help=f"comma-separated, from: {', '.join(BENCHMARKS)}")
    parser.add_argument("--quality-ref", help="the git revision bench/quality.py compares against")
    args = parser.parse_args()
    names = selected(args.only)
    if "quality" in names and not args.quality_ref:
        raise SystemExit("the quality benchmark needs --quality-ref (make bench QUALITY_REF=...)")
    OUT.mkdir(parents=True, exist_ok=True)
    sections = [f"Measured {machine()}.\n"]
    for name in names:
        title, command = BENCHMARKS[name]
        markdown = OUT / f"{name}.md"
        extra = [args.quality_ref] if name == "quality" else []
        print(f"== {title}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, *command, *extra, "--markdown", str(markdown)], cwd=ROOT, check=True)
        sections.append(f"### {title}\n\n({time.perf_counter() - started:.0f} s)\n\n{markdown.read_text()}")
    results = OUT / "results.md"
    results.write_text("\n".join(sections))
    print(f"\nThe tables are in {results.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
