"""Staff write-offs and adjustments, approvals, patient payments and refunds (issue 10, item 4) on
the in-memory fakes: ledger entries, idempotent retries, limits, and the balance after every action."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medbill.billing.writeoffs import (
    PatientMoneyRequest,
    StaffActionRefused,
    StaffAdjustmentRequest,
    adjust,
    approve,
    patient_payment,
    patient_refund,
    staff_totals,
)
from medbill.models.claim import Claim
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.posting_harness import Posting, in_memory_posting, make_claim

D = Decimal
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _posted(p: Posting, claim_id: str, paid: str, adjs: list[tuple[str, str, str]], status: str = "1") -> Claim:
    make_claim(p.repo, claim_id, dos=date(2026, 10, 5), lines=LINES)
    adjustments = [Adjustment(g, r, D(a)) for g, r, a in adjs]
    patient = sum((a.amount for a in adjustments if a.group == "PR"), D("0.00"))
    payment = ClaimPayment(
        claim_id, status, D("150.00"), D(paid), patient, "CI", f"P{claim_id}", adjustments=adjustments
    )
    p.receive(f"era/{claim_id}.835", era_for([], payer_id="PAYERA01", trace=f"T{claim_id}", extra_claims=[payment]))
    p.post_queued()
    return p.claim(claim_id)


def _balanced(c: Claim) -> bool:
    paid = c.paid_amount + c.patient_paid_amount
    adjustments = c.adjustment_amount + c.patient_written_off_amount
    return c.total_charge == paid + adjustments + c.patient_balance


def _wo(
    request_id: str, amount: str, balance: str = "patient", category: str = "small_balance"
) -> StaffAdjustmentRequest:
    return StaffAdjustmentRequest.model_validate(
        {"request_id": request_id, "amount": amount, "category": category, "balance": balance}
    )


def _money(request_id: str, amount: str) -> PatientMoneyRequest:
    return PatientMoneyRequest(request_id=request_id, amount=D(amount))


def test_write_off_of_the_patient_balance_is_a_ledger_entry_and_retries_change_nothing(posting: Posting) -> None:
    p = posting
    _posted(p, "WO1", "96.00", [("CO", "45", "30.00"), ("PR", "2", "24.00")])
    first = adjust(p.repo, "WO1", _wo("r1", "4.00"), "staff-a")
    again = adjust(p.repo, "WO1", _wo("r1", "4.00"), "staff-a")
    assert (first["repeated"], again["repeated"]) == (False, True)
    assert first["patient_balance"] == again["patient_balance"] == "20.00"
    got = p.claim("WO1")
    assert (got.patient_responsibility, got.patient_written_off_amount, got.patient_balance) == (
        D("24.00"),
        D("4.00"),
        D("20.00"),
    )
    staff = [e for e in p.ledger("WO1") if e.kind == "staff_adjustment"]
    assert [(e.source, e.amount, e.category, e.requested_by) for e in staff] == [
        ("STAFF#r1", D("4.00"), "small_balance", "staff-a")
    ]
    assert _balanced(got)
    with pytest.raises(StaffActionRefused, match="other values"):
        adjust(p.repo, "WO1", _wo("r1", "5.00"), "staff-a")
    with pytest.raises(StaffActionRefused, match=r"more than the open patient balance 20\.00"):
        adjust(p.repo, "WO1", _wo("r2", "20.01"), "staff-a")


def test_write_off_over_the_threshold_counts_only_once_another_person_approves(posting: Posting) -> None:
    p = posting
    _posted(p, "WO2", "0.00", [("CO", "50", "150.00")], status="4")
    pending = adjust(p.repo, "WO2", _wo("big", "150.00", "payer", "non_covered"), "staff-a")
    assert pending["pending_approval"] is True and p.claim("WO2").payer_written_off_amount == D("0.00")
    with pytest.raises(StaffActionRefused, match="cannot approve"):
        approve(p.repo, "WO2", "big", "staff-a")
    approve(p.repo, "WO2", "big", "manager-b")
    assert approve(p.repo, "WO2", "big", "manager-b")["repeated"] is True
    got = p.claim("WO2")
    assert (got.payer_written_off_amount, got.adjustment_amount, got.patient_balance) == (
        D("150.00"),
        D("150.00"),
        D("0.00"),
    )
    assert _balanced(got)
    with pytest.raises(StaffActionRefused, match=r"open payer balance 0\.00"):
        adjust(p.repo, "WO2", _wo("more", "0.01", "payer", "non_covered"), "staff-a")


def test_patient_payments_and_refunds_move_the_patient_balance(posting: Posting) -> None:
    p = posting
    _posted(p, "PAY1", "96.00", [("CO", "45", "30.00"), ("PR", "2", "24.00")])
    patient_payment(p.repo, "PAY1", _money("pay1", "30.00"), "front-desk")
    patient_payment(p.repo, "PAY1", _money("pay1", "30.00"), "front-desk")  # a retried call
    got = p.claim("PAY1")
    assert (got.patient_paid_amount, got.patient_balance) == (D("30.00"), D("-6.00"))
    with pytest.raises(StaffActionRefused, match=r"exceeds the credit 6\.00"):
        patient_refund(p.repo, "PAY1", _money("ref1", "6.01"), "front-desk")
    patient_refund(p.repo, "PAY1", _money("ref1", "6.00"), "front-desk")
    got = p.claim("PAY1")
    assert (got.patient_paid_amount, got.patient_balance) == (D("24.00"), D("0.00")) and _balanced(got)


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["write_off_patient", "write_off_payer", "payment", "refund", "approve"]),
        st.decimals("0.01", "200.00", places=2),
    ),
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(ACTIONS, st.sampled_from(["short", "denied"]))
def test_charge_is_paid_plus_adjustments_plus_patient_balance_after_every_action(
    actions: list[tuple[str, Decimal]], kind: str
) -> None:
    p = in_memory_posting()
    if kind == "short":
        claim = _posted(p, "PROP1", "76.00", [("CO", "45", "30.00"), ("CO", "97", "20.00"), ("PR", "2", "24.00")])
    else:
        claim = _posted(p, "PROP1", "0.00", [("CO", "50", "150.00")], status="4")
    assert _balanced(claim)
    for n, (action, amount) in enumerate(actions):
        try:
            if action == "payment":
                patient_payment(p.repo, "PROP1", _money(f"a{n}", str(amount)), "desk")
            elif action == "refund":
                patient_refund(p.repo, "PROP1", _money(f"a{n}", str(amount)), "desk")
            elif action == "approve":
                pending = [e for e in p.ledger("PROP1") if e.pending_approval]
                if pending:
                    approve(p.repo, "PROP1", pending[-1].source.removeprefix("STAFF#"), "manager")
            else:
                balance = "patient" if action == "write_off_patient" else "payer"
                adjust(p.repo, "PROP1", _wo(f"a{n}", str(amount), balance, "bad_debt"), "staff")
        except StaffActionRefused:
            pass
        got = p.claim("PROP1")
        assert _balanced(got)
        assert staff_totals(p.ledger("PROP1")) == {
            "patient_paid_amount": got.patient_paid_amount,
            "patient_written_off_amount": got.patient_written_off_amount,
            "payer_written_off_amount": got.payer_written_off_amount,
        }
        assert got.patient_paid_amount >= 0 and got.patient_written_off_amount <= got.patient_responsibility
        assert got.payer_written_off_amount <= (D("20.00") if kind == "short" else D("150.00"))
        assert all(v == v.quantize(D("0.01")) for v in (got.patient_balance, got.payer_written_off_amount))
