"""What the staff API shows about a claim: status, money, codes, timeline. Ids and codes, no demographics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from medbill.models.claim import Adjustment, Claim
from medbill.models.common import Money
from medbill.store.repository import ClaimEvent


class LineView(BaseModel):
    line_number: int
    procedure_code: str
    modifiers: list[str]
    units: str
    charge: Money | None
    diagnosis_pointers: list[int]
    line_control_number: str
    paid_amount: Money
    allowed_amount: Money | None


class TimelineEntry(BaseModel):
    at: str
    actor: str
    old_status: str | None
    new_status: str
    detail: dict[str, Any]


class ClaimSummaryView(BaseModel):
    claim_id: str
    clinic_id: str
    encounter_id: str
    status: str
    payer_id: str
    date_of_service: str
    total_charge: Money | None
    paid_amount: Money
    patient_responsibility: Money
    updated_at: str


class ClaimView(ClaimSummaryView):
    patient_id: str | None
    place_of_service: str
    diagnoses: list[str]
    lines: list[LineView]
    adjustment_amount: Money
    adjustments: list[Adjustment]
    remittance_outcome: str | None
    hold_reasons: list[str]
    follow_up_reason: str | None
    follow_up_action: str | None
    interchange_control_number: str | None
    payer_claim_number: str | None
    created_at: str
    timeline: list[TimelineEntry]


class ClaimPage(BaseModel):
    items: list[ClaimSummaryView]
    next_token: str | None


def summary_view(claim: Claim) -> ClaimSummaryView:
    return ClaimSummaryView(
        claim_id=claim.claim_id,
        clinic_id=claim.clinic_id,
        encounter_id=claim.encounter_id,
        status=claim.status.value,
        payer_id=claim.payer_id,
        date_of_service=claim.date_of_service,
        total_charge=claim.total_charge,
        paid_amount=claim.paid_amount,
        patient_responsibility=claim.patient_responsibility,
        updated_at=claim.updated_at.isoformat(),
    )


def claim_view(claim: Claim, events: list[ClaimEvent]) -> ClaimView:
    return ClaimView(
        **summary_view(claim).model_dump(),
        patient_id=claim.patient_id,
        place_of_service=claim.encounter.place_of_service,
        diagnoses=claim.encounter.diagnoses,
        lines=[
            LineView(
                line_number=line.line_number,
                procedure_code=line.procedure_code,
                modifiers=line.modifiers,
                units=str(line.units),
                charge=line.charge,
                diagnosis_pointers=line.diagnosis_pointers,
                line_control_number=line.line_control_number,
                paid_amount=line.paid_amount,
                allowed_amount=line.allowed_amount,
            )
            for line in claim.lines
        ],
        adjustment_amount=claim.adjustment_amount,
        adjustments=claim.adjustments,
        remittance_outcome=claim.remittance_outcome,
        hold_reasons=claim.hold_reasons,
        follow_up_reason=claim.follow_up_reason,
        follow_up_action=claim.follow_up_action,
        interchange_control_number=claim.interchange_control_number,
        payer_claim_number=claim.payer_claim_number,
        created_at=claim.created_at.isoformat(),
        timeline=[
            TimelineEntry(at=e.at, actor=e.actor, old_status=e.old_status, new_status=e.new_status, detail=e.detail)
            for e in events
        ],
    )


class EraSummaryView(BaseModel):
    era_id: str
    era_status: str
    payer_id: str | None = None
    payer_name: str | None = None
    trace_number: str | None = None
    total_paid: str
    claim_count: int
    plb_total: str
    source_key: str
    received_at: str | None = None
    problems: list[str] = []


class EraPage(BaseModel):
    items: list[EraSummaryView]
    next_token: str | None


class UnmatchedRemittanceView(BaseModel):
    remittance_id: str  # use with POST /worklists/unmatched-remittance/{remittance_id}/match
    era_id: str
    clp01: str  # the patient control number the payer sent
    status_code: str
    charge: str
    paid: str
    payer_id: str
    received_at: str


class UnmatchedPage(BaseModel):
    items: list[UnmatchedRemittanceView]
    next_token: str | None


def era_summary_view(header: dict[str, Any]) -> EraSummaryView:
    return EraSummaryView(
        era_id=header["era_id"],
        era_status=header.get("era_status", ""),
        payer_id=header.get("payer_id"),
        payer_name=header.get("payer_name"),
        trace_number=header.get("trace_number"),
        total_paid=header.get("total_paid", "0.00"),
        claim_count=int(header.get("claim_count", 0)),
        plb_total=header.get("plb_total", "0.00"),
        source_key=header.get("source_key", ""),
        received_at=header.get("received_at"),
        problems=list(header.get("problems") or []),
    )


def unmatched_view(item: dict[str, Any]) -> UnmatchedRemittanceView:
    return UnmatchedRemittanceView(
        remittance_id=item["unmatched_id"],
        era_id=item["era_id"],
        clp01=item["clp01"],
        status_code=item["status_code"],
        charge=item["charge"],
        paid=item["paid"],
        payer_id=item.get("payer_id", ""),
        received_at=item["updated_at"],
    )
