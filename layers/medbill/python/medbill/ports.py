"""The ports: what the billing domain needs from the outside, as small Protocols.

The domain (models, x12, intake, coding, billing, workflow) depends on these and never on boto3 or
an adapter; `medbill.adapters` implements them with AWS services, `tests/fakes.py` in memory, and
`medbill.entry.wiring` (the composition root) decides which serves which. The errors a port raises
are declared here too, so the domain can catch them without knowing the adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from medbill.models.claim import Claim
from medbill.models.eligibility import EligibilityInquiry, EligibilityResult
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus

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


class ObjectReplaced(Exception):
    """The object at a key is no longer the version a reader started on (replaced or deleted since).
    Names the key only."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} was replaced or deleted since it was first read")
        self.key = key


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


@dataclass(frozen=True)
class EraResult:
    """What became of the claim payment at `position` of an ERA payment (posted, held, unmatched,
    ...): `fields` are ids, codes and amounts. Once "posted" it is final."""

    era_id: str
    position: int
    fields: dict[str, Any]


@dataclass
class PostingState:
    """A claim's ledger and its held reversals, read together (strongly consistent)."""

    entries: list[LedgerEntry]
    held: list[HeldReversal] = field(default_factory=list)


# --- ports --------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class AccessRecord:
    """One read of a claim, its ledger or an ERA by a staff user (HIPAA access audit): who, when,
    what. Ids only: the user's Cognito subject and user name, the resource's id."""

    resource: str  # "claim" or "era"
    resource_id: str
    action: str  # "read_claim", "read_ledger", "read_era"
    user_id: str
    user_name: str
    at: str  # ISO 8601 UTC
    request_id: str


class AccessAudit(Protocol):
    """The application's access audit: append-only, newest first per resource."""

    def record_access(self, record: AccessRecord) -> None:
        """Store the record; the same request recorded twice (a retry) is stored once."""
        ...

    def access_log(
        self, resource: str, resource_id: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[AccessRecord], str | None]: ...


class BillingStore(ClaimStore, EraStore, Protocol):
    """Posting reads both: the claim, and the ERA records of the payments on its ledger."""


@dataclass(frozen=True)
class ObjectVersion:
    """Which version of an object a reader holds: S3's VersionId when the bucket is versioned, and its
    ETag (without quotes) always. A file read in passes pins every pass to the version its first pass
    read, so a file replaced under the same key is never read half old, half new."""

    etag: str
    version_id: str | None = None

    @property
    def token(self) -> str:
        """What tells two versions apart (kept on the file's report)."""
        return self.version_id or self.etag

    def same_as(self, other: ObjectVersion) -> bool:
        if self.version_id and other.version_id:
            return self.version_id == other.version_id
        return self.etag == other.etag


@dataclass(frozen=True)
class ObjectStat:
    size: int  # bytes
    version: ObjectVersion


class Artifacts(Protocol):
    """Files: encounter files in, rejection reports, the 837P outbox, ERA files and their reports."""

    def read(self, key: str) -> bytes: ...
    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None: ...
    def write_json(self, key: str, document: dict[str, Any]) -> None: ...
    def stat(self, key: str) -> ObjectStat:
        """The object's size and current version, without reading it (a HEAD)."""
        ...

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterable[bytes]:
        """The object's bytes from offset `start` to its end, in chunks (a ranged GET read as a stream).
        With `version`: that version's bytes or `ObjectReplaced` (S3: by VersionId when there is one,
        else If-Match on the ETag), never another version's."""
        ...


class EncounterUploads(Protocol):
    """Encounter files staff upload from the console: a one-use, short-lived upload of one file to a
    key (an S3 presigned POST: the browser sends the file straight to storage), answered as
    {"url": ..., "fields": {...}} (a multipart form); and the intake report of a file, once written."""

    def upload_form(self, key: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]: ...
    def read_if_present(self, key: str) -> bytes | None: ...


class ClinicProfileFiles(Protocol):
    """Clinic profiles as stored (`config/clinics/<clinic_id>.json`); the domain parses and validates."""

    def read_profile(self, clinic_id: str) -> bytes | None: ...  # None: the clinic has no profile
    def write_profile(self, clinic_id: str, body: bytes) -> None: ...


class Workflow(Protocol):
    """The claim's execution: started once per claim (named by its id), resumed by task token."""

    def start_claim(self, claim_id: str, clinic_id: str) -> bool: ...
    def resume(self, task_token: str, output: dict[str, Any]) -> bool: ...


def execution_name(claim_id: str, attempt: int) -> str:
    """Attempt 1 is named by the claim id (intake starts it); a retry n is `<claim id>-r<n>`."""
    return claim_id if attempt <= 1 else f"{claim_id}-r{attempt}"


def claim_of_execution(name: str) -> tuple[str, int]:
    """(claim id, attempt) from an execution name (the inverse of execution_name)."""
    head, sep, tail = name.rpartition("-r")
    if sep and head and tail.isdigit() and int(tail) > 1:
        return head, int(tail)
    return name, 1


class Executions(Protocol):
    """The claim's executions, for recovery (workflow.recovery): a retry is a new execution (Step
    Functions cannot restart a failed one under its name), and a failed one is found by its name."""

    def start_attempt(self, claim_id: str, clinic_id: str, attempt: int) -> bool:
        """Start attempt n of the claim's workflow (n > 1: named `<claim id>-r<n>`, input
        {claim_id, clinic_id, attempt}); False if that execution exists already."""
        ...

    def execution_status(self, claim_id: str, attempt: int) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; None when there is no such execution."""
        ...

    def failed_executions(self) -> list[str]:
        """Names of the executions that ended FAILED, TIMED_OUT or ABORTED (the stuck-claims query)."""
        ...


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


class IntakeQueue(Protocol):
    """Continues a long encounter file in a new message."""

    def send_continuation(
        self,
        key: str,
        from_record: int,
        resume: dict[str, Any] | None = None,
        version: dict[str, Any] | None = None,
    ) -> None:
        """`resume`: where the next pass reads on (intake.encounter_stream.Resume as JSON); `version`:
        the object version the file's passes read (ObjectVersion as a dict)."""
        ...


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
    """The files waiting in the bucket's outboxes (837P, 270, 276: keys, outbox by outbox, in order)."""

    def waiting(self) -> Sequence[str]: ...


__all__ = [
    "UNMATCHED_STATUS",
    "AccessAudit",
    "AccessRecord",
    "AlreadyPosted",
    "Artifacts",
    "BadPageToken",
    "BillingStore",
    "Claim",
    "ClaimEvent",
    "ClaimNotFound",
    "ClaimStore",
    "Clearinghouse",
    "ClearinghouseError",
    "ClearinghouseUnavailable",
    "ConcurrentUpdate",
    "Consume",
    "EligibilityAnswers",
    "EligibilityGateway",
    "EligibilityInquiry",
    "EligibilityResult",
    "EraResult",
    "EraStore",
    "ExchangeLedger",
    "HeldReversal",
    "IntakeQueue",
    "InvalidClaimUpdate",
    "Outbox",
    "Page",
    "PostingQueue",
    "PostingState",
    "QueueSendError",
    "ReleaseQueue",
    "RemoteFile",
    "StaleItem",
    "UnmatchedRemittance",
    "WorkItem",
    "Workflow",
]
