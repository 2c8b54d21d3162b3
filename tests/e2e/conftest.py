"""Starts the local stack exactly as `make dev` does (a separate process on free ports) and
stops it after the session. Tests drive it over HTTP only."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 90


@dataclass
class RunningStack:
    api_url: str
    aws_url: str
    demo_key: str
    env: dict[str, str]  # what a developer's shell would export to reach the emulator

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "devstack.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )

    def new_key(self, tenant: str, scopes: str = "media:read,media:write,media:delete") -> str:
        result = self.cli("keys", "create", "--tenant", tenant, "--scopes", scopes)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


def _wait_for(pattern: str, lines: queue.Queue, seen: list[str], deadline: float) -> re.Match:
    regex = re.compile(pattern)
    for line in seen:
        if match := regex.search(line):
            return match
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if match := regex.search(line):
            return match
    raise RuntimeError(f"local stack never printed {pattern!r}; output:\n{''.join(seen)}")


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MEDIA_"))}
    env.update(
        PYTHONUNBUFFERED="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", "0", "--aws-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        key = _wait_for(r"export MEDIALIB_KEY=(\S+)", lines, seen, deadline).group(1)
        api_url = _wait_for(r"API\s*:?\s*(http://127\.0\.0\.1:\d+)", lines, seen, deadline).group(1)
        aws_url = _wait_for(
            r"(?:Emulator|AWS)\w*\s*:?\s*(http://127\.0\.0\.1:\d+)", lines, seen, deadline
        ).group(1)
        while requests.get(f"{api_url}/v1/openapi.json", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the local gateway never answered")
        cli_env = {**env, "AWS_ENDPOINT_URL": aws_url}
        yield RunningStack(api_url, aws_url, key, cli_env)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
