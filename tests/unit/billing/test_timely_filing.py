"""Timely filing (issue 10, item 5): limits per payer from configuration, deadline and days left,
proof of filing from the claim's submission, and the claim view's follow-up block."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from medbill.billing.payer_policy import add_months, policy_for
from medbill.billing.timely_filing import filed_in_time, filing_status, near_deadline, proof_of_filing
from medbill.models.claim import Acknowledgement, Claim
from medbill.models.status import ClaimStatus as S
from medbill.ports import ClaimEvent
from medbill.workflow.followup_views import follow_up_view
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter


def _claim(filing: str, dos: str = "2026-03-15", **update: object) -> Claim:
    enc = make_encounter(
        date_of_service=dos,
        coverage={"payer_id": "PAYX", "payer_name": "PAYER", "member_id": "M1", "claim_filing_indicator": filing},
    )
    return new_claim(enc, "encounters/x.json", 1).model_copy(update=update)


def _submitted(at: str) -> ClaimEvent:
    return ClaimEvent(at=at, actor="submission", old_status="CHARGED", new_status="SUBMITTED", detail={}, version=6)


def test_filing_limits_per_payer_from_configuration() -> None:
    assert policy_for("ANY", "MB").filing_deadline(date(2026, 3, 15)) == date(2027, 3, 15)  # Medicare: 12 months
    assert policy_for("ANY", "MB").filing_deadline(date(2024, 2, 29)) == date(2025, 2, 28)
    assert policy_for("ANY", "CI").filing_deadline(date(2026, 3, 15)) == date(2026, 6, 13)  # commercial: 90 days
    assert policy_for("ANY", "ZZ").filing_deadline(date(2026, 3, 15)) == date(2026, 9, 11)  # default: 180 days
    assert policy_for("ANY", "MB").appeal_limit_days == 120
    assert policy_for("ANY", "CI").write_off_approval_threshold == Decimal("100.00")
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_deadline_and_days_left_and_near_the_deadline() -> None:
    held = _claim("MB", status=S.CODING_HOLD)
    status = filing_status(held, date(2027, 2, 20))
    assert (status.deadline, status.days_left, status.filed) == (date(2027, 3, 15), 23, False)
    assert near_deadline(held, date(2027, 2, 20)) and not near_deadline(held, date(2027, 2, 1))
    filed = held.model_copy(update={"status": S.AWAITING_REMITTANCE})
    assert not near_deadline(filed, date(2027, 3, 1))


def test_proof_of_filing_is_the_first_submission_until_acknowledgements_record_it() -> None:
    claim = _claim(
        "CI", status=S.DENIED, outbox_key="outbox/837/C-000000042.x12", interchange_control_number="000000042"
    )
    events = [_submitted("2026-06-20T10:00:00+00:00"), _submitted("2026-05-02T09:00:00+00:00")]
    proof = proof_of_filing(claim, events)
    assert proof is not None and (proof.filed_on, proof.source, proof.interchange_control_number) == (
        date(2026, 5, 2),
        "submission",
        "000000042",
    )
    assert filed_in_time(claim, proof)  # deadline 2026-06-13
    late = proof_of_filing(claim, [_submitted("2026-06-20T10:00:00+00:00")])
    assert not filed_in_time(claim, late)
    assert proof_of_filing(claim.model_copy(update={"outbox_key": None}), events) is None


def test_proof_of_filing_prefers_the_first_acceptance_received() -> None:
    claim = _claim(
        "CI", status=S.ACCEPTED, outbox_key="outbox/837/C-000000042.x12", interchange_control_number="000000042"
    )
    events = [_submitted("2026-05-02T09:00:00+00:00")]

    def ack(kind: str, verdict: str, at: str) -> Acknowledgement:
        return Acknowledgement(kind=kind, key=f"acks/{kind}/a", received_at=datetime.fromisoformat(at), verdict=verdict)  # type: ignore[arg-type]

    answered = claim.model_copy(
        update={
            "acknowledgements": [
                ack("277CA", "accepted", "2026-05-04T08:00:00+00:00"),
                ack("999", "rejected", "2026-05-02T12:00:00+00:00"),  # a rejection proves nothing
                ack("999", "accepted", "2026-05-03T07:00:00+00:00"),
                ack("277", "pending", "2026-05-01T07:00:00+00:00"),  # a status answer is not filing
            ]
        }
    )
    proof = proof_of_filing(answered, events)
    assert proof is not None and (proof.filed_on, proof.source) == (date(2026, 5, 3), "999")
    only_rejected = answered.model_copy(update={"acknowledgements": answered.acknowledgements[1:2]})
    fallback = proof_of_filing(only_rejected, events)
    assert fallback is not None and (fallback.filed_on, fallback.source) == (date(2026, 5, 2), "submission")


def test_claim_view_shows_deadline_days_left_and_the_patient_balance() -> None:
    claim = _claim(
        "MB",
        status=S.FOLLOW_UP,
        follow_up_action="bill_patient",
        follow_up_amount=Decimal("24.00"),
        follow_up_since=datetime(2026, 5, 1, tzinfo=UTC),
        patient_responsibility=Decimal("24.00"),
        patient_paid_amount=Decimal("10.00"),
        outbox_key="outbox/837/C-1.x12",
        interchange_control_number="000000001",
    )
    view = follow_up_view(claim, [_submitted("2026-03-20T08:00:00+00:00")], today=date(2026, 5, 1))
    assert view.filing.model_dump() == {
        "deadline": "2027-03-15",
        "days_left": 318,
        "filed": True,
        "filed_on": "2026-03-20",
        "proof_source": "submission",
        "interchange_control_number": "000000001",
    }
    assert (view.action, view.amount_at_stake, view.patient_balance) == (
        "bill_patient",
        Decimal("24.00"),
        Decimal("14.00"),
    )
