"""X12 835 (005010X221A1) models: a payment (one ST..SE) with its claims, service lines and adjustments.

Slots dataclasses, money as :class:`decimal.Decimal`, dates as the X12 ``CCYYMMDD`` text the payer
sent (so a payer's odd date, such as the sample with BPR16 = 20002316, is kept as sent rather than
lost). The models keep patient names for posting, but their ``repr`` hides them.

Balancing (what ``balanced`` and ``problems`` say) is computed while reading: see ``balancing.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from medbill.x12.envelope import FunctionalGroup, Interchange

__all__ = [
    "IMPLEMENTATION_GUIDE",
    "ZERO",
    "Adjustment",
    "ClaimPayment",
    "Contact",
    "Party",
    "Payment",
    "PersonName",
    "ProviderAdjustment",
    "Reference",
    "ServiceLine",
    "money",
]

IMPLEMENTATION_GUIDE = "005010X221A1"
ZERO = Decimal("0")


def money(value: Decimal) -> str:
    """Two-decimal text for reports and JSON."""
    return f"{value:.2f}"


@dataclass(slots=True)
class Reference:
    qualifier: str  # REF01
    value: str  # REF02


@dataclass(slots=True)
class Contact:
    function: str  # PER01: CX business, BL technical, IC web site
    name: str = ""  # PER02
    communications: list[tuple[str, str]] = field(default_factory=list)  # (qualifier, number) pairs


@dataclass(slots=True)
class Party:
    """An N1 loop (1000A payer N1*PR, 1000B payee N1*PE)."""

    entity: str  # N101
    name: str = ""  # N102
    id_qualifier: str = ""  # N103: XX NPI, FI TIN, XV plan id, ...
    id: str = ""  # N104
    address: list[str] = field(default_factory=list)  # N301, N302
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    references: list[Reference] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    @property
    def npi(self) -> str | None:
        return self.id if self.id_qualifier == "XX" else None

    @property
    def tin(self) -> str | None:
        """Federal tax id: N104 when N103 = FI, else REF*TJ."""
        return self.id if self.id_qualifier == "FI" else self.reference("TJ")


@dataclass(slots=True)
class PersonName:
    """NM1 in loop 2100: QC patient, IL insured, 74 corrected insured, 82 rendering provider, ..."""

    entity: str  # NM101
    entity_type: str = "1"  # NM102: 1 person, 2 non-person
    last: str = field(default="", repr=False)  # names are PHI: hidden from repr
    first: str = field(default="", repr=False)
    middle: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    id_qualifier: str = ""  # NM108: MI member id, HN, XX NPI, ...
    id: str = field(default="", repr=False)  # NM109 (member id is PHI)


@dataclass(slots=True)
class Adjustment:
    """One CAS reason/amount/quantity triple with its group (CO, PR, OA, PI, CR)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(slots=True)
class ServiceLine:
    """Loop 2110: SVC with its DTM, CAS, REF, AMT, QTY, LQ."""

    procedure_qualifier: str  # SVC01-1: HC, AD, ER, IV, N4, NU, WK, ...
    procedure_code: str  # SVC01-2
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    modifiers: list[str] = field(default_factory=list)  # SVC01-3..6
    description: str = ""  # SVC01-7
    revenue_code: str = ""  # SVC04
    units: Decimal | None = None  # SVC05 (absent means 1)
    original_procedure: list[str] = field(default_factory=list)  # SVC06 components, when bundled/changed
    original_units: Decimal | None = None  # SVC07
    dates: dict[str, str] = field(default_factory=dict)  # DTM qualifier -> CCYYMMDD (472, 150, 151)
    adjustments: list[Adjustment] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)  # REF*6R line control number, 6B, ...
    amounts: dict[str, Decimal] = field(default_factory=dict)  # AMT qualifier -> amount (B6 allowed)
    quantities: dict[str, Decimal] = field(default_factory=dict)
    remarks: list[tuple[str, str]] = field(default_factory=list)  # LQ (HE|RX, code)
    position: int = field(default=0, compare=False)
    unreadable_amounts: int = field(default=0, compare=False)  # SVC02/SVC03/CAS amounts that are not numbers

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    @property
    def control_number(self) -> str | None:
        """REF*6R: our line item control number (from 837 REF*6R)."""
        return self.reference("6R")

    @property
    def allowed(self) -> Decimal | None:
        return self.amounts.get("B6")

    @property
    def service_date(self) -> str | None:
        return self.dates.get("472") or self.dates.get("150")


@dataclass(slots=True)
class ClaimPayment:
    """Loop 2100 (CLP) with its service lines."""

    claim_id: str  # CLP01 patient control number = our claim id
    status_code: str  # CLP02: 1,2,3,4,19,20,21,22,23,25
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None = None  # CLP05
    filing_indicator: str = ""  # CLP06: MC, MB, 12, 13, 16, ...
    payer_claim_control_number: str = ""  # CLP07
    facility_code: str = ""  # CLP08 (place of service for professional claims)
    frequency_code: str = ""  # CLP09
    drg_code: str = ""  # CLP11
    header_number: str | None = None  # LX01 of the 2000 loop the claim is in
    adjustments: list[Adjustment] = field(default_factory=list)
    names: list[PersonName] = field(default_factory=list)
    inpatient: list[str] = field(default_factory=list)  # MIA elements, as sent
    outpatient: list[str] = field(default_factory=list)  # MOA elements, as sent
    references: list[Reference] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)  # 232/233 statement, 050 received, 036, ...
    amounts: dict[str, Decimal] = field(default_factory=dict)  # AMT AU covered, DY, F5 patient paid, ...
    quantities: dict[str, Decimal] = field(default_factory=dict)
    lines: list[ServiceLine] = field(default_factory=list)
    position: int = field(default=0, compare=False)
    problems: list[str] = field(default_factory=list, compare=False)
    unbalanced_count: int = field(default=0, compare=False)
    # CLP03/CLP04, SVC02/SVC03 or CAS amounts (its lines' included) that are not numbers: read as
    # 0.00 or left out, so the claim is never reported balanced.
    unreadable_amounts: int = field(default=0, compare=False)

    @property
    def balanced(self) -> bool:
        """CLP03 - CLP04 equals the claim and line adjustments, every line balances, every amount was read."""
        return self.unbalanced_count == 0

    def name(self, entity: str) -> PersonName | None:
        return next((n for n in self.names if n.entity == entity), None)

    @property
    def patient(self) -> PersonName | None:
        return self.name("QC")

    @property
    def insured(self) -> PersonName | None:
        return self.name("IL")

    @property
    def corrected_insured(self) -> PersonName | None:
        return self.name("74")

    @property
    def rendering_provider(self) -> PersonName | None:
        return self.name("82")

    @property
    def remark_codes(self) -> list[str]:
        """Claim-level RARCs from MIA05, MIA20-23 and MOA03-07."""
        mia = [self.inpatient[i] for i in (4, 19, 20, 21, 22) if i < len(self.inpatient)]
        moa = self.outpatient[2:7]
        return [c for c in (*mia, *moa) if c]

    @property
    def all_adjustments(self) -> list[Adjustment]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"


@dataclass(slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair. Positive amounts reduce the payment (e.g. WO overpayment recovery)."""

    provider_id: str  # PLB01
    fiscal_period_date: str  # PLB02 CCYYMMDD
    reason: str  # PLB03-1: WO, L6, FB, 72, CS, J1, CV, ...
    amount: Decimal
    reference: str = ""  # PLB03-2
    position: int = field(default=0, compare=False)


@dataclass(slots=True)
class Payment:
    """One 835 transaction (ST..SE): the payment header, its claims and the provider adjustments.

    While streaming, ``claims`` stays empty and :meth:`iter_claims` hands claims out as they are
    read; ``provider_adjustments``, ``problems`` and ``balanced`` are final once iteration is done.
    """

    total_paid: Decimal  # BPR02
    handling_code: str = "I"  # BPR01: I remittance+payment, H notification only, C payment+advice, ...
    credit_debit: str = "C"  # BPR03
    payment_method: str = "CHK"  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_format: str = ""  # BPR05: CCP, CTX
    bank_details: list[str] = field(default_factory=list)  # BPR06..BPR15, as sent
    payment_date: str = ""  # BPR16 CCYYMMDD
    trace_type: str = "1"  # TRN01
    trace_number: str = ""  # TRN02 check or EFT trace number
    payer_identifier: str = ""  # TRN03
    originating_company_supplemental: str = ""  # TRN04
    currency: str = ""  # CUR02
    production_date: str = ""  # DTM*405
    references: list[Reference] = field(default_factory=list)  # header REF (EV receiver, F2 version)
    payer: Party = field(default_factory=lambda: Party("PR"))
    payee: Party = field(default_factory=lambda: Party("PE"))
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    control_number: str = ""  # ST02
    version: str = field(default=IMPLEMENTATION_GUIDE, compare=False)  # GS08 / ST03
    claim_count: int = field(default=0, compare=False)
    claims_paid_total: Decimal = field(default=ZERO, compare=False)  # running sum(CLP04)
    position: int = field(default=0, compare=False)  # of ST
    bpr_position: int = field(default=0, compare=False)
    problems: list[str] = field(default_factory=list, compare=False)
    unbalanced_count: int = field(default=0, compare=False)  # balancing problems among ``problems``
    unreadable_amounts: int = field(default=0, compare=False)  # BPR02, CLP04 or PLB amounts that are not numbers
    interchange: Interchange | None = field(default=None, compare=False, repr=False)
    group: FunctionalGroup | None = field(default=None, compare=False, repr=False)
    _stream: Iterator[tuple[str, Any]] | None = field(default=None, compare=False, repr=False)

    @property
    def balanced(self) -> bool:
        """Every claim, line and the transaction total balance (structure problems aside)."""
        return self.unbalanced_count == 0

    @property
    def valid(self) -> bool:
        """Balanced and no structure problem either."""
        return not self.problems

    @property
    def provider_adjustment_total(self) -> Decimal:
        return sum((a.amount for a in self.provider_adjustments), ZERO)

    @property
    def signed_total(self) -> Decimal:
        return -self.total_paid if self.credit_debit == "D" else self.total_paid

    def iter_claims(self) -> Iterator[ClaimPayment]:
        """Claims of this payment: streamed from the file while reading, else from ``claims``."""
        stream = self._stream
        if stream is None:
            yield from self.claims
            return
        for kind, obj in stream:
            if kind == "claim":
                yield obj
            else:  # "end": trailer read, totals and problems are final
                self._stream = None
                return
        self._stream = None

    def drain(self) -> None:
        """Read (and drop) the claims not yet consumed so the totals and problems are final."""
        for _ in self.iter_claims():
            pass
