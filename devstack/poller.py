"""The SQS event source mapping, locally: long-polls each queue that feeds a function, hands the
messages over as a real SQS event and deletes the ones the function did not report as failed."""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from devstack.local_account import REGION
from devstack.runtime import FunctionRuntime
from devstack.specs import QueueSpec, SqsSource
from devstack.template import LocalTemplate

_LOG = logging.getLogger("devstack.poller")
WAIT_SECONDS = 1  # short long-polls, so stop() returns within about a second
MAX_MESSAGES_PER_RECEIVE = 10


class QueuePoller:
    """One thread per SQS event of the template's functions."""

    def __init__(self, template: LocalTemplate, runtime: FunctionRuntime, sqs: Any):
        self._sources = [
            (source, template.queues[source.queue_id]) for source in template.sqs_sources if source.enabled
        ]
        self._runtime = runtime
        self._sqs = sqs
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # For drain(): when each source's last empty receive began, and when the last batch ended.
        self._changed = threading.Condition()
        self._last_empty_receive: dict[tuple[str, str], float] = {}
        self._last_batch_done = 0.0

    def start(self) -> None:
        for source, queue in self._sources:
            thread = threading.Thread(
                target=self._poll, args=(source, queue), name=f"devstack-poller-{source.event_name}"
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def drain(self, timeout: float) -> None:
        """Wait until every polled queue was found empty after the last batch anywhere ended.

        Messages a failed batch left invisible do not count: they come back after the queue's
        VisibilityTimeout, as on AWS. Raises TimeoutError when ``timeout`` seconds pass first.
        """
        since = time.monotonic()
        deadline = since + timeout
        with self._changed:
            while True:
                threshold = max(since, self._last_batch_done)
                if all(
                    self._last_empty_receive.get((source.function_id, source.event_name), -1.0) >= threshold
                    for source, _ in self._sources
                ):
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._threads:
                    raise TimeoutError(f"queues still busy after {timeout:g} s")
                self._changed.wait(remaining)

    def _poll(self, source: SqsSource, queue: QueueSpec) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=queue.url,
                    MaxNumberOfMessages=min(source.batch_size, MAX_MESSAGES_PER_RECEIVE),
                    WaitTimeSeconds=WAIT_SECONDS,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:
                if not self._stopping.is_set():
                    # Expected while the emulator resets (the queue is gone for a moment): back off.
                    _LOG.warning("receiving from %s failed: %s", queue.name, exc)
                    self._stopping.wait(WAIT_SECONDS)
                continue
            if messages:
                try:
                    self._deliver(source, queue, messages)
                except Exception:
                    _LOG.exception("delivering a batch from %s failed", queue.name)
            with self._changed:
                if messages:
                    self._last_batch_done = time.monotonic()
                else:
                    self._last_empty_receive[(source.function_id, source.event_name)] = started
                self._changed.notify_all()

    def _deliver(self, source: SqsSource, queue: QueueSpec, messages: list[dict[str, Any]]) -> None:
        started = time.monotonic()
        event = {"Records": [sqs_record(message, queue.arn) for message in messages]}
        try:
            result = self._runtime.invoke(source.function_id, event)
        except Exception:
            # A failed invocation deletes nothing: every message returns after the visibility timeout.
            _LOG.exception(
                "%s failed on a batch of %d from %s", source.function_id, len(messages), queue.name
            )
            return
        failed = failed_message_ids(result, [message["MessageId"] for message in messages], source)
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), MAX_MESSAGES_PER_RECEIVE):
            entries = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(done[start : start + MAX_MESSAGES_PER_RECEIVE])
            ]
            self._sqs.delete_message_batch(QueueUrl=queue.url, Entries=entries)
        _LOG.info(
            "%s <- %s: %d messages, %d failed, %.0fms",
            source.function_id,
            queue.name,
            len(messages),
            len(failed),
            (time.monotonic() - started) * 1000,
        )


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source sends."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": _base64(value.get("BinaryValue")),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": [_base64(item) for item in value.get("BinaryListValues", [])],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def _base64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def failed_message_ids(result: Any, message_ids: list[str], source: SqsSource) -> set[str]:
    """Which messages stay on the queue after the function returned ``result``, as Lambda decides."""
    if not source.reports_batch_item_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)  # Lambda then fails the whole batch
        failed.add(identifier)
    return failed
