"""Insurance verification: the real-time check (270 -> 271) and the answers kept for a day."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from medbill.models.eligibility import EligibilityInquiry, EligibilityResult


class EligibilityGateway(Protocol):
    """Insurance verification: is this member covered by this payer on this date, and for what."""

    def check(self, payer_id: str, member_id: str, date_of_service: date) -> EligibilityResult: ...

    def verify(self, inquiry: EligibilityInquiry) -> EligibilityResult:
        """The real-time check (270 -> 271) with everything the payer needs to find the member and
        the visit's service type. Never raises for a payer or network failure: an unanswered check
        is a result with reason `unavailable` (retried later), so the claim holds and is not lost."""
        ...


class EligibilityAnswers(Protocol):
    """Eligibility answers kept for a day, so each member + payer + date of service is asked once a
    day (`key`: a hash from workflow.eligibility_cache, never a member id; `day`: ISO date)."""

    def cached_eligibility(self, key: str, day: str) -> dict[str, Any] | None: ...
    def cache_eligibility(self, key: str, day: str, record: dict[str, Any]) -> None: ...
