"""What insurance verification asked and learned about a claim's coverage.

`EligibilityResult` is what the gateway answers (a dataclass, never stored as is: its corrected
names and member id are PHI); `CoverageFound` and `PatientShareEstimate` are what the claim keeps
(plan, dates, the visit's copay / coinsurance / deductible left, network; no names, no member id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from medbill.models.common import Model, Money

# Reasons a result is not "active" (EligibilityResult.reason):
COVERAGE_INACTIVE = "coverage_inactive"  # EB01 6-8, or a plan date that does not cover the visit
COVERAGE_ENDED = "coverage_ended"  # DTP 347/357 (or the end of 291/346/356 RD8) before the date of service
SERVICE_NOT_COVERED = "service_not_covered"  # EB01 I (non-covered) for the visit's service type
OTHER_PAYER = "other_payer"  # 2120C names another payer to bill (EB01 R with NM1 PRP/PR...)
MEMBER_NOT_FOUND = "member_not_found"  # AAA 72/73/75/76... on the member: correct and resend
PAYER_NOT_FOUND = "payer_not_found"  # the payer is unknown to the clearinghouse (AAA on 2100A 79/80...)
UNAVAILABLE = "unavailable"  # AAA 42, a transport error or a timeout: retried, never a denial
REJECTED = "rejected"  # any other AAA (the code is in `rejection_codes`)


@dataclass(frozen=True)
class EligibilityInquiry:
    """One real-time question: this member of this payer, on this date, for this service type.
    Names, birth dates and the member id are PHI: hidden from repr, never logged."""

    payer_id: str
    payer_name: str
    member_id: str = field(repr=False)
    date_of_service: date
    trace_number: str  # our id (the claim id): the 271 echoes it in TRN*2
    subscriber_last_name: str = field(default="", repr=False)
    subscriber_first_name: str = field(default="", repr=False)
    subscriber_birth_date: date | None = field(default=None, repr=False)
    # The patient when not the subscriber (a 2100D dependent): names, birth date, INS02 relationship.
    dependent_last_name: str = field(default="", repr=False)
    dependent_first_name: str = field(default="", repr=False)
    dependent_birth_date: date | None = field(default=None, repr=False)
    dependent_relationship: str = ""  # 01 spouse, 19 child, 34 other adult
    service_type: str = "30"  # EQ01 of the visit (30 is always asked as well)
    provider_npi: str = ""
    provider_name: str = ""


@dataclass(frozen=True)
class IdentityCorrection:
    """The payer's 271 corrected who we asked about (INS*Y*18*001*25, REF*Q4 prior id): PHI."""

    member_id: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    of: Literal["subscriber", "dependent"] = "subscriber"

    @property
    def fields(self) -> list[str]:
        """The names of the corrected fields (never their values): what an audit event may say."""
        return [n for n in ("member_id", "last_name", "first_name") if getattr(self, n)]


@dataclass(frozen=True)
class EligibilityResult:
    active: bool
    # Why not active (the constants above); None when active.
    reason: str | None = None
    copay: Decimal | None = None
    deductible_remaining: Decimal | None = None
    plan: str | None = None
    # What the 271 said beyond "active" (all optional: the fakes and old callers set none of it).
    coinsurance: Decimal | None = None  # a fraction, 0.20 = 20 %
    out_of_pocket_remaining: Decimal | None = None
    plan_begin: date | None = None
    plan_end: date | None = None
    network: Literal["in", "out", "both", "unknown"] | None = None
    service_type: str | None = None  # the visit's EQ01 the amounts are for
    group_name: str | None = None
    other_payer_id: str | None = None  # 2120C NM109 (a payer id, not PHI)
    other_payer_name: str | None = None
    rejection_codes: tuple[str, ...] = ()  # AAA03 codes, every level
    retry_after_seconds: int | None = None  # set for UNAVAILABLE: when to ask again
    correction: IdentityCorrection | None = None
    checked_at: datetime | None = None


class CoverageFound(Model):
    """Stored on the claim and shown by GET /claims/{id}: ids, codes, dates, amounts; no PHI."""

    payer_id: str
    plan: str | None = None
    group_name: str | None = None
    plan_begin: date | None = None
    plan_end: date | None = None
    service_type: str | None = None
    network: Literal["in", "out", "both", "unknown"] | None = None
    copay: Money | None = None
    coinsurance: Decimal | None = Field(default=None, ge=0, le=1, max_digits=6, decimal_places=4)
    deductible_remaining: Money | None = None
    out_of_pocket_remaining: Money | None = None
    other_payer_id: str | None = None
    checked_at: datetime | None = None


class PatientShareEstimate(Model):
    """What the patient may owe for the visit, from the 271 and the clinic's fee schedule: an
    estimate (the payer's allowed amounts and other claims are not known yet), never a bill."""

    kind: Literal["estimate"] = "estimate"
    amount: Money
    charges: Money  # the fee schedule's charges for the visit's lines
    copay: Money
    deductible: Money  # the part of the charges the remaining deductible takes
    coinsurance: Money  # the coinsurance on the rest
    basis: str = "271 benefits and the clinic fee schedule, before the payer's allowed amounts"
