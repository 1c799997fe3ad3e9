"""Posting and follow-up rules without AWS: outcome classification, follow-up actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medbill.billing.followup import classify
from medbill.billing.ledger import kind_of, outcome_of
from medbill.models.claim import Adjustment
from medbill.models.remittance import ClaimRemittance, RemitAdjustment
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal


def remit(status: str, paid: str, *adjs: tuple[str, str, str]) -> ClaimRemittance:
    return ClaimRemittance(
        era_id="P-T1",
        file_id="F1",
        source_key="era/x.835",
        payer_id="P",
        trace_number="T1",
        position=10,
        claim_id="CLM1",
        status_code=status,
        charge=D("100.00"),
        paid=D(paid),
        patient_responsibility=sum((D(a) for g, _, a in adjs if g == "PR"), D(0)),
        payer_claim_number="PCN1",
        adjustments=[RemitAdjustment(group=g, reason=r, amount=D(a)) for g, r, a in adjs],  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("r", "kind", "outcome"),
    [
        (remit("1", "80.00", ("CO", "45", "20.00")), "payment", "paid"),
        (remit("1", "60.00", ("CO", "45", "20.00"), ("PR", "2", "20.00")), "payment", "short_paid"),
        (remit("1", "70.00", ("CO", "45", "20.00"), ("OA", "23", "10.00")), "payment", "short_paid"),
        (remit("4", "0.00", ("CO", "50", "100.00")), "denial", "denied"),
        (remit("1", "0.00", ("CO", "97", "100.00")), "denial", "denied"),
        (remit("1", "0.00", ("PR", "1", "100.00")), "payment", "short_paid"),  # all to the deductible
        (remit("22", "-80.00", ("CO", "45", "-20.00")), "reversal", "reversed"),
        (remit("2", "100.00"), "payment", "paid"),
        (remit("19", "80.00", ("CO", "45", "20.00")), "payment", "paid"),
        (remit("23", "0.00"), "not_our_claim", "not_our_claim"),
        (remit("25", "0.00"), "predetermination", None),
    ],
)
def test_kind_and_outcome(r: ClaimRemittance, kind: str, outcome: str | None) -> None:
    assert kind_of(r) == kind
    assert outcome_of(kind_of(r), r.all_adjustments(), r.paid) == outcome


def test_source_names_payer_trace_position_status_and_payer_claim() -> None:
    # No segment position: a re-laid-out copy of the same payment must map to the same source.
    assert remit("1", "80.00").source == "P-T1#CLM1#1#PCN1#1"


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
