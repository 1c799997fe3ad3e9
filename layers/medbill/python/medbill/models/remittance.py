"""Remittance in our terms: one claim payment (CLP loop) as a posting message, and ledger entries.

These carry ids, codes and amounts only: the 835's patient and insured names (NM1 QC/IL) never
leave the reader, so posting messages and ledger entries hold no PHI.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from medbill.models.common import Model, Money

AdjustmentGroup = Literal["CO", "OA", "PI", "PR", "CR"]
Code = Annotated[str, StringConstraints(min_length=1, max_length=30)]
# CAS02/05/...: a claim adjustment reason code is X12 ID 1-5 (the claim model keeps it the same way).
Carc = Annotated[str, StringConstraints(min_length=1, max_length=5)]
# CLP01 is AN 1-38 in 005010X221A1: a payer may echo another system's longer patient control number.
PatientControlNumber = Annotated[str, StringConstraints(min_length=1, max_length=38)]

# CLP02 claim status codes (X12 005010X221A1).
PROCESSED = frozenset({"1", "2", "3", "19", "20", "21"})  # primary/secondary/tertiary (19-21: and forwarded)
DENIED = "4"
REVERSAL = "22"
NOT_OUR_CLAIM = "23"
PREDETERMINATION = "25"
# Which payer of the coordination-of-benefits sequence adjudicated: CLP02 1-3 and their forwarded
# twins 19-21. 4, 22 and 23 do not say.
PAYER_SEQUENCE: dict[str, int] = {"1": 1, "2": 2, "3": 3, "19": 1, "20": 2, "21": 3}
FORWARDED = frozenset({"19", "20", "21"})  # processed, and the payer crossed the claim over to the next one
# CARC 23 (71 until 2000): "the impact of prior payer(s) adjudication including payments and/or
# adjustments". A later payer's account of what earlier payers paid and wrote off, not its own
# adjustment. (CARC 22/109/136/275/276/303 are decisions of the payer that sends them: not here.)
PRIOR_PAYER_CARCS = frozenset({"23", "71"})


class RemitAdjustment(Model):
    group: AdjustmentGroup
    reason: Carc
    amount: Money
    quantity: Decimal | None = None


class RemitLine(Model):
    """One SVC (loop 2110)."""

    position: int = 0  # segment position of the SVC in the file
    procedure_qualifier: str = "HC"
    procedure_code: Code
    modifiers: list[str] = Field(default_factory=list)
    charge: Money
    paid: Money
    units: Decimal | None = None
    original_procedure_code: str | None = None  # SVC06-2 when the payer bundled or changed the code
    original_modifiers: list[str] = Field(default_factory=list)
    service_date: str | None = None  # CCYYMMDD (DTM 472, else 150)
    control_number: str | None = None  # REF*6R: our line item control number
    allowed: Money | None = None  # AMT*B6
    adjustments: list[RemitAdjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list)  # LQ*HE RARCs


class ClaimRemittance(Model):
    """One CLP loop of an ERA, addressed to one of our claims: the posting message."""

    era_id: str  # <payer id>-<TRN02>: one payment (BPR/TRN)
    file_id: str
    source_key: str
    payer_id: str
    trace_number: str  # TRN02
    position: int  # segment position of the CLP in the file: part of the idempotency key
    claim_id: PatientControlNumber  # CLP01 as sent (our claim id when it is ours)
    # Bounded by X12's maxima: they are parts of ledger keys, and of items limited to 400 KB.
    status_code: Annotated[str, StringConstraints(max_length=2)]  # CLP02
    charge: Money  # CLP03
    paid: Money  # CLP04
    patient_responsibility: Money = Decimal("0.00")  # CLP05
    filing_indicator: Annotated[str, StringConstraints(max_length=2)] = ""
    payer_claim_number: Annotated[str, StringConstraints(max_length=50)] = ""  # CLP07
    frequency_code: Annotated[str, StringConstraints(max_length=1)] = ""  # CLP09
    adjustments: list[RemitAdjustment] = Field(default_factory=list)  # claim-level CAS
    remarks: list[str] = Field(default_factory=list)  # MIA/MOA RARCs
    lines: list[RemitLine] = Field(default_factory=list)
    service_date: str | None = None  # DTM 232 (statement from), for line matching without line dates
    # BPR16: the date the payer paid (check issue / EFT effective), as sent; "" when it sent none. The
    # adjudication date a next payer's 837P reports (2430 / 2330B DTP*573), not the day we posted it.
    payment_date: Annotated[str, StringConstraints(max_length=8)] = ""
    # The payment (payer + TRN02) this claim payment belongs to, whatever file carried it, and which
    # occurrence of (CLP01, CLP02, CLP07) it is inside that payment: together they name it uniquely.
    payment_key: str = ""
    occurrence: int = 1

    @property
    def source(self) -> str:
        """Idempotency source: payer + TRN02, CLP01, CLP02, CLP07 and the occurrence of that
        combination in the payment. Not the segment position: a payer that re-sends the same
        payment in a re-laid-out file must not get it posted twice."""
        payment = self.payment_key or self.era_id
        return f"{payment}#{self.claim_id}#{self.status_code}#{self.payer_claim_number}#{self.occurrence}"

    def all_adjustments(self) -> list[RemitAdjustment]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]


LedgerKind = Literal[
    "payment",
    "denial",
    "reversal",
    "not_our_claim",
    "predetermination",
    "provider_adjustment",
    # Staff and patient money (billing.writeoffs): never a payer's, never in the payer totals.
    "staff_adjustment",  # a write-off or adjustment by staff, against the patient's or the payer's balance
    "staff_approval",  # a manager's approval of a staff adjustment over the threshold (`approves`)
    "patient_payment",
    "patient_refund",
]
StaffBalance = Literal["patient", "payer"]
LineMatch = Literal["control_number", "code_and_date", "original_code", "unmatched"]


class LinePosting(Model):
    claim_line_number: int | None  # None: the SVC matched none of our lines
    match: LineMatch
    procedure_code: str
    modifiers: list[str] = Field(default_factory=list)
    charge: Money
    paid: Money
    allowed: Money | None = None
    units: Decimal | None = None
    adjustments: list[RemitAdjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list)


class LedgerEntry(Model):
    """One posting on a claim's ledger. `source` is unique per claim: nothing posts twice."""

    source: str
    kind: LedgerKind
    era_id: str
    posted_at: str
    status_code: str = ""
    payer_claim_number: str = ""
    charge: Money = Decimal("0.00")
    paid: Money = Decimal("0.00")
    patient_responsibility: Money = Decimal("0.00")
    adjustments: list[RemitAdjustment] = Field(default_factory=list)  # claim- and line-level
    remarks: list[str] = Field(default_factory=list)
    lines: list[LinePosting] = Field(default_factory=list)
    # Segment position of the CLP in the file that posted it: file order between two claim payments
    # of one payment (0 on entries written before it was kept).
    position: int = 0
    reverses: str | None = None  # source of the entry a reversal undoes
    reversed_by: str | None = None  # set on an entry when a reversal undoes it
    # Provider-level (PLB) adjustments linked to this claim: reason code and reference.
    plb_reason: str | None = None
    plb_reference: str | None = None
    # The payment (payer + TRN02) that carried it: a reversal never undoes a posting of its own payment
    # when another one matches (older entries: derived from era_id).
    payment_key: str = ""
    forwarded: bool = False  # CLP02 19/20/21: the payer forwarded the claim to the next payer
    # BPR16 of the payment that carried it (CCYYMMDD as sent; "" when the payer sent none, and on
    # entries posted before it was kept): the payer's adjudication date for the next payer's 837P.
    payment_date: str = ""
    # Staff and patient entries (billing.writeoffs): amount > 0, which balance it reduces, the
    # write-off category, who asked, whether it waits for a manager, and what an approval approves.
    amount: Money = Decimal("0.00")
    balance: StaffBalance | None = None
    category: str | None = None
    requested_by: str | None = None
    pending_approval: bool = False
    approves: str | None = None

    @property
    def counts_toward_claim(self) -> bool:
        return self.kind in ("payment", "denial", "reversal", "not_our_claim")
