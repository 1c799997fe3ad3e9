"""What the staff API shows about a claim: status, money, codes, timeline. Ids and codes, no demographics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from medbill.models.claim import PAYER_RESPONSIBILITY, Adjustment, Claim, PriorAdjudication
from medbill.models.common import Money
from medbill.models.eligibility import CoverageFound, PatientShareEstimate
from medbill.ports import AccessRecord, ClaimEvent
from medbill.workflow.filing import FilingView, filing_view
from medbill.workflow.followup_views import FollowUpView, follow_up_view


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
    follow_up_action: str | None = None  # the follow-up work queue groups by it


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
    resent_changes: list[str] = []  # a re-sent copy changed these fields (names only): resent_changed worklist
    interchange_control_number: str | None
    payer_claim_number: str | None
    created_at: str
    timeline: list[TimelineEntry]
    follow_up: FollowUpView  # action, money at stake, appeal and filing deadlines, patient balance
    # What the eligibility check found (issue 9): plan, dates, the visit's amounts, network; the
    # patient's share is an estimate (kind "estimate"); when an unanswered check is asked again.
    coverage: CoverageFound | None = None
    patient_estimate: PatientShareEstimate | None = None
    eligibility_retry_at: str | None = None
    # Proof of filing (workflow.filing): the 837P, its control numbers, when it was sent, the answers.
    filing: FilingView | None = None
    # Coordination of benefits (issue 10): which payer the claim is billed to now (SBR01 P / S / T and
    # its payer id) and what the earlier payers decided, as the 837P's 2320 / 2430 sent it (codes, ids
    # and amounts only).
    billed_payer: dict[str, str] | None = None
    prior_adjudications: list[PriorAdjudication] = []


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
        follow_up_action=claim.follow_up_action,
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
        resent_changes=claim.resent_changes,
        interchange_control_number=claim.interchange_control_number,
        payer_claim_number=claim.payer_claim_number,
        created_at=claim.created_at.isoformat(),
        filing=filing_view(claim),
        timeline=[
            TimelineEntry(at=e.at, actor=e.actor, old_status=e.old_status, new_status=e.new_status, detail=e.detail)
            for e in events
        ],
        follow_up=follow_up_view(claim, events),
        coverage=claim.coverage,
        patient_estimate=claim.patient_estimate,
        eligibility_retry_at=claim.eligibility_retry_at.isoformat() if claim.eligibility_retry_at else None,
        billed_payer={
            "sequence": PAYER_RESPONSIBILITY[claim.payer_sequence],
            "payer_id": claim.billed_coverage[0].payer_id,
        },
        prior_adjudications=claim.prior_adjudications,
    )


class EraSummaryView(BaseModel):
    era_id: str
    # QUARANTINED / RELEASED as stored; POSTING until every claim payment has a result, then POSTED
    # (POSTED_WITH_UNMATCHED while some wait in the unmatched work queue).
    era_status: str
    payer_id: str | None = None
    payer_name: str | None = None
    trace_number: str | None = None
    total_paid: str
    claim_count: int
    claims_done: int = 0  # claim payments with a posting result ("n of claim_count done")
    plb_total: str
    source_key: str
    duplicate_keys: list[str] = []  # the same file delivered again under these keys (nothing posted twice)
    received_at: str | None = None
    problems: list[str] = []
    # Not UTF-8: a person may release it with the encoding they confirm (`?encoding=`, decision 35).
    encoding_unknown: bool = False
    encoding: str | None = None  # the encoding a person confirmed the file is in


class EraPage(BaseModel):
    items: list[EraSummaryView]
    next_token: str | None


class EraClaimView(BaseModel):
    """What became of one claim payment (CLP) of the ERA."""

    model_config = ConfigDict(extra="allow")

    position: int  # segment position of the CLP in the file
    # posted, already_posted, held, unmatched, not_posted (cannot be posted: see problems) or
    # pending (queued, no result yet: in flight, or its message is in the posting DLQ)
    result: str
    clp01: str | None = None
    claim_id: str | None = None
    outcome: str | None = None
    status_code: str | None = None
    charge: str | None = None
    paid: str | None = None
    payer_claim_number: str | None = None
    recorded_at: str | None = None
    problems: list[str] = []


class ProviderAdjustmentView(BaseModel):
    model_config = ConfigDict(extra="allow")

    reason: str  # PLB03-1: WO, FB, L6, CV, ...
    reference: str | None = None  # PLB03-2
    amount: str  # positive: taken from the payment
    claim_id: str | None = None  # the claim the reference names, when it names one of ours
    linked_by: str | None = None  # CLP01 (our claim id) or CLP07 (the payer claim number)


class EraView(EraSummaryView):
    """One ERA payment: its reconciliation (always complete) and a page of its claim payments."""

    model_config = ConfigDict(extra="allow")

    file_id: str
    claims_recorded: int
    claims_pending: int
    pending_positions: list[int]  # the first of them (the claims pages list every one)
    posted_count: int
    already_posted_count: int
    held_count: int
    unmatched_count: int
    not_posted_count: int
    posted_total: str
    already_posted_total: str
    held_total: str
    unmatched_total: str
    not_posted_total: str
    difference: str  # BPR02 - (posted + already posted + held + unmatched - PLB)
    reconciled: bool
    claims: list[EraClaimView]
    next_token: str | None  # the next page of claims
    provider_adjustments: list[ProviderAdjustmentView]


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
        claims_done=int(header.get("claims_done", 0)),
        plb_total=header.get("plb_total", "0.00"),
        source_key=header.get("source_key", ""),
        duplicate_keys=sorted(header.get("duplicate_keys") or []),
        received_at=header.get("received_at"),
        problems=list(header.get("problems") or []),
        encoding_unknown=bool(header.get("encoding_unknown")),
        encoding=header.get("encoding"),
    )


def era_view(rec: dict[str, Any]) -> EraView:
    """`rec` is billing.era.reconciliation's answer (with a page of claims)."""
    return EraView.model_validate(
        {
            **rec,
            "total_paid": rec.get("total_paid", "0.00"),
            "plb_total": rec.get("plb_total", "0.00"),
            "source_key": rec.get("source_key", ""),
            "claims_done": rec["claims_recorded"],
        }
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


class AccessView(BaseModel):
    at: str
    user_id: str
    user_name: str
    action: str  # read_claim, read_ledger
    request_id: str


class AccessLogPage(BaseModel):
    items: list[AccessView]
    next_token: str | None


def access_view(record: AccessRecord) -> AccessView:
    return AccessView(
        at=record.at,
        user_id=record.user_id,
        user_name=record.user_name,
        action=record.action,
        request_id=record.request_id,
    )
