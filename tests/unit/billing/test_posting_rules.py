"""Posting and follow-up rules without AWS: outcome classification, follow-up actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medbill.billing.followup import classify
from medbill.billing.posting import ClaimRemittance, outcome_of
from medbill.models.claim import Adjustment
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal


def remit(status: str, paid: str, *adjs: tuple[str, str, str]) -> ClaimRemittance:
    return ClaimRemittance(
        claim_id="CLM1",
        status_code=status,
        charge=D("100.00"),
        paid=D(paid),
        patient_responsibility=sum((D(a) for g, _, a in adjs if g == "PR"), D(0)),
        payer_claim_number="PCN1",
        adjustments=tuple(Adjustment(group=g, reason=r, amount=D(a)) for g, r, a in adjs),  # type: ignore[arg-type]
        position=10,
    )


@pytest.mark.parametrize(
    ("r", "outcome"),
    [
        (remit("1", "80.00", ("CO", "45", "20.00")), "paid"),
        (remit("1", "60.00", ("CO", "45", "20.00"), ("PR", "2", "20.00")), "short_paid"),
        (remit("1", "70.00", ("CO", "45", "20.00"), ("OA", "23", "10.00")), "short_paid"),
        (remit("4", "0.00", ("CO", "50", "100.00")), "denied"),
        (remit("1", "0.00", ("PR", "1", "100.00")), "denied"),
        (remit("22", "-80.00", ("CO", "45", "-20.00")), "reversed"),
        (remit("2", "100.00"), "paid"),
    ],
)
def test_outcome_of(r: ClaimRemittance, outcome: str) -> None:
    assert outcome_of(r) == outcome


def _claim(**update):  # type: ignore[no-untyped-def]
    claim = new_claim(make_encounter(), "encounters/x.json", 1)
    return claim.model_copy(update={"total_charge": D("100.00"), **update})


def test_follow_up_actions_by_outcome_and_carc() -> None:
    pr_only = _claim(
        paid_amount=D("60.00"),
        patient_responsibility=D("20.00"),
        adjustments=[
            Adjustment(group="CO", reason="45", amount=D("20.00")),
            Adjustment(group="PR", reason="2", amount=D("20.00")),
        ],
    )
    reason, action = classify(pr_only, "short_paid")
    assert action == "bill_patient" and "PR-2 20.00" in reason and "patient responsibility 20.00" in reason
    under = _claim(paid_amount=D("70.00"), adjustments=[Adjustment(group="OA", reason="23", amount=D("30.00"))])
    assert classify(under, "short_paid")[1] == "review_underpayment"
    line_denied = _claim(paid_amount=D("60.00"), adjustments=[Adjustment(group="CO", reason="50", amount=D("40.00"))])
    assert classify(line_denied, "short_paid")[1] == "appeal"
    denied = _claim(adjustments=[Adjustment(group="CO", reason="50", amount=D("100.00"))])
    assert classify(denied, "denied") == ("denied: CO-50 100.00", "appeal")
    missing_info = _claim(adjustments=[Adjustment(group="CO", reason="16", amount=D("100.00"))])
    assert classify(missing_info, "denied")[1] == "correct_and_resubmit"
    odd = _claim(adjustments=[Adjustment(group="CO", reason="B7", amount=D("100.00"))])
    assert classify(odd, "denied")[1] == "review_denial"
    assert classify(_claim(interchange_control_number="000000042"), "timed_out") == (
        "no remittance received for interchange 000000042",
        "status_inquiry",
    )
    assert classify(_claim(hold_reasons=["coverage inactive"]), "hold_expired")[1] == "review_hold"
