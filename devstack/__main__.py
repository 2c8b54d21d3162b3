"""``python -m devstack [--port 3000] [--aws-port 5000] [--media-port 0]``: the local stack until
Ctrl-C or SIGTERM.

PORT, AWS_PORT and MEDIA_PORT in the environment set the defaults.

``python -m devstack invoke FUNCTION -e events/FILE.json [--aws-url URL]`` runs one function on
one event against a running stack's emulator instead (see devstack/invoke.py).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from devstack.environment import LOOPBACK_IMPORTS_SWITCH
from devstack.stack import LocalStack

# Handlers flush metrics after every request; a request without a business metric is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Run the media library locally: API gateway, S3/SQS/DynamoDB emulator and queue poller.",
        epilog="python -m devstack invoke FUNCTION -e EVENT runs one function on one event instead "
        "(python -m devstack invoke --help).",
    )
    # String defaults go through type=int too, so a bad PORT is reported like a bad --port.
    parser.add_argument("--port", type=int, default=os.environ.get("PORT", "3000"), help="API port (0: any)")
    parser.add_argument(
        "--aws-port", type=int, default=os.environ.get("AWS_PORT", "5000"), help="emulator port (0: any)"
    )
    parser.add_argument(
        "--media-port",
        type=int,
        default=os.environ.get("MEDIA_PORT", "0"),
        help="media delivery port, the local CloudFront (0, the default: any free port)",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, as for sam deploy (e.g. KeyRateLimit=5 KeyBurstLimit=10)",
    )
    return parser


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise SystemExit(f"devstack: --parameter-overrides takes NAME=VALUE, got {pair!r}")
        overrides[name] = value
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["invoke"]:
        from devstack import invoke

        return invoke.main(argv[1:])
    args = _parser().parse_args(argv)
    # The stack's own lines (one per request, one per queue batch) at INFO; libraries' only when they warn.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("devstack").setLevel(logging.INFO)
    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())

    seed_demo = importlib.util.find_spec("medialib.services.api_keys") is not None
    if not seed_demo:
        logging.warning("medialib.services.api_keys is missing: starting without a demo key")
    try:
        stack = LocalStack(
            port=args.port,
            aws_port=args.aws_port,
            media_port=args.media_port,
            parameter_overrides=_overrides(args.parameter_overrides),
            seed_demo=seed_demo,
        ).start()
    except (OSError, ValueError) as exc:
        print(f"devstack: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"API        {stack.api_url}  (try {stack.api_url}/v1/docs)")
        print(f"Browser    {stack.api_url}/  (the media browser; sign in with the API key)")
        print(f"Media      {stack.media_url}  (item URLs: the local CloudFront distribution)")
        print(f"Emulator   {stack.aws_url}  (S3, SQS, DynamoDB; bucket {stack.bucket})")
        if stack.environment.get(LOOPBACK_IMPORTS_SWITCH) == "1":
            print(f"Imports    may fetch from 127.0.0.1 and ::1 ({LOOPBACK_IMPORTS_SWITCH}=1)")
        if stack.demo_key:
            print(f"Tenant     {stack.demo_tenant}")
            print(f"API key    {stack.demo_key}")
            print()
            print(f"export MEDIALIB_API={stack.api_url}")
            print(f"export MEDIALIB_KEY={stack.demo_key}")
        print()
        print("For the medialib command (keys, tenants) against this stack:")
        print(
            f"export AWS_ENDPOINT_URL={stack.aws_url} AWS_ACCESS_KEY_ID=testing "
            "AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1"
        )
        print("Ctrl-C stops the stack.", flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    status = main()
    # The process ends here: leave the emulator's objects (every item, object and message, and
    # moto's copies of them) to the OS instead of a final collection that takes seconds.
    gc.freeze()
    sys.exit(status)
