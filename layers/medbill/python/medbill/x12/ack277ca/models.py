"""277CA models: status codes, one STC, the statuses of a level above the claims, one claim's verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = [
    "ACCEPTED_CATEGORIES",
    "IMPLEMENTATION_277CA",
    "LEVELS",
    "PENDING_CATEGORIES",
    "REJECTED_CATEGORIES",
    "Ack277CA",
    "ClaimAck",
    "LevelStatus",
    "Outcome",
    "StatusCode",
    "StatusInfo",
    "rejects",
]

IMPLEMENTATION_277CA = "005010X214"

Outcome = Literal["accepted", "rejected", "pending", "unknown"]
ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})
PENDING_CATEGORIES = frozenset({"P0", "P1", "P2", "P3", "P4", "P5"})
LEVELS = {"20": "information_source", "21": "information_receiver", "19": "billing_provider", "PT": "patient"}


@dataclass(frozen=True, kw_only=True)
class StatusCode:
    """One health care claim status: category (e.g. A7), status code (e.g. 562), entity (e.g. 85)."""

    category: str
    code: str
    entity: str = ""

    def __str__(self) -> str:
        return ":".join(p for p in (self.category, self.code, self.entity) if p)

    @classmethod
    def parse(cls, text: str) -> StatusCode:
        """'A7:562:85' -> StatusCode(category='A7', code='562', entity='85')."""
        parts = [*text.split(":"), "", ""]
        return cls(category=parts[0], code=parts[1], entity=parts[2])


@dataclass(frozen=True)
class StatusInfo:
    """One STC segment."""

    codes: tuple[StatusCode, ...]  # STC01, STC10, STC11
    action: str = ""  # STC03: WQ accepted, U rejected
    amount: Decimal | None = None  # STC04: total claim charge (or batch/provider total)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c.category for c in self.codes)


@dataclass
class LevelStatus:
    """Statuses at one HL level above the claim (source 20, receiver 21, billing provider 19)."""

    level: str  # HL03
    hl_id: str
    entity_id: str = ""  # NM109: payer id / ETIN / NPI (never read for the patient level)
    trace: str = ""  # TRN02
    statuses: list[StatusInfo] = field(default_factory=list)


@dataclass
class ClaimAck:
    """The payer's verdict on one claim (one 2200D loop)."""

    claim_id: str  # TRN02 = our CLM01
    outcome: Outcome
    statuses: list[StatusInfo]
    payer_claim_number: str | None  # REF*1K
    total_charge: Decimal | None  # STC04 of the first claim-level STC
    billing_npi: str = ""
    clearinghouse_trace: str | None = None  # REF*D9
    ack_control_number: str = ""  # ST02 of the 277CA
    line_statuses: list[tuple[str, StatusInfo]] = field(default_factory=list)  # (REF*FJ or SVC code, STC)

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    @property
    def codes(self) -> list[str]:
        return [str(c) for s in self.statuses for c in s.codes]


@dataclass
class Ack277CA:
    levels: list[LevelStatus] = field(default_factory=list)
    claims: list[ClaimAck] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)  # ST02s
    envelope_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # content: amounts that are not numbers, non-277 sets

    def claim(self, claim_id: str) -> ClaimAck | None:
        return next((c for c in self.claims if c.claim_id == claim_id), None)

    @property
    def rejected_levels(self) -> list[LevelStatus]:
        """Levels above the claims (source, receiver, billing provider) with a rejecting STC: each
        rejects the batch (or the provider's claims), with or without claims listed under it."""
        return [lv for lv in self.levels if rejects(lv.statuses)]


def rejects(statuses: Sequence[StatusInfo]) -> bool:
    """True when a status carries a rejecting category (A3, A4, A6, A7, A8)."""
    return any(cat in REJECTED_CATEGORIES for s in statuses for cat in s.categories)
