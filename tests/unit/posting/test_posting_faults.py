"""Posting under faults: duplicates, early reversals, concurrent ERAs, poison messages (handler and
local runtime DLQ)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from medbill.billing.era import reconciliation
from medbill.models.claim import Claim
from medbill.ports import ClaimStore
from medbill.x12.remittance835 import ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.posting_harness import Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting | ClaimStore, claim_id: str) -> Claim:
    repo = p.repo if isinstance(p, Posting) else p
    return make_claim(repo, claim_id, dos=DOS, lines=LINES)


def _reversed(cp: ClaimPayment) -> ClaimPayment:
    from tests.posting_harness import reversal_of

    return reversal_of(cp)


def test_same_file_twice_and_a_copy_under_another_key_post_once(posting: Posting) -> None:
    p = posting
    claims = [_claim(p, f"DUP{i:04d}") for i in range(3)]
    era = era_for(
        [(claims[0], "paid"), (claims[1], "short_paid"), (claims[2], "denied")], payer_id="PAYERA01", trace="EFT1"
    )
    first = p.receive("era/a.835", era)
    assert [r.result for r in p.post_queued()] == ["posted"] * 3
    again = p.receive("era/a.835", era, upload=False)  # S3 / SQS redelivery
    copy = p.receive("era/copy-of-a.835", era)  # someone drops the same file again
    assert not again.quarantined and not copy.quarantined and first.era_ids == copy.era_ids
    assert [r.result for r in p.post_queued()] == ["already_posted"] * 6
    for claim in claims:
        assert len(p.ledger(claim.claim_id)) == 1
        expected = claim_payment(
            claim, "paid" if claim is claims[0] else "short_paid" if claim is claims[1] else "denied"
        )
        got = p.claim(claim.claim_id)
        assert got.paid_amount == expected.paid and got.version == 1
    rec = reconciliation(p.repo, first.era_ids[0])
    assert rec is not None and rec["difference"] == "0.00" and rec["reconciled"] and rec["claims_recorded"] == 3
    assert rec["posted_total"] == rec["total_paid"]


def test_same_payment_in_different_content_is_quarantined(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "DUPCONTENT01")
    p.receive("era/a.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace="EFT9"))
    p.post_queued()
    changed = era_for([(claim, "short_paid")], payer_id="PAYERA01", trace="EFT9")  # same payer + trace
    summary = p.receive("era/b.835", changed)
    assert summary.quarantined and summary.claims_queued == 0
    assert any("already received in another file (era/a.835)" in x for x in summary.problems)
    assert len(p.ledger(claim.claim_id)) == 1


def test_reversal_before_its_original_is_held_then_applied(posting: Posting) -> None:
    """ERA 2 (reversal + corrected payment) arrives before ERA 1 (the original)."""
    p = posting
    claim = _claim(p, "REVEARLY01")
    original = claim_payment(claim, "paid")  # 96.00 + 24.00 = 120.00 of 150.00
    corrected = claim_payment(claim, "short_paid")  # the payer re-adjudicated: 96.00 paid, 24.00 PR
    corrected.payer_claim_control_number = original.payer_claim_control_number + "R"
    era2 = era_for([], payer_id="PAYERA01", trace="EFT2", extra_claims=[_reversed(original), corrected])
    s2 = p.receive("era/2.835", era2)
    messages = p.queue.take()
    results = p.post(messages)
    assert [r.result for r in results] == ["held", "posted"]
    # The held reversal comes again, for another ERA record of the same payment (a copy released
    # under its own id): held once, and that ERA still gets its result instead of staying pending.
    copy = messages[0].model_copy(update={"era_id": s2.era_ids[0] + "~copy"})
    assert p.post([copy])[0].result == "held"
    assert len(p.repo.held_reversals(claim.claim_id)) == 1
    assert [item["result"] for item in p.repo.era_results(copy.era_id)] == ["held"]
    assert p.claim(claim.claim_id).paid_amount == corrected.paid
    rec2 = reconciliation(p.repo, s2.era_ids[0])
    assert rec2 is not None and (rec2["held_count"], rec2["held_total"]) == (1, f"{-original.paid:.2f}")
    assert rec2["difference"] == "0.00"

    s1 = p.receive("era/1.835", era_for([], payer_id="PAYERA01", trace="EFT1", extra_claims=[original]))
    (result,) = p.post_queued()
    assert result.result == "posted" and any("applied held reversal" in n for n in result.notes)
    got = p.claim(claim.claim_id)
    assert got.paid_amount == corrected.paid == D("96.00")  # nets to the corrected payment
    assert got.patient_responsibility == D("24.00") and got.adjustment_amount == D("30.00")
    assert [line.paid_amount for line in got.lines] == [line.paid for line in corrected.lines]
    kinds = sorted(e.kind for e in p.ledger(claim.claim_id))
    assert kinds == ["payment", "payment", "reversal"]
    assert p.repo.held_reversals(claim.claim_id) == []
    for s in (s1, s2):
        rec = reconciliation(p.repo, s.era_ids[0])
        assert rec is not None and rec["difference"] == "0.00" and rec["reconciled"] and rec["held_count"] == 0
