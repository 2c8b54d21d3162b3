"""Starts the local stack exactly as `make dev` does (a separate process on free ports) and
stops it after the session. Tests drive it over HTTP only."""

from __future__ import annotations

import os
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
# Switches a developer may export for `make dev`; the default stack runs without them.
LOCAL_SWITCHES = ("ALLOW_LOOPBACK_IMPORTS",)
# The template's per-key limits (50/s, bursts of 100) would throttle the tests that poll without
# pausing and the 16-thread concurrency test; the stack enforces these instead. The limits
# themselves are tested with tiny ones (tests/integration/test_usage_limits.py).
UNTHROTTLED = ["--parameter-overrides", "KeyRateLimit=1000000", "KeyBurstLimit=1000000"]


class StackOutput:
    """Every line the stack process prints, read by a thread of its own for the whole session."""

    def __init__(self, stream):
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, ""):
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def lines(self, start: int = 0) -> list[str]:
        """The lines printed so far, from the ``start``-th on (``len(lines())`` marks a point)."""
        with self._changed:
            return self._lines[start:]

    def wait_for(self, pattern: str, deadline: float) -> re.Match:
        """The first line matching ``pattern``, waiting for it until ``deadline`` (monotonic)."""
        regex = re.compile(pattern)
        checked = 0
        with self._changed:
            while True:
                for line in self._lines[checked:]:
                    if match := regex.search(line):
                        return match
                checked = len(self._lines)
                remaining = deadline - time.monotonic()
                if self._ended or remaining <= 0:
                    raise RuntimeError(
                        f"local stack never printed {pattern!r}; output:\n{''.join(self._lines)}"
                    )
                self._changed.wait(remaining)


@dataclass
class RunningStack:
    api_url: str
    aws_url: str
    demo_key: str
    env: dict[str, str]  # what a developer's shell would export to reach the emulator
    output: StackOutput

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


def _started_stack(**switches: str) -> Iterator[RunningStack]:
    """A local stack process as `make dev` starts it, with ``switches`` added to its environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "POWERTOOLS_", "MEDIA_")) and k not in LOCAL_SWITCHES
    }
    env.update(
        PYTHONUNBUFFERED="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        **switches,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", "0", "--aws-port", "0", *UNTHROTTLED],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = StackOutput(process.stdout)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        key = output.wait_for(r"export MEDIALIB_KEY=(\S+)", deadline).group(1)
        api_url = output.wait_for(r"API\s*:?\s*(http://127\.0\.0\.1:\d+)", deadline).group(1)
        aws_url = output.wait_for(r"(?:Emulator|AWS)\w*\s*:?\s*(http://127\.0\.0\.1:\d+)", deadline).group(1)
        while requests.get(f"{api_url}/v1/openapi.json", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the local gateway never answered")
        cli_env = {**env, "AWS_ENDPOINT_URL": aws_url}
        yield RunningStack(api_url, aws_url, key, cli_env, output)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """The stack as `make dev` starts it: no local switch on, whatever the shell exports."""
    yield from _started_stack()


@pytest.fixture(scope="session")
def loopback_stack() -> Iterator[RunningStack]:
    """A second stack, as `ALLOW_LOOPBACK_IMPORTS=1 make dev` starts it (remote import may reach
    127.0.0.1): only the tests that import from a local server start it."""
    yield from _started_stack(ALLOW_LOOPBACK_IMPORTS="1")
