"""Issue 10 must-holds through posting on the in-memory fakes: a Medicare 835 with CO-45 + CO-253 +
PR-2 ends as bill_patient for exactly the PR; a CO-only denial never bills the patient."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from medbill.models.claim import Claim
from medbill.workflow.stages import follow_up
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.posting_harness import Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _medicare_claim(p: Posting, claim_id: str) -> Claim:
    claim = make_claim(p.repo, claim_id, dos=DOS, lines=LINES, payer_id="MCARE01")
    enc = claim.encounter.model_copy(
        update={"coverage": claim.encounter.coverage.model_copy(update={"claim_filing_indicator": "MB"})}
    )
    return p.repo.save(claim.model_copy(update={"encounter": enc}), actor="test")


def _pay(claim_id: str, status: str, paid: str, adjs: list[tuple[str, str, str]]) -> ClaimPayment:
    adjustments = [Adjustment(g, r, D(a)) for g, r, a in adjs]
    patient = sum((a.amount for a in adjustments if a.group == "PR"), D("0.00"))
    return ClaimPayment(
        claim_id, status, D("150.00"), D(paid), patient, "MB", f"PCN{claim_id}", adjustments=adjustments
    )


def test_medicare_contractual_sequestration_and_coinsurance_bills_the_patient_the_pr(posting: Posting) -> None:
    p = posting
    _medicare_claim(p, "MCR1")
    # Allowed 120.00: Medicare pays 80% (96.00) less 2% sequestration (1.92); the patient owes 24.00.
    payment = _pay("MCR1", "1", "94.08", [("CO", "45", "30.00"), ("CO", "253", "1.92"), ("PR", "2", "24.00")])
    p.receive("era/mcr.835", era_for([], payer_id="MCARE01", trace="MC1", extra_claims=[payment]))
    p.post_queued()
    got = p.claim("MCR1")
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("94.08"), D("31.92"), D("24.00"))
    assert got.remittance_outcome == "short_paid"
    assert follow_up(p.repo, "MCR1", "short_paid").action == "bill_patient"
    routed = p.claim("MCR1")
    assert (routed.follow_up_action, routed.follow_up_amount) == ("bill_patient", D("24.00"))
    assert routed.follow_up_reason == "patient responsibility 24.00: CO-45 30.00; CO-253 1.92; PR-2 24.00"


def test_medicare_paid_with_only_contractual_and_sequestration_is_paid(posting: Posting) -> None:
    p = posting
    _medicare_claim(p, "MCR2")
    payment = _pay("MCR2", "1", "117.60", [("CO", "45", "30.00"), ("CO", "253", "2.40")])
    p.receive("era/mcr2.835", era_for([], payer_id="MCARE01", trace="MC2", extra_claims=[payment]))
    p.post_queued()
    assert p.claim("MCR2").remittance_outcome == "paid"


@pytest.mark.parametrize(("carc", "action"), [("204", "write_off"), ("27", "rebill_other_payer"), ("50", "appeal")])
def test_a_contractual_denial_never_bills_the_patient(posting: Posting, carc: str, action: str) -> None:
    p = posting
    claim_id = f"DEN{carc}"
    _medicare_claim(p, claim_id)
    payment = _pay(claim_id, "4", "0.00", [("CO", carc, "150.00")])
    p.receive(f"era/{claim_id}.835", era_for([], payer_id="MCARE01", trace=f"T{carc}", extra_claims=[payment]))
    p.post_queued()
    assert p.claim(claim_id).remittance_outcome == "denied"
    assert follow_up(p.repo, claim_id, "denied").action == action
    got = p.claim(claim_id)
    assert got.patient_responsibility == D("0.00") and got.follow_up_amount == D("150.00")
    assert got.follow_up_category == ("non_covered" if action == "write_off" else None)
