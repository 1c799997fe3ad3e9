"""The claim store: claims with optimistic locking, their audit trail, ledgers, claim-level work
items (held reversals, unmatched remittance), statements, patients and counters; and the values it
returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from medbill.models.claim import Claim
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus
from medbill.ports.remittance import EraResult, EraStore


@dataclass(frozen=True)
class ClaimEvent:
    at: str
    actor: str
    old_status: str | None
    new_status: str
    detail: dict[str, Any]
    version: int


@dataclass
class Page:
    items: list[Claim]
    next_token: str | None


# The by-status work queue of remittance for claims we do not know (yet).
UNMATCHED_STATUS = "UNMATCHED_REMITTANCE"


@dataclass(frozen=True)
class HeldReversal:
    """A reversal (CLP02 22) kept on the claim `claim_id` until the posting it undoes arrives."""

    claim_id: str
    remittance: ClaimRemittance


@dataclass(frozen=True)
class UnmatchedRemittance:
    """A claim payment whose CLP01 names no claim of ours, waiting in the unmatched work queue."""

    remittance: ClaimRemittance


WorkItem = HeldReversal | UnmatchedRemittance


@dataclass(frozen=True)
class Consume:
    """A work item a posting takes away in its own transaction. `must_exist`: the write fails
    (StaleItem) when it is gone already, i.e. another posting consumed it first."""

    item: WorkItem
    must_exist: bool = True


@dataclass
class PostingState:
    """A claim's ledger and its held reversals, read together (strongly consistent)."""

    entries: list[LedgerEntry]
    held: list[HeldReversal] = field(default_factory=list)


class ClaimStore(Protocol):
    """Claims, their audit trail, their ledgers and the claim-level work items.

    Every write of a claim is conditional on the version it was read at (ConcurrentUpdate
    otherwise) and commits with its audit event; the status transition is the caller's to check.
    A ledger entry is unique per source (AlreadyPosted); a work item a write consumes must still be
    there (StaleItem), as must the ERA result it records not be "posted" already (StaleItem)."""

    def create_claim(self, claim: Claim, actor: str = "intake") -> bool: ...
    def get_claim(self, claim_id: str) -> Claim: ...
    def claim_exists(self, claim_id: str) -> bool: ...
    def save(
        self,
        claim: Claim,
        *,
        actor: str,
        new_status: ClaimStatus | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Claim: ...
    def events(self, claim_id: str) -> list[ClaimEvent]: ...
    def list_claims(
        self, *, status: str | None = None, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page: ...
    def worklist(
        self, name: str, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page:
        """Claims on a follow-up worklist (billing.worklists.worklist_of), money at stake first, then
        oldest: a keyed query (the by-worklist index; by-clinic-worklist for one clinic's part),
        never a scan."""
        ...

    # ledger and posting
    def ledger_entries(self, claim_id: str) -> list[LedgerEntry]: ...
    def posting_state(self, claim_id: str) -> PostingState: ...
    def post_ledger_entry(
        self,
        claim: Claim,
        entry: LedgerEntry,
        *,
        actor: str,
        detail: dict[str, Any],
        result: EraResult,
        new_status: ClaimStatus | None = None,
        reversed_entry: LedgerEntry | None = None,
        consume: Consume | None = None,
    ) -> Claim: ...
    def hold_reversal(
        self,
        claim: Claim,
        reversal: ClaimRemittance,
        *,
        actor: str,
        detail: dict[str, Any],
        result: EraResult,
        consume: Consume | None = None,
    ) -> Claim: ...
    def record_not_posted(
        self, claim: Claim, *, actor: str, detail: dict[str, Any], result: EraResult, consume: Consume | None = None
    ) -> Claim: ...
    def post_provider_adjustment(self, claim_id: str, entry: LedgerEntry) -> bool: ...
    def post_staff_entry(self, claim: Claim, entry: LedgerEntry, *, actor: str, detail: dict[str, Any]) -> Claim:
        """A staff or patient ledger entry (write-off, approval, patient payment or refund) with the
        claim (version-conditioned) and its event, once per source (AlreadyPosted)."""
        ...

    def held_reversals(self, claim_id: str) -> list[HeldReversal]: ...

    # unmatched remittance work queue
    def record_unmatched_remittance(
        self, remittance: ClaimRemittance, *, unmatched_id: str, result: EraResult
    ) -> bool: ...
    def unmatched_remittance(self, clp01: str, era_id: str, position: int) -> ClaimRemittance | None: ...
    def unmatched_remittances_for(self, clp01: str) -> list[ClaimRemittance]: ...
    def list_unmatched_remittance(
        self, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]: ...
    def discard_work_item(self, item: WorkItem) -> None: ...

    # patient statements (billing.statements): one record per guarantor account and cycle
    def create_statement(self, account: str, cycle: str, record: dict[str, Any]) -> bool:
        """Record the account's statement for `cycle` (YYYY-MM); False if one is there already."""
        ...

    def statements_for(self, account: str) -> list[dict[str, Any]]:
        """The account's statement records, oldest cycle first."""
        ...

    # patients and counters
    def patient_id_for_match_key(self, key_hash: str) -> str | None: ...
    def claim_patient_key(self, key_hash: str, patient_id: str) -> bool: ...
    def upsert_patient(self, patient_id: str, record: dict[str, Any]) -> bool: ...
    def next_counter(self, name: str) -> int: ...

    # acknowledgements: which claims an interchange (ISA13 = GS06 of our 837P) carried
    def record_interchange(self, control_number: int, claim_id: str) -> None: ...
    def claims_for_interchange(self, control_number: int) -> list[str]: ...


class BillingStore(ClaimStore, EraStore, Protocol):
    """Posting reads both: the claim, and the ERA records of the payments on its ledger."""
