"""Requests per second and latency through the local stack: gateway, authorizer, handler, emulator.

Starts the local stack as `make dev` does (`python -m devstack`, free ports, its own process
group), seeds the demo tenant with items written straight to the emulator's tables
(`media_store.bulk_import`), then sends a fixed number of requests over a fixed number of client
threads on loopback, per endpoint, after a warm-up. Every response must be 200. It is a
regression check for the request path on one machine, not a forecast of Lambda's latency.

    .venv/bin/python bench/bench_stack.py [--requests 400] [--threads 4] [--items 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tables import percentile, table

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE_S = 120
TENANT = "demo"


@dataclass(frozen=True)
class Stack:
    api_url: str
    aws_url: str
    key: str


@contextmanager
def local_stack() -> Iterator[Stack]:
    """`python -m devstack` on free ports; stopped with SIGINT, then killed if it lingers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MEDIA_"))}
    env.update(PYTHONUNBUFFERED="1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")  # noqa: S106
    env.update(AWS_DEFAULT_REGION="us-east-1", POWERTOOLS_LOG_LEVEL="ERROR")
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", "0", "--aws-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: Queue[str] = Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        found: dict[str, str] = {}
        patterns = {
            "key": r"export MEDIALIB_KEY=(\S+)",
            "api": r"API\s*:?\s*(http://127\.0\.0\.1:\d+)",
            "aws": r"Emulator\s*:?\s*(http://127\.0\.0\.1:\d+)",
        }
        while len(found) < len(patterns):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError("the local stack did not start")
            try:
                line = lines.get(timeout=remaining)
            except Empty:
                continue
            for name, pattern in patterns.items():
                if match := re.search(pattern, line):
                    found.setdefault(name, match.group(1))
        yield Stack(found["api"], found["aws"], found["key"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _pump(stream, lines: Queue[str]) -> None:  # type: ignore[no-untyped-def]
    for line in iter(stream.readline, ""):
        lines.put(line)


def seed(stack: Stack, count: int) -> list[str]:
    """`count` ready images for the demo tenant, written to the stack's tables in batches."""
    from devstack.environment import build_environment
    from devstack.template import LocalTemplate

    os.environ.update(build_environment(LocalTemplate.load(aws_url=stack.aws_url), aws_url=stack.aws_url))
    from medialib.adapters import media_store
    from medialib.domain.media import Media, new_media_id, original_key

    rng = random.Random(3)
    now = "2026-11-29T00:00:00.000Z"
    items = []
    for n in range(count):
        media_id = new_media_id(1_790_000_000_000 + n * 1000)
        items.append(
            Media(
                tenant_id=TENANT,
                id=media_id,
                kind="image",
                status="ready",
                filename=f"photo-{n:05d}.jpg",
                content_type="image/jpeg",
                size=rng.randint(1_000, 5_000_000),
                width=4000,
                height=3000,
                original_key=original_key(TENANT, media_id),
                created_at=now,
                updated_at=now,
                max_size=1,
                confirmed_at=now,
            )
        )
    for start in range(0, count, 500):
        media_store.bulk_import(items[start : start + 500])
    return [item.id for item in items]


@dataclass(frozen=True)
class Load:
    latencies: list[float]  # seconds, one per request
    wall: float  # seconds for the whole run


def load(url_of, count: int, threads: int, key: str) -> Load:  # type: ignore[no-untyped-def]
    """`count` GETs spread over `threads` client threads, each with its own keep-alive session."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def worker() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            started = time.perf_counter()
            response = session.get(url_of(n), timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return Load(latencies, wall)


def run(requests_per_endpoint: int, threads: int, items: int) -> str:
    with local_stack() as stack:
        ids = seed(stack, items)
        api = stack.api_url
        endpoints = {
            "GET /v1/media/{id}": lambda n: f"{api}/v1/media/{ids[n % len(ids)]}",
            "GET /v1/media (limit 24)": lambda n: f"{api}/v1/media?limit=24",
            "GET /v1/media?kind=image (limit 24)": lambda n: f"{api}/v1/media?kind=image&limit=24",
        }
        rows = []
        for name, url_of in endpoints.items():
            load(url_of, max(10, requests_per_endpoint // 20), threads, stack.key)  # warm-up
            result = load(url_of, requests_per_endpoint, threads, stack.key)
            ms = [latency * 1000 for latency in result.latencies]
            rows.append(
                [
                    name,
                    f"{requests_per_endpoint} over {threads}",
                    f"{requests_per_endpoint / result.wall:.0f}",
                    f"{percentile(ms, 0.5):.1f}",
                    f"{percentile(ms, 0.99):.1f}",
                ]
            )
            print(" | ".join(rows[-1]), file=sys.stderr)
    headers = ["request", "requests over threads", "requests/s", "p50 ms", "p99 ms"]
    return table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--items", type=int, default=1000, help="items in the demo tenant")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    markdown = run(args.requests, args.threads, args.items)
    print(markdown)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown)


if __name__ == "__main__":
    main()
