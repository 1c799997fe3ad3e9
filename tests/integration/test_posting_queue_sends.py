"""The posting queue adapter sends SendMessageBatch calls in parallel (a big ERA's fan-out is mostly
network wait: decision 33), every message once, retrying only the entries a batch failed."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest

from medbill.adapters.sqs import PostingQueue
from medbill.models.remittance import ClaimRemittance
from medbill.ports import QueueSendError


def _remits(n: int) -> list[ClaimRemittance]:
    return [
        ClaimRemittance(
            era_id="P-T",
            file_id="F",
            source_key="era/x",
            payer_id="P",
            trace_number="T",
            position=i,
            claim_id=f"C{i:04d}",
            status_code="1",
            charge=Decimal("100.00"),
            paid=Decimal("80.00"),
        )
        for i in range(1, n + 1)
    ]


class _Client:
    """SendMessageBatch as SQS answers it; `meet` calls wait for each other (proof they overlap);
    `fail_once` entry ids fail on their first attempt, `fail_always` on every one."""

    def __init__(self, meet: int = 0, fail_once: frozenset[str] = frozenset(), fail_always: bool = False) -> None:
        self.lock = threading.Lock()
        self.bodies: list[str] = []
        self.calls: list[list[str]] = []
        self.barrier = threading.Barrier(meet, timeout=5) if meet else None
        self.fail_once, self.fail_always = set(fail_once), fail_always

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        if self.barrier is not None:
            self.barrier.wait()  # BrokenBarrierError if the calls came one after another
        failed = []
        with self.lock:
            self.calls.append([e["Id"] for e in Entries])
            for entry in Entries:
                key = json.loads(entry["MessageBody"])["claim_id"]
                if self.fail_always or key in self.fail_once:
                    self.fail_once.discard(key)
                    failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "InternalError"})
                else:
                    self.bodies.append(entry["MessageBody"])
        return {"Successful": [], "Failed": failed}


def test_batches_overlap_and_every_message_is_sent_once() -> None:
    client = _Client(meet=4)  # four calls must be in flight together, else the barrier breaks
    queue = PostingQueue("https://sqs/medbill-posting", client, workers=8)
    assert queue.send(_remits(40)) == 40
    assert sorted(json.loads(b)["position"] for b in client.bodies) == list(range(1, 41))
    assert len(client.calls) == 4 and all(len(ids) == 10 for ids in client.calls)


def test_one_worker_sends_in_order_and_a_lone_batch_needs_no_thread() -> None:
    client = _Client()
    PostingQueue("u", client, workers=1).send(_remits(25))
    assert [json.loads(b)["position"] for b in client.bodies] == list(range(1, 26))
    assert [len(ids) for ids in client.calls] == [10, 10, 5]


def test_only_the_failed_entries_are_resent_and_a_batch_that_keeps_failing_raises() -> None:
    client = _Client(fail_once=frozenset({"C0003", "C0017"}))
    PostingQueue("u", client).send(_remits(20))
    assert sorted(json.loads(b)["position"] for b in client.bodies) == list(range(1, 21))
    assert sorted(len(ids) for ids in client.calls) == [1, 1, 10, 10]  # each resend holds the failed entry only
    with pytest.raises(QueueSendError, match="10 posting messages could not be queued"):
        PostingQueue("u", _Client(fail_always=True)).send(_remits(30))
