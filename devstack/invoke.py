"""``python -m devstack invoke FUNCTION -e events/FILE.json [--aws-url URL]``: ``sam local invoke``
without Docker.

Runs one function of ``template.yaml`` (by logical id, ``MediaApiFunction``, or by handler module,
``media_api``) on one event, in this process, with the function's environment from the template
pointed at a running local stack's emulator (``--aws-url``, else ``AWS_ENDPOINT_URL``, else
http://127.0.0.1:5000), and prints what the handler returned as JSON on stdout (the function's
logs go to stderr). A handler that raises is
printed as Lambda reports it (``errorType``, ``errorMessage``) and the exit status is 1.
FUNCTION may be left out (``-``): the function is then the one the template wires to the event
(its API route, queue, schedule or authorizer).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import traceback
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devstack.cfn_yaml import REPO_ROOT
from devstack.environment import apply_environment, build_environment, restore_environment
from devstack.runtime import FunctionRuntime
from devstack.template import LocalTemplate

DEFAULT_AWS_URL = "http://127.0.0.1:5000"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UnknownFunction(LookupError):
    pass


def resolve_function(template: LocalTemplate, name: str) -> str:
    """The logical id of ``name``: a logical id, a handler module or a code directory name."""
    for logical_id, spec in template.functions.items():
        module = spec.handler.rpartition(".")[0]
        if name in (logical_id, module, spec.code_dir.name, spec.name):
            return logical_id
    raise UnknownFunction(
        f"no function {name!r} in the template; one of: {', '.join(sorted(template.functions))}"
    )


def function_for_event(template: LocalTemplate, event: dict[str, Any]) -> str:
    """The function the template wires to ``event``, as API Gateway, SQS or EventBridge would pick it."""
    if event.get("type") in ("REQUEST", "TOKEN") and "methodArn" in event:
        authorizers = [a for api in template.apis.values() for a in api.authorizers.values()]
        if len(authorizers) == 1:
            return authorizers[0].function_id
    elif "httpMethod" in event:
        for route in template.routes:
            if route.path == event.get("resource") and route.method in (event["httpMethod"], "ANY"):
                return route.function_id
    elif event.get("Records") and event["Records"][0].get("eventSource") == "aws:sqs":
        arn = event["Records"][0]["eventSourceARN"]
        for source in template.sqs_sources:
            if template.queues[source.queue_id].arn == arn:
                return source.function_id
    elif event.get("detail-type") == "Scheduled Event":
        scheduled = [spec.logical_id for spec in template.functions.values() if spec.schedules]
        if len(scheduled) == 1:
            return scheduled[0]
    raise UnknownFunction("no function of the template takes this event; name one")


def invoke(function: str, event: dict[str, Any], *, aws_url: str) -> Any:
    """Run ``function`` (``-``: the event's own) on ``event`` with its environment; returns the result.

    The environment is applied for the call and restored after; handler modules stay imported
    (they read their settings once), so one process invokes against one emulator.
    """
    template = LocalTemplate.load(aws_url=aws_url)
    function_id = (
        function_for_event(template, event) if function == "-" else resolve_function(template, function)
    )
    shared = str(REPO_ROOT / "shared")
    if shared not in sys.path:
        sys.path.append(shared)
    previous = apply_environment(build_environment(template, aws_url=aws_url))
    try:
        _forget_settings()
        # The function's logs (Powertools writes them to stdout) go to stderr, as `sam local
        # invoke` shows them, leaving stdout to the response.
        with contextlib.redirect_stdout(sys.stderr):
            return FunctionRuntime(template.functions).invoke(function_id, event)
    finally:
        restore_environment(previous)


def _forget_settings() -> None:
    settings = sys.modules.get("medialib.settings")
    if settings is not None:
        settings.get_settings.cache_clear()


def _answers(url: str) -> bool:
    address = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=3):
            return True
    except OSError:
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack invoke",
        description="Run one function of template.yaml on one event against the local stack's emulator.",
    )
    parser.add_argument(
        "function",
        help="logical id (MediaApiFunction) or handler module (media_api); - picks it from the event",
    )
    parser.add_argument(
        "-e", "--event", required=True, type=Path, help="event JSON file, e.g. events/get-media.json"
    )
    parser.add_argument(
        "--aws-url",
        default=os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_AWS_URL,
        help=f"the emulator (default: $AWS_ENDPOINT_URL, else {DEFAULT_AWS_URL})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        event = json.loads(args.event.read_text())
    except (OSError, ValueError) as exc:
        print(f"invoke: cannot read the event {args.event}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    aws_url = args.aws_url.rstrip("/")
    if not _answers(aws_url):
        print(
            f"invoke: nothing answers at {aws_url}; start the local stack (make dev) or pass --aws-url",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        result = invoke(args.function, event, aws_url=aws_url)
    except UnknownFunction as exc:
        print(f"invoke: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # the handler failed: report it as Lambda does, with the trace on stderr
        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}))
        return EXIT_FAILED
    print(json.dumps(result, indent=2, default=str))
    return EXIT_OK
