"""Regressions for the code review of the posting path (each test failed before its fix)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from medbill.billing.era import reconciliation
from medbill.billing.ledger import kind_of, outcome_of
from medbill.billing.posting import post_remittance
from medbill.models.claim import Claim
from medbill.models.remittance import ClaimRemittance, RemitAdjustment
from medbill.models.status import ClaimStatus as S
from medbill.workflow.stages import follow_up
from testkit.era_builder import claim_payment, era_for
from tests.fakes import FakeWorkflow
from tests.posting_harness import Posting, make_claim, reversal_of

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting, claim_id: str) -> Claim:
    return make_claim(p.repo, claim_id, dos=DOS, lines=LINES)


def test_same_payment_resent_in_another_layout_posts_nothing_twice(posting: Posting) -> None:
    p = posting
    a, b, d = (_claim(p, f"RELAY{n}") for n in "ABD")
    first = p.receive("era/1.835", era_for([(a, "paid"), (b, "paid")], payer_id="PAYERA01", trace="EFT7"))
    p.post_queued()
    # The payer sends payment EFT7 again, re-laid out: B now sits where A was, and D is new.
    second = p.receive("era/2.835", era_for([(d, "paid"), (b, "paid")], payer_id="PAYERA01", trace="EFT7"))
    assert second.quarantined and second.era_ids == [f"{first.era_ids[0]}~{second.file_id}"]
    released = p.receive(
        "era/2.835", era_for([(d, "paid"), (b, "paid")], payer_id="PAYERA01", trace="EFT7"), released=True, upload=False
    )
    results = {r.claim_id: r.result for r in p.post_queued()}
    assert results == {d.claim_id: "posted", b.claim_id: "already_posted"}
    assert p.claim(b.claim_id).paid_amount == claim_payment(b, "paid").paid  # once, not twice
    assert len(p.ledger(b.claim_id)) == 1
    # The first file's record is intact and still reconciles; the copy accounts for B as posted earlier.
    rec1 = reconciliation(p.repo, first.era_ids[0])
    assert rec1 is not None and rec1["reconciled"] and rec1["source_key"] == "era/1.835"
    rec2 = reconciliation(p.repo, released.era_ids[0])
    assert rec2 is not None and rec2["already_posted_count"] == 1 and rec2["difference"] == "0.00"


class _CrashOnce(FakeWorkflow):
    def __init__(self) -> None:
        super().__init__()
        self.crash = True

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        if self.crash:
            self.crash = False
            raise RuntimeError("Lambda timed out")
        return super().resume(task_token, output)


def test_held_reversal_is_applied_even_if_posting_its_original_crashed(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "CRASHREV01")
    original = claim_payment(claim, "paid")
    p.receive("era/rev.835", era_for([], payer_id="PAYERA01", trace="REV1", extra_claims=[reversal_of(original)]))
    assert [r.result for r in p.post_queued()] == ["held"]
    # The original arrives; the Lambda dies after the posting commit, before held reversals apply.
    p.receive("era/orig.835", era_for([], payer_id="PAYERA01", trace="ORIG1", extra_claims=[original]))
    messages = p.queue.take()
    waiting = p.claim(claim.claim_id).model_copy(update={"task_token": "tok"})
    p.repo.save(waiting, actor="test")
    crashing = _CrashOnce()
    with pytest.raises(RuntimeError):
        post_remittance(p.repo, crashing, messages[0])
    assert p.claim(claim.claim_id).paid_amount == original.paid  # posted, reversal not yet applied
    again = post_remittance(p.repo, crashing, messages[0])  # SQS redelivers
    assert again.result == "already_posted" and again.notes and "applied held reversal" in again.notes[0]
    assert p.claim(claim.claim_id).paid_amount == D("0.00")
    assert p.repo.held_reversals(claim.claim_id) == []


def test_reversal_landing_after_its_correction_leaves_the_claim_paid(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "ORDER01")
    original = claim_payment(claim, "paid")
    p.receive("era/o.835", era_for([], payer_id="PAYERA01", trace="O1", extra_claims=[original]))
    p.post_queued()
    corrected = claim_payment(claim, "paid", allowed_pct=D("0.70"))
    corrected.payer_claim_control_number += "R"
    p.receive(
        "era/c.835", era_for([], payer_id="PAYERA01", trace="C1", extra_claims=[reversal_of(original), corrected])
    )
    reversal_msg, corrected_msg = p.queue.take()
    post_remittance(p.repo, p.workflow, corrected_msg)
    post_remittance(p.repo, p.workflow, reversal_msg)  # lands last
    got = p.claim(claim.claim_id)
    assert got.paid_amount == corrected.paid and got.status == S.PAID and got.remittance_outcome == "paid"


def test_claim_paid_entirely_to_the_deductible_is_short_paid_not_denied() -> None:
    remit = ClaimRemittance(
        era_id="P-T",
        file_id="F",
        source_key="era/x",
        payer_id="P",
        trace_number="T",
        position=1,
        claim_id="C1",
        status_code="1",
        charge=D("100.00"),
        paid=D("0.00"),
        adjustments=[
            RemitAdjustment(group="CO", reason="45", amount=D("20.00")),
            RemitAdjustment(group="PR", reason="1", amount=D("80.00")),
        ],
    )
    assert kind_of(remit) == "payment"
    assert outcome_of("payment", remit.all_adjustments(), remit.paid) == "short_paid"


def test_paid_just_as_the_wait_timed_out_stays_paid(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "LATEPAID01")
    p.receive("era/l.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace="L1"))
    p.post_queued()
    assert p.claim(claim.claim_id).status == S.PAID
    assert follow_up(p.repo, claim.claim_id, "timed_out").model_dump(mode="json") == {"status": "PAID", "action": None}
    assert p.claim(claim.claim_id).status == S.PAID
