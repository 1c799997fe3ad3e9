"""SQS -> Lambda, locally: what an event source mapping does, for each queue in config.QUEUES.

Receives up to the spec's batch_size messages, builds the SQS event Lambda would send (Records
with messageId, receiptHandle, body, attributes incl. ApproximateReceiveCount,
messageAttributes, md5OfBody, eventSource, eventSourceARN, awsRegion), invokes the consumer
in-process through the bridge, and honours `ReportBatchItemFailures`: successes are deleted,
failures are left to reappear after the visibility timeout. A handler that raises (or returns
a malformed response) fails the whole batch, as Lambda does.

Redrive is moto's: on receive, a message already received maxReceiveCount times is moved to
the queue's DLQ (tests/integration/local/test_local_sqs_poller.py checks it).

S3's `s3:TestEvent` (sent once when a bucket notification is configured) is passed to the
consumer like any other message, as AWS would: the intake and remittance handlers ignore it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from infra import config
from infra.local.lambda_bridge import LambdaBridge
from infra.local.provision import LocalResources, QueueResources, client

LOG = logging.getLogger("medbill.local.sqs_poller")

_ATTRIBUTE_NAMES = [
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
    "AWSTraceHeader",
]


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda's SQS event spells the attribute fields in camelCase, with empty lists present.
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType", "String"),
    }


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event, from one ReceiveMessage message."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: str(v) for k, v in message.get("Attributes", {}).items()},
        "messageAttributes": {k: _message_attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: Iterable[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


@dataclass
class BatchResult:
    queue: str
    received: int
    deleted: int
    failed: int


def _failed_ids(result: Any, message_ids: set[str]) -> set[str] | None:
    """The message ids the handler reported as failed; None means the whole batch failed."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return None  # not a batch response: Lambda treats that as the whole batch failing
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        # Lambda treats an empty or unknown itemIdentifier as a failed batch.
        if not ident or ident not in message_ids:
            return None
        failed.add(ident)
    return failed


class SqsPoller:
    """Polls every queue in config.QUEUES and feeds its consumer, batch by batch."""

    def __init__(
        self,
        resources: LocalResources,
        bridge: LambdaBridge,
        *,
        queues: Iterable[config.QueueSpec] = config.LOCAL_QUEUES,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self.resources = resources
        self.bridge = bridge
        self.queues: list[QueueResources] = [resources.queues[q.name] for q in queues]
        self.sqs = client("sqs", resources.endpoint_url, resources.region)
        self.on_error = on_error
        self.history: list[BatchResult] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one poll at a time: keeps batches of a queue from overlapping

    def poll_queue(self, queue: QueueResources) -> BatchResult:
        resp = self.sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(queue.spec.batch_size, 10),
            MessageSystemAttributeNames=_ATTRIBUTE_NAMES,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = resp.get("Messages", [])
        if not messages:
            return BatchResult(queue.spec.name, 0, 0, 0)
        event = sqs_event(messages, queue.arn, self.resources.region)
        ids = {m["MessageId"] for m in messages}
        invocation = self.bridge.invoke(queue.spec.consumer, event)
        failed: set[str] | None
        if invocation.function_error:
            failed = None  # the bridge has logged the exception (type and location)
        else:
            failed = _failed_ids(json.loads(invocation.payload), ids)
            if failed is None:
                LOG.error("consumer %s returned a malformed batchItemFailures", queue.spec.consumer)
        if failed is None:
            failed = ids
        to_delete = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(to_delete), 10):
            chunk = to_delete[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        if failed:
            LOG.warning(
                "queue %s: %d of %d messages failed and will be retried: %s",
                queue.spec.name,
                len(failed),
                len(messages),
                sorted(failed),
            )
        result = BatchResult(queue.spec.name, len(messages), len(to_delete), len(failed))
        self.history.append(result)
        return result

    def poll_once(self) -> int:
        """Poll every queue once (one batch each); the number of messages handed to a consumer."""
        handled = 0
        with self._lock:
            for queue in self.queues:
                handled += self.poll_queue(queue).received
        return handled

    def drain(self, max_batches: int = 100) -> int:
        """Poll until every queue answers empty (failed messages stay invisible for a while)."""
        total = 0
        for _ in range(max_batches):
            n = self.poll_once()
            total += n
            if n == 0:
                break
        return total

    # background mode
    def start(self, interval_s: float = 0.5) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name="sqs-poller", daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                n = self.poll_once()
            except Exception as exc:  # keep polling; say what broke
                LOG.exception("SQS poller pass failed: %s", type(exc).__name__)
                if self.on_error:
                    self.on_error("sqs_poller", exc)
                n = 0
            if n == 0:
                self._stop.wait(interval_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def dlq_depths(self) -> dict[str, int]:
        depths = {}
        for queue in self.queues:
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depths[queue.spec.dlq_name] = int(attrs["ApproximateNumberOfMessages"])
        return depths
