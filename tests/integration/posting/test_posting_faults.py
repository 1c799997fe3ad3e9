"""Posting under faults: duplicates, early reversals, concurrent ERAs, poison messages (handler and
local runtime DLQ)."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

from infra import config
from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources
from infra.local.runtime import LocalRuntime
from medbill.adapters.dynamodb.repository import ClaimRepository
from medbill.billing.posting import post_remittance
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.remittance import ClaimRemittance
from medbill.models.status import ClaimStatus as S
from medbill.x12.remittance835 import ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.integration.posting.conftest import CollectingQueue, FakeWorkflow, Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting | ClaimRepository, claim_id: str) -> Claim:
    repo = p.repo if isinstance(p, Posting) else p
    return make_claim(repo, claim_id, dos=DOS, lines=LINES)


class _Racing(ClaimRepository):
    """Both posters read the claim before either writes (a barrier at the first claim write of each thread);
    transactions are applied one at a time, as DynamoDB does (moto's in-process backend has no lock)."""

    def __init__(self, table: str, parties: int) -> None:
        super().__init__(table)
        self.barrier = threading.Barrier(parties, timeout=10)
        self.first_save: set[int] = set()
        self.lock = threading.Lock()
        self.conflicts = 0
        inner = self._client

        class Serial:
            def __getattr__(_self, name: str) -> Any:
                attr = getattr(inner, name)
                if name != "transact_write_items":
                    return attr

                def locked(**kwargs: Any) -> Any:
                    with self.lock:
                        try:
                            return attr(**kwargs)
                        except Exception:
                            self.conflicts += 1
                            raise

                return locked

        self._client = Serial()

    def _write_claim(self, claim: Claim, **kwargs: Any) -> Claim:
        # Every claim write (a save, a posting) goes through here: both posters hold the version they
        # read when the first write is made. (A barrier in `save` alone missed postings, which write
        # through `post_ledger_entry`: then the race was left to timing and a loaded machine lost it.)
        me = threading.get_ident()
        if me not in self.first_save:
            self.first_save.add(me)
            self.barrier.wait()
        return super()._write_claim(claim, **kwargs)


def test_two_eras_for_one_claim_at_once_lose_no_update(aws: LocalResources) -> None:
    repo = _Racing(aws.claims_table, parties=2)
    claim = _claim(repo, "RACE0001")
    primary = claim_payment(claim, "short_paid")
    secondary = ClaimPayment(
        claim_id=claim.claim_id,
        status_code="2",
        charge=claim.total_charge or D(0),
        paid=D("20.00"),
        filing_indicator="CI",
        payer_claim_control_number="SEC0001",
    )
    from medbill.x12.remittance835 import Adjustment

    secondary.adjustments = [Adjustment("OA", "23", (claim.total_charge or D(0)) - D("20.00"))]
    queue = CollectingQueue()
    p = Posting(repo, queue, FakeWorkflow())
    p.receive("era/primary.835", era_for([], payer_id="PAYERA01", trace="P1", extra_claims=[primary]))
    p.receive("era/secondary.835", era_for([], payer_id="PAYERB02", trace="S1", extra_claims=[secondary]))
    remits = queue.take()
    assert len(remits) == 2
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(remit: ClaimRemittance) -> None:
        try:
            results.append(post_remittance(repo, p.workflow, remit))  # type: ignore[arg-type]
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(r,)) for r in remits]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(r.result for r in results) == ["posted", "posted"]
    assert repo.conflicts == 1  # one of them lost the race and retried on the fresh version
    got = repo.get_claim(claim.claim_id)
    entries = repo.ledger_entries(claim.claim_id)
    assert len(entries) == 2
    assert got.paid_amount == primary.paid + D("20.00") == sum((e.paid for e in entries), D(0))
    assert got.version == 2


# --- the posting Lambda: partial batch failures ------------------------------------------------------
def _sqs_event(bodies: list[str]) -> dict[str, Any]:
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
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:medbill-posting",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def _corrupt_claim(claim_id: str) -> None:
    """A claim item the repository cannot read back (its lines are gone): posting it raises."""
    repo = wiring.repository()
    repo.put_if_absent({"pk": f"CLAIM#{claim_id}", "sk": "CLAIM", "claim_id": claim_id, "status": "SUBMITTED"})


def test_posting_handler_reports_only_the_poison_messages(aws: LocalResources) -> None:
    _, resolver = load_project_handlers()
    bridge = LambdaBridge(resolver=resolver)
    claims = [_claim(wiring.repository(), f"BATCH{i:03d}") for i in range(3)]
    queue = CollectingQueue()
    p = Posting(wiring.repository(), queue, FakeWorkflow())
    p.receive("era/batch.835", era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="B1"))
    good = [r.model_dump_json() for r in queue.take()]
    _corrupt_claim("BROKEN001")
    broken = ClaimRemittance.model_validate_json(good[0]).model_copy(update={"claim_id": "BROKEN001", "position": 999})
    bodies = [good[0], "{not json", good[1], broken.model_dump_json(), json.dumps({"era_id": "x"}), good[2]]
    response = bridge.call("posting", _sqs_event(bodies))
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}, {"itemIdentifier": "m4"}]
    }
    for claim in claims:
        got = wiring.repository().get_claim(claim.claim_id)
        assert got.status == S.PAID and got.paid_amount == claim_payment(claim, "paid").paid
    # The retry of the good ones (the whole batch redelivered) posts nothing twice.
    assert bridge.call("posting", _sqs_event(good)) == {"batchItemFailures": []}
    assert all(len(wiring.repository().ledger_entries(c.claim_id)) == 1 for c in claims)


def test_poison_posting_message_ends_in_the_dlq_on_the_local_runtime() -> None:
    with LocalRuntime(simulator=False, visibility_timeout_seconds=1) as rt:
        wiring.reset()
        repo = wiring.repository()
        claims = [_claim(repo, f"DLQ{i:03d}") for i in range(2)]
        queue = CollectingQueue()
        Posting(repo, queue, FakeWorkflow()).receive(
            "era/dlq.835", era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="D1")
        )
        url = rt.resources.queue(config.POSTING_QUEUE.name).url
        bodies = [r.model_dump_json() for r in queue.take()]
        for body in [bodies[0], "poison: not a posting message", bodies[1]]:
            rt.sqs.send_message(QueueUrl=url, MessageBody=body)
        dlq_name = config.POSTING_QUEUE.dlq_name
        deadline = time.monotonic() + 30
        while rt.poller.dlq_depths()[dlq_name] < 1 and time.monotonic() < deadline:
            rt.poller.poll_once()
            time.sleep(0.2)
        dlq = rt.resources.queue(config.POSTING_QUEUE.name).dlq_url
        moved = rt.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in moved] == ["poison: not a posting message"]
        assert rt.queue_depths()[config.POSTING_QUEUE.name] == 0
        failures = [f for f in rt.failures if f.function_name.endswith("posting")]
        # First delivery: a partial failure. Its retries come alone, and a batch whose every record
        # fails is raised by Powertools as BatchProcessingError (Lambda then retries it the same way).
        assert [f.error_type for f in failures] == ["BatchProcessingError"] * (
            config.POSTING_QUEUE.max_receive_count - 1
        )
        for claim in claims:
            got = repo.get_claim(claim.claim_id)
            assert got.status == S.PAID and len(repo.ledger_entries(claim.claim_id)) == 1
    wiring.reset()
