"""The whole local stack in one object, for ``make dev`` and the end-to-end tests::

    with LocalStack(port=0, aws_port=0) as stack:
        requests.get(f"{stack.api_url}/v1/media", headers={"Authorization": f"Bearer {stack.demo_key}"})

One LocalStack per process at a time: the environment it applies and the handler modules it
imports are process-wide, and handlers read their settings once, at import. A later LocalStack
in the same process reuses the emulator port of the first when it may pick one, so the clients
the handlers already built still reach the emulator.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.cfn_yaml import REPO_ROOT, TEMPLATE_PATH
from devstack.delivery import LocalDelivery
from devstack.delivery_policy import media_response_headers
from devstack.emulator import Emulator, port_is_free
from devstack.environment import apply_environment, build_environment, restore_environment
from devstack.gateway import GatewayServer, LocalApiGateway
from devstack.local_account import ACCOUNT_ID, REGION, STACK_NAME
from devstack.poller import QueuePoller
from devstack.runtime import FunctionRuntime
from devstack.template import LocalTemplate

DEMO_TENANT = "demo"
_ONE_PER_PROCESS = threading.Lock()
_first_aws_port: int | None = None


class LocalStack:
    """Emulator, gateway and poller built from ``template.yaml``, all on 127.0.0.1.

    ``port`` / ``aws_port`` / ``media_port`` 0 pick free ports; ``media_port`` serves the bucket as
    the CloudFront distribution does (``media_url``, where item URLs point). ``seed_demo``
    creates tenant ``demo`` with a key of every scope (``demo_key``). ``authorizer_cache`` caches
    authorizer results for the template's ``ReauthorizeEvery``, as API Gateway does (off by
    default, so a revoked key is refused at once). ``parameter_overrides`` replace template
    parameters' defaults, as ``sam deploy --parameter-overrides`` does (e.g. the per-key limits).
    """

    def __init__(
        self,
        port: int = 0,
        aws_port: int = 0,
        *,
        media_port: int = 0,
        parameter_overrides: dict[str, str] | None = None,
        template_path: Path = TEMPLATE_PATH,
        seed_demo: bool = True,
        authorizer_cache: bool = False,
    ):
        self._port, self._aws_port, self._media_port = port, aws_port, media_port
        self._template_path = template_path
        self._parameters = dict(parameter_overrides or {})
        self._seed_demo = seed_demo
        self._authorizer_cache = authorizer_cache
        self._running: contextlib.ExitStack | None = None
        self.api_url = ""
        self.aws_url = ""
        self.media_url = ""
        self.bucket = ""
        self.demo_tenant = DEMO_TENANT
        self.demo_key: str | None = None
        self.environment: dict[str, str] = {}

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        if not _ONE_PER_PROCESS.acquire(blocking=False):
            raise RuntimeError("a LocalStack is already running in this process; stop it first")
        self._running = contextlib.ExitStack()
        self._running.callback(_ONE_PER_PROCESS.release)
        try:
            self._start(self._running)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the poller, the gateway and the emulator (joining their threads); restore the environment."""
        running, self._running = self._running, None
        if running is not None:
            running.close()

    def _start(self, running: contextlib.ExitStack) -> None:
        global _first_aws_port
        shared = str(REPO_ROOT / "shared")
        if shared not in sys.path:
            sys.path.append(shared)
        self.emulator = Emulator(port=self._aws_port or _free_or_zero(_first_aws_port))
        self.aws_url = self.emulator.start()
        running.callback(self.emulator.stop)
        _first_aws_port = _first_aws_port or int(self.aws_url.rsplit(":", 1)[1])

        self.template = LocalTemplate.load(
            self._template_path, aws_url=self.aws_url, parameters=self._parameters
        )
        self.bucket = self.template.only_bucket().name
        delivery = LocalDelivery(
            self.emulator.client("s3"), self.bucket, media_response_headers(self._template_path)
        )
        delivery_server = GatewayServer(delivery, port=self._media_port)
        delivery_server.start()
        running.callback(delivery_server.stop)
        self.media_url = delivery_server.url

        self.environment = build_environment(self.template, aws_url=self.aws_url, media_url=self.media_url)
        # Settings read before (or during) the stack must be read again from the environment then in force.
        running.callback(_forget_settings)  # runs after the environment is restored
        running.callback(restore_environment, apply_environment(self.environment))
        _forget_settings()
        self.emulator.create_resources(self.template)

        self.runtime = FunctionRuntime(self.template.functions)
        self.gateway = LocalApiGateway(
            self.template.only_api(),
            self.template.routes,
            self.runtime,
            authorizer_cache=self._authorizer_cache,
        )
        server = GatewayServer(self.gateway, port=self._port)
        server.start()
        running.callback(server.stop)
        self.api_url = server.url

        self.poller = QueuePoller(self.template, self.runtime, self.emulator.client("sqs"))
        self.poller.start()
        running.callback(self.poller.stop)
        if self._seed_demo:
            self.demo_key = self._seed()

    def _seed(self) -> str:
        # Imported here: the settings must see the environment applied above.
        from medialib.domain.principal import SCOPES
        from medialib.services.api_keys import create_key

        _, key = create_key(DEMO_TENANT, SCOPES, label="local stack demo key")
        return key

    def wait_for_queues_idle(self, timeout: float = 30.0) -> None:
        """Block until every polled queue is empty and no batch is running; TimeoutError otherwise."""
        self.poller.drain(timeout)

    def reset(self) -> None:
        """Empty every table, queue and the bucket, recreate them and seed the demo tenant again."""
        self.emulator.reset(self.template)
        self.gateway.forget_authorizations()
        self.gateway.usage_limits.forget()
        self.demo_key = self._seed() if self._seed_demo else None

    def client(self, service: str) -> Any:
        """A boto3 client for the emulator (``s3``, ``sqs``, ``dynamodb``)."""
        return self.emulator.client(service)

    def trigger_schedule(self, function_id: str) -> Any:
        """Invoke a function with its Schedule event, as EventBridge would; returns its result."""
        schedule = self.template.functions[function_id].schedules[0]
        event = (
            json.loads(schedule.input)
            if schedule.input
            else {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": ACCOUNT_ID,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": REGION,
                "resources": [
                    f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{STACK_NAME}-{schedule.event_name}"
                ],
                "detail": {},
            }
        )
        return self.runtime.invoke(function_id, event)


def _forget_settings() -> None:
    settings = sys.modules.get("medialib.settings")
    if settings is not None:
        settings.get_settings.cache_clear()


def _free_or_zero(port: int | None) -> int:
    return port if port and port_is_free(port) else 0
