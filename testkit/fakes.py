"""In-memory fakes of every port (medbill.ports), for domain tests and benchmarks that need no AWS
emulator (tests import them through tests/fakes.py too). The store, the largest, has its own modules:
testkit/fake_store.py (claims, ledger, work items, patients) and testkit/fake_era_store.py (ERA
records); the other ports' fakes are here. All keep their adapter's semantics.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from medbill.models.claim import Claim
from medbill.models.eligibility import EligibilityInquiry, EligibilityResult
from medbill.models.remittance import ClaimRemittance
from medbill.ports import (
    AccessRecord,
    ObjectReplaced,
    ObjectStat,
    ObjectVersion,
    QueueSendError,
    execution_name,
)
from testkit.fake_store import FakeStore


# --- artifacts, workflow, queues, eligibility ------------------------------------------------------
class FakeArtifacts:
    """Artifacts (S3) in memory; reading a key never written fails, as S3's NoSuchKey does. Each write
    is a new version (ETag: the MD5 of the bytes, as S3's for a single-part upload); `versioned` keeps
    the earlier ones readable by version id, as a versioned bucket does. A read pinned to a version the
    key no longer holds raises ObjectReplaced, as the S3 adapter does."""

    def __init__(self, chunk_size: int = 64 * 1024, *, versioned: bool = False) -> None:
        self.files: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.chunk_size = chunk_size
        self.versioned = versioned
        self.versions: dict[str, dict[str, bytes]] = {}  # key -> version id -> bytes (versioned only)
        self.current_version: dict[str, str] = {}
        self.bytes_read = 0  # bytes handed out by read() and open()
        self.heads = 0

    def read(self, key: str) -> bytes:
        if key not in self.files:
            raise KeyError(f"no object {key}")
        self.bytes_read += len(self.files[key])
        return self.files[key]

    def stat(self, key: str) -> ObjectStat:
        if key not in self.files:
            raise KeyError(f"no object {key}")
        self.heads += 1
        return ObjectStat(size=len(self.files[key]), version=self._version(key))

    def _version(self, key: str) -> ObjectVersion:
        etag = hashlib.md5(self.files[key], usedforsecurity=False).hexdigest()
        return ObjectVersion(etag=etag, version_id=self.current_version.get(key))

    def _body(self, key: str, version: ObjectVersion | None) -> bytes:
        if version is None:
            if key not in self.files:
                raise KeyError(f"no object {key}")
            return self.files[key]
        if version.version_id:
            if version.version_id not in self.versions.get(key, {}):
                raise ObjectReplaced(key)
            return self.versions[key][version.version_id]
        if key not in self.files or self._version(key).etag != version.etag:
            raise ObjectReplaced(key)  # If-Match failed
        return self.files[key]

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterator[bytes]:
        """Chunks of `chunk_size` from `start`; `bytes_read` counts what a reader took."""
        body = memoryview(self._body(key, version))
        for at in range(start, len(body), self.chunk_size):
            chunk = bytes(body[at : at + self.chunk_size])
            self.bytes_read += len(chunk)
            yield chunk

    def delete(self, key: str) -> None:
        self.files.pop(key, None)
        self.current_version.pop(key, None)

    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        self.files[key] = body.encode() if isinstance(body, str) else body
        self.content_types[key] = content_type
        if self.versioned:
            version_id = f"v{sum(len(v) for v in self.versions.values()) + 1}"
            self.versions.setdefault(key, {})[version_id] = self.files[key]
            self.current_version[key] = version_id

    def write_json(self, key: str, document: dict[str, Any]) -> None:
        self.write(key, json.dumps(document, indent=2, sort_keys=True, default=str), "application/json")

    def read_json(self, key: str) -> Any:
        return json.loads(self.read(key))

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.files if k.startswith(prefix))


class FakeClinicProfileFiles:
    """ClinicProfileFiles (config/clinics/<clinic_id>.json) in memory; `reads` counts the port's reads."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.reads = 0

    def read_profile(self, clinic_id: str) -> bytes | None:
        self.reads += 1
        return self.files.get(clinic_id)

    def write_profile(self, clinic_id: str, body: bytes) -> None:
        self.files[clinic_id] = body


class FakeWorkflow:
    """Workflow (Step Functions): executions named by claim id, started once; every resume recorded.
    A token in `ended` has timed out or been used: resume says False, as SendTaskSuccess's errors do."""

    def __init__(self) -> None:
        self.started: dict[str, str] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.ended: set[str] = set()
        self.statuses: dict[str, str] = {}  # execution name -> status (set by tests)
        self.resume_error: Exception | None = None  # SendTaskSuccess fails (throttled, unavailable)
        self.start_error: Exception | None = None  # StartExecution fails
        self._lock = threading.Lock()

    def start_claim(self, claim_id: str, clinic_id: str) -> bool:
        with self._lock:
            if claim_id in self.started:
                return False
            self.started[claim_id] = clinic_id
            return True

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        with self._lock:
            if self.resume_error is not None:
                raise self.resume_error
            if task_token in self.ended:
                return False
            self.resumed.append((task_token, output))
            return True

    # Executions (workflow.recovery): an execution's status is RUNNING once started, until a test
    # sets it in `statuses` (by execution name).
    def start_attempt(self, claim_id: str, clinic_id: str, attempt: int) -> bool:
        name = execution_name(claim_id, attempt)
        with self._lock:
            if self.start_error is not None:
                raise self.start_error
            if name in self.started:
                return False
            self.started[name] = clinic_id
            self.statuses[name] = "RUNNING"
            return True

    def execution_status(self, claim_id: str, attempt: int) -> str | None:
        name = execution_name(claim_id, attempt)
        with self._lock:
            return self.statuses.get(name, "RUNNING" if name in self.started else None)

    def failed_executions(self) -> list[str]:
        with self._lock:
            return [n for n, st in self.statuses.items() if st in ("FAILED", "TIMED_OUT", "ABORTED")]


@dataclass
class CollectingQueue:
    """PostingQueue that keeps the messages, so the test posts them when and how it likes."""

    messages: list[ClaimRemittance] = field(default_factory=list)
    sends: int = 0
    fail: bool = False

    def send(self, remittances: Sequence[ClaimRemittance]) -> int:
        if self.fail:
            raise QueueSendError(f"{len(remittances)} posting messages could not be queued")
        self.sends += 1
        # Round-trip through JSON exactly as SQS would carry the message.
        self.messages.extend(ClaimRemittance.model_validate_json(r.model_dump_json()) for r in remittances)
        return len(remittances)

    def take(self) -> list[ClaimRemittance]:
        out, self.messages = self.messages, []
        return out


@dataclass
class ReleaseRequests:
    """ReleaseQueue: the release requests a person made."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def release(
        self, source_key: str, file_id: str, released_by: str, *, encoding: str | None = None, recheck: bool = False
    ) -> None:
        if self.fail:
            raise QueueSendError("REMITTANCE_QUEUE_URL is not configured for this function")
        request: dict[str, Any] = {"source_key": source_key, "file_id": file_id, "released_by": released_by}
        if encoding:
            request.update(encoding=encoding, recheck=recheck)
        self.requests.append(request)


@dataclass
class IntakeContinuations:
    """IntakeQueue: where long encounter files continue."""

    continuations: list[tuple[str, int]] = field(default_factory=list)
    resumes: list[dict[str, Any] | None] = field(default_factory=list)
    versions: list[dict[str, Any] | None] = field(default_factory=list)

    def send_continuation(
        self,
        key: str,
        from_record: int,
        resume: dict[str, Any] | None = None,
        version: dict[str, Any] | None = None,
    ) -> None:
        self.continuations.append((key, from_record))
        self.resumes.append(resume)
        self.versions.append(version)


@dataclass
class FakeEligibility:
    """EligibilityGateway: active unless a (payer, member) answer says otherwise."""

    answers: dict[tuple[str, str], EligibilityResult] = field(default_factory=dict)
    checked: list[tuple[str, str, date]] = field(default_factory=list)

    def check(self, payer_id: str, member_id: str, date_of_service: date) -> EligibilityResult:
        self.checked.append((payer_id, member_id, date_of_service))
        return self.answers.get((payer_id, member_id), EligibilityResult(active=True, plan="PPO"))

    def verify(self, inquiry: EligibilityInquiry) -> EligibilityResult:
        """As the CORE adapter answers: the result is for the service type asked (EQ01)."""
        result = self.check(inquiry.payer_id, inquiry.member_id, inquiry.date_of_service)
        return replace(result, service_type=result.service_type or inquiry.service_type)


@contextmanager
def racing(store: FakeStore, claim_id: str, rival: Callable[[], None]) -> Iterator[None]:
    """Run `rival` (another writer) once, just before the next write of `claim_id` commits: that
    write then loses the version race, as a concurrent Lambda's would."""
    done = False

    def hook(claim: Claim) -> None:
        nonlocal done
        if claim.claim_id == claim_id and not done:
            done = True
            store.before_write = None
            rival()
            store.before_write = hook

    store.before_write = hook
    try:
        yield
    finally:
        store.before_write = None


if TYPE_CHECKING:  # the fakes implement the ports (mypy testkit/fakes.py checks it)
    from medbill.ports import (
        Artifacts,
        BillingStore,
        EligibilityAnswers,
        EligibilityGateway,
        Executions,
        IntakeQueue,
        PostingQueue,
        ReleaseQueue,
        Workflow,
    )

    _store: BillingStore = FakeStore()
    _artifacts: Artifacts = FakeArtifacts()
    _workflow: Workflow = FakeWorkflow()
    _executions: Executions = FakeWorkflow()
    _posting: PostingQueue = CollectingQueue()
    _release: ReleaseQueue = ReleaseRequests()
    _intake: IntakeQueue = IntakeContinuations()
    _eligibility: EligibilityGateway = FakeEligibility()
    _answers: EligibilityAnswers = FakeStore()


class FakeAccessAudit:
    """medbill.ports.AccessAudit in memory: append-only, newest first, one record per request."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, AccessRecord]] = {}

    def record_access(self, record: AccessRecord) -> None:
        key = f"{record.at}#{record.request_id}#{record.action}"
        self.records.setdefault((record.resource, record.resource_id), {}).setdefault(key, record)

    def access_log(
        self, resource: str, resource_id: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[AccessRecord], str | None]:
        rows = sorted(self.records.get((resource, resource_id), {}).items(), reverse=True)
        start = int(next_token) if next_token else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return [r for _, r in page], str(start + limit) if more else None


__all__ = [  # tests and benchmarks import every fake from here, the store included
    "CollectingQueue",
    "FakeAccessAudit",
    "FakeArtifacts",
    "FakeClinicProfileFiles",
    "FakeEligibility",
    "FakeStore",
    "FakeWorkflow",
    "IntakeContinuations",
    "ReleaseRequests",
    "racing",
]
