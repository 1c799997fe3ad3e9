"""A big ERA fans out a chunk at a time and resumes from its checkpoint (issue 12).

On main the fan-out was one sequential loop: a file too big for the remittance Lambda's 300 s was
retried from the start and ended in the DLQ with its ERA stuck in POSTING. Here a chunk is
`CHUNK_CLAIMS` claim payments (3 in these tests, so an 11-claim file has 4 chunks and the provider
adjustments make a fifth step); the clock stops the fan-out between chunks, a crash stops it
anywhere, and whatever is redelivered, every claim payment is posted once and the ERA reconciles
to the cent."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pytest

from medbill.billing import era_fanout
from medbill.billing.era import continue_era_file, receive_era_file, reconciliation
from medbill.models.claim import Claim
from medbill.models.remittance import ClaimRemittance
from medbill.x12.remittance835 import Party, Payment, ProviderAdjustment, Reference, write_835
from testkit.era_builder import claim_payment, era_for
from tests.fakes import FakeArtifacts
from tests.posting_harness import Posting, make_claim

DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]
KEY = "era/big.835"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 3)


def _claims(p: Posting, n: int, prefix: str = "FAN") -> list[Claim]:
    return [make_claim(p.repo, f"{prefix}{i:02d}", dos=DOS, lines=LINES) for i in range(n)]


def _upload(p: Posting, text: str) -> None:
    p.artifacts.write(KEY, text.encode())


def _clock(budget: int) -> Callable[[], bool]:
    """In time for `budget` checks, then out of time (the first step of an invocation asks no clock)."""
    calls = {"n": 0}

    def out_of_time() -> bool:
        calls["n"] += 1
        return calls["n"] > budget

    return out_of_time


def _posted_once(p: Posting, claims: list[Claim]) -> None:
    for claim in claims:
        [entry] = [e for e in p.ledger(claim.claim_id) if e.kind == "payment"]
        assert entry.paid == Decimal("120.00")


def test_a_fan_out_stopped_by_the_clock_resumes_from_its_checkpoint(p: Posting) -> None:
    claims = _claims(p, 11)
    _upload(p, era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="BIG1"))
    first = receive_era_file(p.repo, p.artifacts, p.queue, KEY, out_of_time=_clock(1))
    [era_id] = first.era_ids
    assert first.continues and first.claims_queued == 6  # chunks 0 and 1
    header = p.repo.get_era(era_id)
    assert header is not None and (header["fanout_chunks"], header["fanout_done"]) == (4, 2)
    report = json.loads(p.artifacts.read(f"era-reports/{KEY}.json"))
    assert (report["claims_queued"], report["continues"]) == (6, True)
    assert len(p.post_queued()) == 6
    rec = reconciliation(p.repo, era_id)
    assert rec is not None and rec["era_status"] == "POSTING" and rec["claims_pending"] == 5

    rest = continue_era_file(p.repo, p.artifacts, p.queue, KEY, first.file_id, out_of_time=era_fanout.never)
    assert not rest.continues and rest.claims_queued == 5 and rest.era_ids == [era_id]
    assert len(p.post_queued()) == 5
    _posted_once(p, claims)
    rec = reconciliation(p.repo, era_id)
    assert rec is not None
    assert (rec["era_status"], rec["posted_count"], rec["posted_total"]) == ("POSTED", 11, "1320.00")
    assert (rec["difference"], rec["reconciled"]) == ("0.00", True)
    report = json.loads(p.artifacts.read(f"era-reports/{KEY}.json"))
    assert (report["claims_queued"], report["continues"]) == (11, False)

    # The continue message and the S3 notification again: nothing left to queue.
    again = continue_era_file(p.repo, p.artifacts, p.queue, KEY, first.file_id, out_of_time=era_fanout.never)
    assert again.claims_queued == 0 and again.era_ids == []
    redelivered = receive_era_file(p.repo, p.artifacts, p.queue, KEY)
    assert redelivered.claims_queued == 0 and p.queue.messages == []


@dataclass
class _CrashingQueue:
    """Takes messages like SQS, then the Lambda dies after the `crash_after`th send (the messages of
    that send are queued: the crash comes before the checkpoint)."""

    crash_after: int
    messages: list[ClaimRemittance] = field(default_factory=list)
    sends: int = 0

    def send(self, remittances: Sequence[ClaimRemittance]) -> int:
        self.messages.extend(ClaimRemittance.model_validate_json(r.model_dump_json()) for r in remittances)
        self.sends += 1
        if self.sends == self.crash_after:
            raise TimeoutError("Task timed out")
        return len(remittances)


def test_a_crash_mid_chunk_is_redelivered_and_nothing_is_posted_twice(p: Posting) -> None:
    claims = _claims(p, 11)
    _upload(p, era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="BIG2"))
    crashing = _CrashingQueue(crash_after=3)
    with pytest.raises(TimeoutError):
        receive_era_file(p.repo, p.artifacts, crashing, KEY)
    assert len(crashing.messages) == 9  # chunk 2 was sent, its checkpoint never written
    before = p.post(crashing.messages)
    assert {r.result for r in before} == {"posted"}

    # SQS delivers the notification again: the file is checked again and the fan-out resumes at chunk 2.
    again = receive_era_file(p.repo, p.artifacts, p.queue, KEY)
    [era_id] = again.era_ids
    assert again.claims_queued == 5 and not again.continues
    resent = p.post_queued()
    assert [r.result for r in resent[:3]] == ["already_posted"] * 3  # chunk 2's, sent twice
    assert {r.result for r in resent[3:]} == {"posted"}
    _posted_once(p, claims)
    rec = reconciliation(p.repo, era_id)
    assert rec is not None
    assert (rec["posted_count"], rec["posted_total"], rec["difference"], rec["reconciled"]) == (
        11,
        "1320.00",
        "0.00",
        True,
    )


def test_only_a_file_bigger_than_one_chunk_is_staged_in_s3(p: Posting) -> None:
    small = _claims(p, 3, "SML")
    p.artifacts.write("era/small.835", era_for([(c, "paid") for c in small], payer_id="PAYERA01", trace="S1").encode())
    summary = receive_era_file(p.repo, p.artifacts, p.queue, "era/small.835", out_of_time=_clock(0))
    assert summary.claims_queued == 3 and not summary.continues  # in memory: never stopped, nothing staged
    assert isinstance(p.artifacts, FakeArtifacts)
    assert not [k for k in p.artifacts.files if k.startswith("era-work/")]
    [era_id] = summary.era_ids
    assert "fanout_chunks" not in (p.repo.get_era(era_id) or {})

    big = _claims(p, 7, "BIG")
    _upload(p, era_for([(c, "paid") for c in big], payer_id="PAYERA01", trace="B1"))
    staged = receive_era_file(p.repo, p.artifacts, p.queue, KEY)
    chunks = sorted(k for k in p.artifacts.files if k.startswith(f"era-work/{staged.file_id}/"))
    assert chunks == [f"era-work/{staged.file_id}/0000/{n:06d}.jsonl" for n in range(3)] + [
        f"era-work/{staged.file_id}/0000/plb.json"
    ]
    lines = p.artifacts.read(chunks[0]).decode().split("\n")
    assert len(lines) == 3 and all(line.startswith('M{"era_id":"-"') for line in lines)


def _payment(claims: list[Claim], trace: str, plbs: list[ProviderAdjustment] | None = None) -> Payment:
    cps = [claim_payment(c, "paid") for c in claims]
    adjustments = plbs or []
    total = sum((c.paid for c in cps), Decimal("0.00")) - sum((a.amount for a in adjustments), Decimal("0.00"))
    return Payment(
        total_paid=total,
        handling_code="I",
        credit_debit="C",
        payment_method="ACH",
        payment_date="20261125",
        trace_number=trace,
        payer_identifier="1PAYERA010",
        payer=Party("PR", name="TEST PAYER", references=[Reference("2U", "PAYERA01")]),
        payee=Party("PE", name="TEST CLINIC", id_qualifier="XX", id="1234567893"),
        claims=cps,
        provider_adjustments=adjustments,
    )


def test_two_payments_resume_each_at_its_own_checkpoint_and_a_plb_finds_its_claim_by_clp07(p: Posting) -> None:
    first, second = _claims(p, 5, "ONE"), _claims(p, 4, "TWO")
    # A recovery naming the payer's claim number (CLP07) of a claim in a chunk the PLB step never holds.
    plb = ProviderAdjustment("1234567893", "20261231", "WO", Decimal("20.00"), reference="PCNTWO01")
    text = write_835(
        [_payment(first, "P1"), _payment(second, "P2", [plb])],
        sender_id="PAYERA01",
        receiver_id="MEDBILL",
        interchange_control_number=7,
        created=datetime(2026, 11, 25, 9, 30),
    )
    _upload(p, text)
    start = receive_era_file(p.repo, p.artifacts, p.queue, KEY, out_of_time=_clock(3))
    one, two = start.era_ids
    # Payment 1: 2 chunks + its PLB step; payment 2: one chunk done before the clock ran out.
    assert start.continues and start.claims_queued == 8
    assert [(h["fanout_chunks"], h["fanout_done"]) for h in map(p.repo.get_era, (one, two)) if h] == [(2, 3), (2, 1)]
    steps = [
        continue_era_file(p.repo, p.artifacts, p.queue, KEY, start.file_id, out_of_time=_clock(0))  # always late
        for _ in range(2)
    ]
    assert [(s.continues, s.claims_queued) for s in steps] == [(True, 1), (False, 0)]  # still one step each
    p.post_queued()
    _posted_once(p, first + second)
    for era_id, posted, paid in ((one, "600.00", "600.00"), (two, "480.00", "460.00")):
        rec = reconciliation(p.repo, era_id)
        assert rec is not None  # BPR02 = posted - PLB, to the cent
        assert (rec["total_paid"], rec["posted_total"], rec["difference"], rec["reconciled"]) == (
            paid,
            posted,
            "0.00",
            True,
        )
    [recovery] = p.repo.provider_adjustments(two)
    assert (recovery["claim_id"], recovery["linked_by"], recovery["amount"]) == ("TWO01", "CLP07", "20.00")
    [entry] = [e for e in p.ledger("TWO01") if e.kind == "provider_adjustment"]
    assert entry.paid == Decimal("-20.00")
