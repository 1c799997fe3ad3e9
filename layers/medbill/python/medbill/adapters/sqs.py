"""SQS senders: the posting fan-out, release requests and continuations (intake, ERA fan-out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from medbill.models.remittance import ClaimRemittance
from medbill.ports import QueueSendError

BATCH = 10  # SendMessageBatch maximum
# SendMessageBatch calls in flight at once: a call is mostly network wait (~15 ms in a region), so a
# 5,000-claim chunk of the ERA fan-out (500 calls) takes ~1 s instead of ~8 s. boto3 clients are
# thread-safe; the botocore pool keeps 10 connections, so more workers would only queue.
SEND_WORKERS = 8


class PostingQueue:
    """One message per claim payment; posting Lambdas take them in parallel."""

    def __init__(self, url: str | None, client: Any | None = None, *, workers: int = SEND_WORKERS) -> None:
        self.url = url
        self._client: Any = client or boto3.client("sqs")
        self.workers = max(1, workers)

    def send(self, remittances: Sequence[ClaimRemittance]) -> int:
        """Every message queued, or QueueSendError (some may be queued: posting is idempotent)."""
        if not self.url:
            raise QueueSendError("POSTING_QUEUE_URL is not configured for this function")
        batches = [
            [
                {"Id": str(i), "MessageBody": r.model_dump_json()}
                for i, r in enumerate(remittances[start : start + BATCH])
            ]
            for start in range(0, len(remittances), BATCH)
        ]
        if self.workers == 1 or len(batches) <= 1:
            for entries in batches:
                self._send_batch(entries)
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(batches))) as pool:
                list(pool.map(self._send_batch, batches))  # list(): the first failure is raised here
        return len(remittances)

    def _send_batch(self, entries: list[dict[str, str]]) -> None:
        for _ in range(3):  # a batch can partly fail (throttling): resend only the failed entries
            resp = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
            failed = {f["Id"] for f in resp.get("Failed", [])}
            if not failed:
                return
            entries = [e for e in entries if e["Id"] in failed]
        raise QueueSendError(f"{len(entries)} posting messages could not be queued")


class ReleaseQueue:
    """Asks the remittance stage to post a quarantined ERA file a person released."""

    def __init__(self, url: str | None, client: Any | None = None) -> None:
        self.url = url
        self._client: Any = client or boto3.client("sqs")

    def release(
        self, source_key: str, file_id: str, released_by: str, *, encoding: str | None = None, recheck: bool = False
    ) -> None:
        if not self.url:
            raise QueueSendError("REMITTANCE_QUEUE_URL is not configured for this function")
        body: dict[str, Any] = {"kind": "release", "source_key": source_key, "file_id": file_id}
        body["released_by"] = released_by
        if encoding:
            body.update(encoding=encoding, recheck=recheck)
        self._client.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))


class EraContinuationQueue:
    """Lets the remittance stage continue a big ERA file's fan-out in a new message (a fresh timeout)."""

    def __init__(self, url: str | None, client: Any | None = None) -> None:
        self.url = url
        self._client: Any = client or boto3.client("sqs")

    def send_continuation(self, source_key: str, file_id: str) -> None:
        if not self.url:
            raise QueueSendError("REMITTANCE_QUEUE_URL is not configured for this function")
        body = {"kind": "continue_era", "source_key": source_key, "file_id": file_id}
        self._client.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))


class IntakeQueue:
    """Lets intake continue a long encounter file in a new message (a fresh Lambda timeout)."""

    def __init__(self, url: str | None, client: Any | None = None) -> None:
        self.url = url
        self._client: Any = client or boto3.client("sqs")

    def send_continuation(
        self,
        key: str,
        from_record: int,
        resume: dict[str, Any] | None = None,
        version: dict[str, Any] | None = None,
    ) -> None:
        if not self.url:
            raise QueueSendError("INTAKE_QUEUE_URL is not configured for this function")
        body: dict[str, Any] = {"kind": "continue_intake", "key": key, "from_record": from_record}
        if resume is not None:
            body["resume"] = resume
        if version is not None:  # {"etag", "version_id"}: the next pass reads this version or stops
            body["version"] = version
        self._client.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))
