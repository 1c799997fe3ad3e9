"""The follow-up part of the staff API's claim view: action, money at stake, deadlines (appeal,
timely filing with days left, proof of filing) and the patient's balance. Codes, dates and amounts only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel

from medbill.billing.timely_filing import filing_status, proof_of_filing
from medbill.billing.writeoffs import open_payer_balance
from medbill.models.claim import Claim
from medbill.models.common import Money, utcnow
from medbill.ports import ClaimEvent


class FilingView(BaseModel):
    deadline: str  # the payer's timely filing limit from the date of service
    days_left: int  # negative: past the deadline
    filed: bool
    filed_on: str | None  # proof of filing: first submission (999/277CA acceptance once recorded)
    proof_source: str | None
    interchange_control_number: str | None


class FollowUpView(BaseModel):
    action: str | None
    category: str | None
    amount_at_stake: Money | None
    appeal_due: str | None
    since: str | None
    filing: FilingView
    patient_balance: Money
    patient_paid_amount: Money
    patient_written_off_amount: Money
    payer_written_off_amount: Money
    open_payer_balance: Money
    frequency_code: str  # 1 original, 7 replacement, 8 void
    replaces: str | None
    replaced_by: str | None
    correction_reason: str | None


def follow_up_view(claim: Claim, events: Sequence[ClaimEvent], today: date | None = None) -> FollowUpView:
    today = today or utcnow().date()
    status = filing_status(claim, today)
    proof = proof_of_filing(claim, events)
    return FollowUpView(
        action=claim.follow_up_action,
        category=claim.follow_up_category,
        amount_at_stake=claim.follow_up_amount,
        appeal_due=claim.follow_up_due.isoformat() if claim.follow_up_due else None,
        since=claim.follow_up_since.isoformat() if claim.follow_up_since else None,
        filing=FilingView(
            deadline=status.deadline.isoformat(),
            days_left=status.days_left,
            filed=status.filed,
            filed_on=proof.filed_on.isoformat() if proof else None,
            proof_source=proof.source if proof else None,
            interchange_control_number=proof.interchange_control_number if proof else None,
        ),
        patient_balance=claim.patient_balance,
        patient_paid_amount=claim.patient_paid_amount,
        patient_written_off_amount=claim.patient_written_off_amount,
        payer_written_off_amount=claim.payer_written_off_amount,
        open_payer_balance=open_payer_balance(claim),
        frequency_code=claim.frequency_code,
        replaces=claim.replaces,
        replaced_by=claim.replaced_by,
        correction_reason=claim.correction_reason,
    )
