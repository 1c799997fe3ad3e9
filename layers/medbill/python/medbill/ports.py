"""The ports: what the billing domain needs from the outside, as small Protocols.

The domain (models, x12, intake, coding, billing, workflow) depends on these and never on boto3 or
an adapter; `medbill.adapters` implements them with AWS services, `tests/fakes.py` in memory, and
`medbill.entry.wiring` (the composition root) decides which serves which. The errors a port raises
are declared here too, so the domain can catch them without knowing the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from medbill.models.claim import Claim
from medbill.models.eligibility import EligibilityResult
from medbill.models.remittance import ClaimRemittance

# --- errors a store raises ---------------------------------------------------------------------


class ClaimNotFound(Exception):
    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim {claim_id} not found")
        self.claim_id = claim_id


class ConcurrentUpdate(Exception):
    """Someone else changed the claim since we read it (optimistic lock): re-read and retry."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim {claim_id} was changed concurrently")
        self.claim_id = claim_id


class StaleItem(Exception):
    """A condition on another item of the transaction failed (e.g. a work item already consumed)."""


class InvalidClaimUpdate(ValueError):
    """A change would store a claim that no longer validates; names the fields, never the values."""


class AlreadyPosted(Exception):
    """A ledger entry with this source key already exists: the remittance was posted before."""


class QueueSendError(Exception):
    """A message could not be queued (the queue is not configured, or sending kept failing)."""


class BadPageToken(ValueError):
    """A page token that is not one this listing issued."""


# --- values the claim store returns -------------------------------------------------------------


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


# --- ports --------------------------------------------------------------------------------------


class Artifacts(Protocol):
    """Files: encounter files in, rejection reports, the 837P outbox, ERA files and their reports."""

    def read(self, key: str) -> bytes: ...
    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None: ...
    def write_json(self, key: str, document: dict[str, Any]) -> None: ...


class Workflow(Protocol):
    """The claim's execution: started once per claim (named by its id), resumed by task token."""

    def start_claim(self, claim_id: str, clinic_id: str) -> bool: ...
    def resume(self, task_token: str, output: dict[str, Any]) -> bool: ...


class PostingQueue(Protocol):
    """One posting message per claim payment of an ERA."""

    def send(self, remittances: Sequence[ClaimRemittance]) -> int: ...


class ReleaseQueue(Protocol):
    """Asks the remittance stage to post a quarantined ERA file a person released."""

    def release(self, source_key: str, file_id: str, released_by: str) -> None: ...


class IntakeQueue(Protocol):
    """Continues a long encounter file in a new message."""

    def send_continuation(self, key: str, from_record: int) -> None: ...


class EligibilityGateway(Protocol):
    """Insurance verification: is this member covered by this payer on this date, and for what."""

    def check(self, payer_id: str, member_id: str, date_of_service: date) -> EligibilityResult: ...


@dataclass(frozen=True)
class RemoteFile:
    """A file in the clearinghouse's outbound folder, as a listing shows it (name, bytes, mtime)."""

    name: str
    size: int
    modified: int  # seconds since the epoch, as the server reports it

    @property
    def identity(self) -> str:
        """Name + size + mtime: the same file listed twice has the same identity."""
        return f"{self.name}|{self.size}|{self.modified}"


class Clearinghouse(Protocol):
    """The clearinghouse's batch mailbox (SFTP at Availity, Office Ally, Claim.MD, Waystar...):
    claims go into its inbound folder; answers (999, 277CA, 277, 271, 835) wait in its outbound
    folder until we archive them. Raises `ClearinghouseError` when the server cannot be reached."""

    def send(self, name: str, body: bytes) -> bool:
        """Put `body` as inbound/`name`, written under a temporary name and renamed, so the
        clearinghouse never sees a partial file. False (nothing written) when inbound/`name` is
        there already with the same size: a retry after a crash does not make a second file."""
        ...

    def answers(self) -> Sequence[RemoteFile]:
        """Finished files in the outbound folder (names ending .tmp/.part/.filepart, or starting
        with a dot, are still being written and are left out)."""
        ...

    def read(self, file: RemoteFile) -> bytes: ...

    def archive(self, file: RemoteFile) -> None:
        """Move the file out of the outbound folder into the archive folder; a file already moved
        is not an error."""
        ...


class ClearinghouseError(Exception):
    """The clearinghouse could not be reached, refused us, or failed an operation (no PHI: names only)."""


class ClearinghouseUnavailable(ClearinghouseError):
    """Cannot connect, credentials refused, or the server's host key is not the one we trust: the
    run stops (every other file would fail the same way) and the next scheduled run tries again."""


class ExchangeLedger(Protocol):
    """Which files crossed to or from the clearinghouse: one record per key, written once."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put_if_absent(self, key: str, record: dict[str, Any]) -> bool:
        """Store `record` under `key` unless a record is there; True if this call stored it."""
        ...

    def recorded(self, prefix: str) -> set[str]:
        """The keys recorded under `prefix` (one listing, not a read per key)."""
        ...


class Outbox(Protocol):
    """The 837P files waiting in the bucket's outbox (keys, in order)."""

    def waiting(self) -> Sequence[str]: ...


__all__ = [
    "AlreadyPosted",
    "Artifacts",
    "BadPageToken",
    "Claim",
    "ClaimEvent",
    "ClaimNotFound",
    "Clearinghouse",
    "ClearinghouseError",
    "ClearinghouseUnavailable",
    "ConcurrentUpdate",
    "EligibilityGateway",
    "EligibilityResult",
    "ExchangeLedger",
    "IntakeQueue",
    "InvalidClaimUpdate",
    "Outbox",
    "Page",
    "PostingQueue",
    "QueueSendError",
    "ReleaseQueue",
    "RemoteFile",
    "StaleItem",
    "Workflow",
]
