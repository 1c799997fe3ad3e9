"""Claim status inquiry (276) and response (277), 005010X212: what we ask and what the payer says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from medbill.x12.ack277ca.models import StatusCode, StatusInfo

__all__ = ["IMPLEMENTATION_X212", "ClaimStatus277", "Person276", "Status277", "StatusRequest", "StatusResponse"]

IMPLEMENTATION_X212 = "005010X212"


@dataclass(frozen=True, kw_only=True)
class Person276:
    last_name: str
    first_name: str = ""
    member_id: str = ""  # subscriber: NM109 MI (a dependent has none of its own)
    date_of_birth: date | None = None
    gender: str = ""  # M, F, U


@dataclass(frozen=True, kw_only=True)
class StatusRequest:
    """One claim asked about. `claim_id` is TRN02 (the 277 echoes it) and REF*EJ (our CLM01)."""

    claim_id: str
    payer_id: str
    payer_name: str
    provider_name: str  # billing provider (2100C)
    provider_npi: str
    subscriber: Person276
    total_charge: Decimal
    service_from: date
    service_to: date | None = None
    patient: Person276 | None = None  # a dependent: HL 23 (None: the subscriber is the patient)
    payer_claim_number: str | None = None  # REF*1K (from the 277CA or the 835)


@dataclass(frozen=True)
class StatusResponse:
    """One STC of a 277 claim: codes (category:status:entity, up to three) and the STC amounts/dates."""

    info: StatusInfo
    effective: str = ""  # STC02 status information effective date (CCYYMMDD)
    paid: Decimal | None = None  # STC05
    adjudicated: str = ""  # STC06 adjudication or payment date
    check_date: str = ""  # STC08
    check_number: str = ""  # STC09

    @property
    def codes(self) -> tuple[StatusCode, ...]:
        return self.info.codes


@dataclass
class ClaimStatus277:
    """What the payer says about one claim (one 2200D/E loop)."""

    claim_id: str  # TRN02 = our trace (the claim id)
    statuses: list[StatusResponse] = field(default_factory=list)
    payer_claim_number: str | None = None  # REF*1K
    account_number: str | None = None  # REF*EJ (our CLM01)
    ack_control_number: str = ""  # ST02 of the 277

    @property
    def categories(self) -> list[str]:
        return [c.category for s in self.statuses for c in s.codes]

    @property
    def finalized(self) -> bool:
        return any(cat.startswith("F") for cat in self.categories)


@dataclass
class Status277:
    claims: list[ClaimStatus277] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)
    envelope_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def claim(self, claim_id: str) -> ClaimStatus277 | None:
        return next((c for c in self.claims if c.claim_id == claim_id), None)
