"""Remittance: the ERA store (one record per BPR/TRN payment of an 835, its per-claim results and
provider adjustments) and the queues that carry an ERA's posting, release and continuation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from medbill.models.remittance import ClaimRemittance


@dataclass(frozen=True)
class EraResult:
    """What became of the claim payment at `position` of an ERA payment (posted, held, unmatched,
    ...): `fields` are ids, codes and amounts. Once "posted" it is final."""

    era_id: str
    position: int
    fields: dict[str, Any]


class EraStore(Protocol):
    """ERA payments (one per BPR/TRN of a file): headers, per-claim results, provider adjustments.

    A header is created once (False when it exists); status changes may be conditional on the
    status expected (False when it moved on). Listings come newest first, results by position."""

    def get_era(self, era_id: str) -> dict[str, Any] | None: ...
    def create_era(self, era_id: str, record: dict[str, Any]) -> bool: ...
    def rewrite_era(self, era_id: str, record: dict[str, Any]) -> bool: ...
    def add_era_duplicate(self, era_id: str, source_key: str) -> None: ...
    def requarantine_era(self, era_id: str, file_id: str, problems: list[str]) -> bool: ...
    def update_era_status(self, era_id: str, status: str, expected: str | None = None) -> bool: ...
    def era_ids_for_file(self, file_id: str) -> list[str]: ...
    def advance_era_fanout(self, era_id: str, file_id: str, done: int) -> bool:
        """Checkpoint of a chunked fan-out: `done` steps of it finished. Forward only, and only on the
        record of `file_id`; False when the record already says as much (or more), or is another file's."""
        ...

    def record_era_sent(self, era_id: str, sent: list[tuple[int, str]]) -> None: ...
    def era_sent(self, era_id: str) -> list[tuple[int, str]]: ...
    def record_era_result(self, result: EraResult) -> bool: ...
    def era_result(self, era_id: str, position: int) -> dict[str, Any] | None: ...
    def era_results(self, era_id: str) -> list[dict[str, Any]]: ...
    def era_result_counts(self, era_id: str) -> tuple[int, int]: ...
    def record_provider_adjustment(self, era_id: str, number: int, fields: dict[str, Any]) -> bool: ...
    def provider_adjustments(self, era_id: str) -> list[dict[str, Any]]: ...
    def list_eras(
        self, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The office's ERA list, or one clinic's (the ERAs paid to its payee), newest first."""
        ...

    def payee_clinics(self, npi: str) -> list[str]:
        """The clinics that bill under a billing provider NPI (claims record it when created)."""
        ...

    def era_claims_token(self, era_id: str, position: int) -> str: ...
    def era_claims_after(self, era_id: str, token: str) -> int: ...


class PostingQueue(Protocol):
    """One posting message per claim payment of an ERA."""

    def send(self, remittances: Sequence[ClaimRemittance]) -> int: ...


class ReleaseQueue(Protocol):
    """Asks the remittance stage to post a quarantined ERA file a person released."""

    def release(
        self, source_key: str, file_id: str, released_by: str, *, encoding: str | None = None, recheck: bool = False
    ) -> None:
        """`encoding`: read the file in it (a person confirmed it); `recheck`: check the file as on
        its first delivery (an unreadable file whose encoding was confirmed), not post it regardless."""
        ...


class EraContinuationQueue(Protocol):
    """Where a big ERA file's fan-out continues (the remittance queue): by key and file id."""

    def send_continuation(self, source_key: str, file_id: str) -> None: ...
