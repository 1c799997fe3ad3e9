"""What insurance verification learned about a claim's coverage."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class EligibilityResult:
    active: bool
    # AAA-style reason code when not active: 72 invalid member id, 75 subscriber not found,
    # 6 inactive coverage (our own short codes below keep it readable).
    reason: str | None = None
    copay: Decimal | None = None
    deductible_remaining: Decimal | None = None
    plan: str | None = None
