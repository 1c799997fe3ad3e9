"""What an 837P says, as read by `claim837.reader`: the submission, its claims and their service lines.

Loop names follow 005010X222A1. Patient and subscriber names and member ids are PHI: the models
keep them (the 277CA and the payer simulator's 835 echo them back) but their ``repr`` hides them, and
`claim837.summary` never reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from medbill.x12.envelope import Interchange
from medbill.x12.tokenizer import X12SyntaxError

__all__ = [
    "BillingProvider837",
    "Claim837",
    "LineAdjudication837",
    "Name",
    "OtherPayer837",
    "ServiceLine837",
    "Submission837",
    "Transaction837",
]


@dataclass(slots=True)
class Name:
    """One NM1: submitter (41), receiver (40), billing provider (85), subscriber (IL), payer (PR), patient (QC)."""

    entity_type: str = ""  # NM102: 1 person, 2 non-person
    last: str = field(default="", repr=False)  # NM103: last or organization name
    first: str = field(default="", repr=False)  # NM104
    middle: str = field(default="", repr=False)  # NM105
    id_qualifier: str = ""  # NM108
    id: str = field(default="", repr=False)  # NM109: NPI, payer id, ETIN, member id


@dataclass(slots=True)
class BillingProvider837:
    """Loop 2000A: the billing provider's 2010AA NM1*85 and its REF*EI tax id."""

    name: Name
    tin: str = ""

    @property
    def npi(self) -> str:
        return self.name.id


@dataclass(slots=True)
class OtherPayer837:
    """Loop 2320 / 2330B: another payer of the claim and, once it adjudicated, what it paid and left."""

    responsibility: str  # SBR01: P, S, T, ...
    payer_id: str = ""  # 2330B NM109
    paid: Decimal | None = None  # AMT*D
    patient_liability: Decimal | None = None  # AMT*EAF
    payer_claim_number: str = ""  # 2330B REF*F8


@dataclass(slots=True)
class LineAdjudication837:
    """Loop 2430: how another payer adjudicated the line (SVD02 paid, its PR adjustments)."""

    payer_id: str  # SVD01
    paid: Decimal | None
    patient_responsibility: Decimal = Decimal(0)  # sum of the CAS*PR amounts


@dataclass(slots=True)
class ServiceLine837:
    """Loop 2400: LX, SV1, DTP*472, REF*6R."""

    line_number: int | None  # LX01; None when it is not a number
    position: int  # of the LX
    sv1_position: int = 0  # 0: no SV1 read for this LX
    procedure_code: str = ""  # SV101-2
    modifiers: list[str] = field(default_factory=list)  # SV101-3..6
    charge: Decimal | None = None  # SV102; None when it is not a number
    units: str = ""  # SV104 as sent (a number, checked)
    diagnosis_pointers: list[int] = field(default_factory=list)  # SV107
    service_date: str = ""  # DTP*472: CCYYMMDD, the first date of a range
    service_date_end: str = ""  # the last date of a range (= service_date for one day)
    control_number: str | None = None  # REF*6R: our line item control number
    adjudications: list[LineAdjudication837] = field(default_factory=list)  # 2430, in file order


@dataclass(slots=True)
class Claim837:
    """Loop 2300 (CLM) with the loops it sits in: billing provider, subscriber + payer, patient."""

    claim_id: str  # CLM01
    position: int
    total: Decimal | None  # CLM02; None when it is not a number
    place_of_service: str  # CLM05-1
    frequency_code: str  # CLM05-3, as sent (may be empty)
    payer_id: str  # 2010BB NM1*PR NM109
    billing: BillingProvider837 | None  # 2000A; None when no NM1*85 came before the claim
    subscriber: Name | None = None  # 2010BA NM1*IL
    patient: Name | None = None  # 2010CA NM1*QC; None when the patient is the subscriber
    payer_claim_number: str | None = None  # REF*F8
    rendering_npi: str | None = None  # 2310B NM1*82; None when absent
    diagnosis_codes: list[str] = field(default_factory=list)  # HI ABK/ABF/BK/BF
    lines: list[ServiceLine837] = field(default_factory=list)
    payer_responsibility: str = "P"  # 2000B SBR01: P primary, S secondary, T tertiary
    other_payers: list[OtherPayer837] = field(default_factory=list)  # 2320 loops

    @property
    def billing_npi(self) -> str:
        return self.billing.npi if self.billing is not None else ""

    @property
    def patient_name(self) -> Name:
        """The patient: the 2010CA name, or the subscriber's when they are the patient."""
        return self.patient or self.subscriber or Name()

    @property
    def member_id(self) -> str:
        return self.subscriber.id if self.subscriber is not None else ""


@dataclass(slots=True)
class Transaction837:
    """One ST..SE of an 837P, with its envelope's control numbers."""

    interchange_control_number: str
    group_control_number: str
    control_number: str  # ST02
    version: str  # ST03, else GS08
    claim_count: int = 0


@dataclass(slots=True)
class Submission837:
    """An 837P file: what a 999 or 277CA answers and a payer adjudicates."""

    interchange: Interchange | None = None  # of the first 837 transaction
    submitter: Name | None = None  # 1000A NM1*41 (the first in the file)
    receiver: Name | None = None  # 1000B NM1*40
    reference: str = ""  # BHT03 of the first transaction that has one
    transactions: list[Transaction837] = field(default_factory=list)
    claims: list[Claim837] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # structure and balancing, in file order
    number_errors: list[X12SyntaxError] = field(default_factory=list)  # numbers that are not, by element
    envelope_problems: list[str] = field(default_factory=list)
