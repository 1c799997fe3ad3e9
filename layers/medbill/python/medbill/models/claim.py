"""The claim: one encounter being billed, and everything the workflow learns about it."""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from medbill.models.common import Model, Money
from medbill.models.eligibility import CoverageFound, PatientShareEstimate
from medbill.models.encounter import Coverage, Encounter, ServiceLine, Subscriber
from medbill.models.status import ClaimStatus

MAX_CLAIM_ID_LENGTH = 20  # CLM01 (837P) is at most 20 characters; it comes back as CLP01 in the 835


def claim_id_for(clinic_id: str, encounter_id: str) -> str:
    """Deterministic claim id: the same encounter always maps to the same claim (and execution name)."""
    digest = hashlib.sha256(f"{clinic_id}\x1f{encounter_id}".encode()).digest()
    return "CLM" + base64.b32encode(digest).decode()[:16]


FrequencyCode = Literal["1", "7", "8"]  # original, replacement, void (CLM05-3)
RemittanceOutcome = Literal["paid", "short_paid", "denied", "reversed", "not_our_claim", "timed_out"]


class ClaimLine(ServiceLine):
    line_number: int = Field(ge=1, le=50)
    # REF*6R line item control number: sent in the 837P, echoed in the 835 so lines match exactly.
    line_control_number: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    # What the payer paid and allowed on this line, summed over the claim's ledger.
    paid_amount: Money = Decimal("0.00")
    allowed_amount: Money | None = None


class Adjustment(Model):
    group: Literal["CO", "OA", "PI", "PR", "CR"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=5)]  # CARC
    amount: Money


# SBR01 by the claim's place in the coordination-of-benefits order (1 primary, 2 secondary, 3 tertiary).
PAYER_RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


class PriorLineAdjudication(Model):
    """How an earlier payer adjudicated one of our lines (837P 2430: SVD, CAS, DTP*573)."""

    line_number: int = Field(ge=1, le=50)
    paid: Money
    adjustments: list[Adjustment] = Field(default_factory=list)


class PriorAdjudication(Model):
    """What an earlier payer in the coordination-of-benefits order decided (837P 2320 / 2330B), taken
    from its postings in force when the claim is billed to the next payer."""

    sequence: int = Field(ge=1, le=2)  # the payer's place: 1 primary, 2 secondary
    payer_id: str
    payer_claim_number: str = ""  # 2330B REF*F8
    paid: Money  # AMT*D
    patient_liability: Money  # AMT*EAF: what is left for the next payer (or the patient)
    claim_adjustments: list[Adjustment] = Field(default_factory=list)  # 2320 CAS: claim-level only
    lines: list[PriorLineAdjudication] = Field(default_factory=list)  # 2430
    adjudicated_on: date  # DTP*573


AckKind = Literal["999", "277CA", "277"]  # 277: a claim status response (276/277)
AckVerdict = Literal["accepted", "accepted_with_errors", "rejected", "pending"]


class Acknowledgement(Model):
    """One 999 or 277CA that answered the claim's 837P: which file, when we read it, what it said.
    Codes only (IK3/IK4 segment and element positions, STC category:status:entity): never a value."""

    kind: AckKind
    key: str  # S3 key of the acknowledgement file
    received_at: datetime
    verdict: AckVerdict
    codes: list[str] = Field(default_factory=list)  # IK5/IK3/IK4 codes or STC codes
    reason: str | None = None  # the meaning, in words (rejections)
    payer_claim_number: str | None = None  # 277CA REF*1K


class StatusInquiry(Model):
    """A 276 that asked the payer about the claim: the file (outbox/276/...) and when it was written."""

    key: str
    asked_at: datetime


class Filing(Model):
    """Proof of filing: the 837P that carried the claim, its control numbers, and when it was
    written and put on the clearinghouse (timely filing is proven by these)."""

    outbox_key: str
    interchange_control_number: str  # ISA13
    group_control_number: str  # GS06
    transaction_control_number: str  # ST02
    written_at: datetime
    sent_at: datetime | None = None  # when the clearinghouse exchange put the file on the SFTP server
    sent_name: str | None = None  # the remote file name


class Claim(Model):
    claim_id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CLAIM_ID_LENGTH)]
    clinic_id: str
    encounter_id: str
    status: ClaimStatus = ClaimStatus.RECEIVED
    version: int = 0  # optimistic lock: every status change is conditional on it
    created_at: datetime
    updated_at: datetime
    source_key: str  # S3 key of the encounter file
    record_number: int  # 1-based record number within that file
    encounter: Encounter
    # A digest per field of the encounter as first received (workflow.intake_resend): a later copy is
    # compared with it, so a re-sent correction is reported by field name, never silently kept out.
    received: dict[str, str] = Field(default_factory=dict)
    # A re-sent copy that changed these fields (names only, never values) waits for a person on the
    # `resent_changed` worklist until staff resolve it (workflow.resent_changes); since when it waits.
    resent_changes: list[str] = Field(default_factory=list)
    resent_changed_at: datetime | None = None
    patient_id: str | None = None
    lines: list[ClaimLine] = Field(default_factory=list)
    total_charge: Money | None = None
    frequency_code: FrequencyCode = "1"
    payer_claim_number: str | None = None  # CLP07 / REF*F8 for replacements and voids
    # Corrected (7) and void (8) claims: a new claim that `replaces` the original, which names it in
    # `replaced_by` (workflow.corrections); both timelines record the link and the reason code.
    replaces: str | None = None
    replaced_by: str | None = None
    correction_reason: str | None = None
    # The payer the claim is billed to now, by its place in the encounter's coverages (SBR01 P / S / T);
    # the earlier payers' adjudications go in the 837P's 2320 / 2430 loops.
    payer_sequence: int = Field(default=1, ge=1, le=3)
    prior_adjudications: list[PriorAdjudication] = Field(default_factory=list)
    hold_reasons: list[str] = Field(default_factory=list)
    copay: Money | None = None
    coverage: CoverageFound | None = None  # what the eligibility check found (issue 9)
    patient_estimate: PatientShareEstimate | None = None  # labelled an estimate
    eligibility_retry_at: datetime | None = None  # an unanswered check is asked again then
    interchange_control_number: str | None = None
    outbox_key: str | None = None
    task_token: str | None = None  # the pending .waitForTaskToken, cleared when resumed
    remittance_outcome: RemittanceOutcome | None = None
    paid_amount: Money = Decimal("0.00")
    adjustment_amount: Money = Decimal("0.00")
    patient_responsibility: Money = Decimal("0.00")
    adjustments: list[Adjustment] = Field(default_factory=list)
    # Staff and patient money, recomputed from the ledger (billing.writeoffs); the payer totals above
    # stay the payers' own. charge = paid + patient paid + adjustments + written off + patient balance.
    patient_paid_amount: Money = Decimal("0.00")  # patient payments less refunds
    patient_written_off_amount: Money = Decimal("0.00")  # staff write-offs / adjustments of the patient's balance
    payer_written_off_amount: Money = Decimal("0.00")  # staff write-offs of open payer balances (denials)
    follow_up_reason: str | None = None
    follow_up_action: str | None = None
    follow_up_category: str | None = None  # write-off category when the action is write_off
    follow_up_amount: Money | None = None  # money at stake for the action (worklists sort by it)
    follow_up_due: date | None = None  # appeal deadline from the payer's configuration
    follow_up_since: datetime | None = None  # when the claim entered its current follow-up action
    timely_filing_alert: date | None = None  # the filing deadline the daily check found near (timely_filing list)
    # What the clearinghouse and payer said before adjudication (999, 277CA), oldest first.
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    rejection_reason: str | None = None  # why a 999 / 277CA rejected it (codes and their meaning)
    filing: Filing | None = None
    # The last 276 claim status inquiry that asked about this claim (workflow/claim_status.py): not
    # asked again within the payer's ack_hours. Each inquiry is also an event on the timeline.
    status_inquiry: StatusInquiry | None = None
    # Recovery (workflow.recovery): the status a FAILED claim failed from and the error name, and the
    # workflow attempt (1 = the execution named by the claim id; n > 1 = `<claim id>-r<n>`).
    failed_from: ClaimStatus | None = None
    failure: str | None = None
    attempt: Annotated[int, Field(ge=1)] = 1

    @property
    def patient_balance(self) -> Decimal:
        """What the patient still owes (negative: a credit to refund)."""
        return self.patient_responsibility - self.patient_paid_amount - self.patient_written_off_amount

    @property
    def payer_id(self) -> str:
        return self.encounter.coverage.payer_id

    @property
    def billed_coverage(self) -> tuple[Coverage, Subscriber]:
        """The coverage (and its subscriber) the claim is billed to now."""
        return self.encounter.coverages[self.payer_sequence - 1]

    @property
    def date_of_service(self) -> str:
        return self.encounter.date_of_service.isoformat()
