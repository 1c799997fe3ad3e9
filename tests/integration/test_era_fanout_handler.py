"""A big ERA through the real remittance and posting handlers on moto (issue 12): the remittance
Lambda is always short of time here, so every invocation moves the fan-out one step and queues a
`continue_era` message on its own queue; the messages are delivered (the continuation twice, as SQS
may) until none is left, then the posting Lambda posts what was queued. Every claim payment is
posted once and the ERA reconciles to the cent. On main the fan-out had no continuation: a file
that outlived the Lambda was retried from the start and ended in the DLQ."""

from __future__ import annotations

import inspect
import json
from datetime import date
from typing import Any

import pytest

from infra import config
from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources, client
from medbill.billing import era_fanout, era_ingestion
from medbill.billing.era import reconciliation
from medbill.entry import wiring
from testkit.era_builder import era_for
from tests.integration.posting.conftest import make_claim

DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _sqs_event(bodies: list[str], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"rh{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def _drain(url: str) -> list[str]:
    sqs = client("sqs")
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for m in got:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_a_big_era_continues_through_the_remittance_queue_until_every_claim_is_posted_once(
    aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 3)
    _, resolver = load_project_handlers()
    bridge = LambdaBridge(resolver=resolver)
    remittance = resolver(config.FUNCTIONS["remittance"].function_name)
    assert remittance is not None
    handler_globals = inspect.unwrap(remittance).__globals__
    assert handler_globals["TIME_RESERVE_MS"] == 60_000
    monkeypatch.setitem(handler_globals, "TIME_RESERVE_MS", 10**9)  # always out of time
    repo = wiring.repository()
    claims = [make_claim(repo, f"HND{i:02d}", dos=DOS, lines=LINES) for i in range(8)]
    text = era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="HND1")
    wiring.artifacts().write("era/handler-big.835", text.encode())  # S3 notifies the remittance queue

    rq, pq = aws.queue("remittance"), aws.queue("posting")
    kinds: list[str] = []
    for _ in range(10):
        bodies = _drain(rq.url)
        if not bodies:
            break
        kinds += [json.loads(b).get("kind", "s3") for b in bodies if "s3:TestEvent" not in b]
        bodies += [b for b in bodies if json.loads(b).get("kind") == "continue_era"]  # delivered twice
        assert bridge.call("remittance", _sqs_event(bodies, rq.arn)) == {"batchItemFailures": []}
    # 8 claims in chunks of 3: 3 chunks and the PLB step, one per invocation.
    assert kinds == ["s3", "continue_era", "continue_era", "continue_era"]

    postings = _drain(pq.url)
    assert sorted(json.loads(b)["claim_id"] for b in postings) == sorted(c.claim_id for c in claims)
    assert bridge.call("posting", _sqs_event(postings, pq.arn)) == {"batchItemFailures": []}
    for claim in claims:
        assert [e.paid for e in repo.ledger_entries(claim.claim_id)] == [claim.total_charge * 80 / 100]
    [era_id] = repo.era_ids_for_file(json.loads(postings[0])["file_id"])
    rec = reconciliation(repo, era_id)
    assert rec is not None
    assert (rec["era_status"], rec["posted_count"], rec["posted_total"]) == ("POSTED", 8, "960.00")
    assert (rec["difference"], rec["reconciled"]) == ("0.00", True)


def test_an_era_over_the_size_limit_is_quarantined_by_the_handler_from_the_notifications_size(
    aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decision 38: the S3 notification's size reaches the check, and a file over MAX_ERA_BYTES is
    quarantined with a report naming the limit; nothing is queued for posting."""
    repo = wiring.repository()
    claims = [make_claim(repo, f"BIG{i:02d}", dos=DOS, lines=LINES) for i in range(3)]
    body = era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="BIG1").encode()
    monkeypatch.setattr(era_ingestion, "MAX_ERA_BYTES", len(body) - 1)
    sizes: list[int | None] = []
    receive = era_ingestion.receive_era_file

    def spy(*args: Any, **kwargs: Any) -> Any:
        sizes.append(kwargs.get("size"))
        return receive(*args, **kwargs)

    _, resolver = load_project_handlers()
    remittance = resolver(config.FUNCTIONS["remittance"].function_name)
    assert remittance is not None
    monkeypatch.setitem(inspect.unwrap(remittance).__globals__, "receive_era_file", spy)
    wiring.artifacts().write("era/too-big.835", body)
    rq, pq = aws.queue("remittance"), aws.queue("posting")
    bodies = [b for b in _drain(rq.url) if "s3:TestEvent" not in b]
    assert LambdaBridge(resolver=resolver).call("remittance", _sqs_event(bodies, rq.arn)) == {"batchItemFailures": []}
    assert sizes == [len(body)]
    report = json.loads(wiring.artifacts().read("era-reports/era/too-big.835.json"))
    assert report["status"] == "QUARANTINED"
    assert report["file_error"].startswith(f"the file is {len(body):,} bytes, over the ERA limit of {len(body) - 1:,}")
    assert _drain(pq.url) == []
