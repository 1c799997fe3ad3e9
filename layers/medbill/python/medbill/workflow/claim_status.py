"""Claim status inquiry (276/277, 005010X212) for claims that went quiet: the selection a scheduled
run makes, the 276 it writes to the outbox the clearinghouse exchange sends, and the 277 answer read
into each claim's acknowledgements and timeline (docs/decisions.md 24).

A claim is due for an inquiry when no 277CA answered it `ack_hours` after it was sent (status
SUBMITTED or AWAITING_REMITTANCE, no 277CA recorded), or when it was accepted and no 835 came
`remittance_days` after (ACCEPTED). Both are per payer (`payer_policies.json`: `status_ack_hours`,
`status_remittance_days`). A claim asked about is not asked again for `ack_hours` (its last 276 is
`Claim.status_inquiry`, its last answer a recorded 277).

`send_status_inquiries` writes one 276 per payer (at most `MAX_CLAIMS_PER_FILE` claims) to
`outbox/276/<payer>-<ISA13>.x12`, with interchange control numbers from the 837P's counter (an ISA13
is never reused), then stamps each claim. A crash between the two asks again next run: a second
inquiry is harmless, the answer is recorded once per file. The 277s come back through the exchange
into `status/277/` and the acks function reads them (`receive_277_file`). Ids and counts only in
what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from medbill.billing.claim_updates import with_lock_retry
from medbill.billing.payer_policy import claim_policy
from medbill.models.claim import Claim, StatusInquiry
from medbill.models.status import ClaimStatus
from medbill.ports import Artifacts, ClaimStore, Workflow
from medbill.prefixes import OUTBOX_276_PREFIX
from medbill.workflow.acknowledgements import AckFileSummary, receive_ack_file
from medbill.x12.segments import X12DataError
from medbill.x12.status276 import Person276, StatusRequest

__all__ = [
    "INQUIRY_STATUSES",
    "MAX_CLAIMS_PER_FILE",
    "InquiryPolicy",
    "InquiryRun",
    "PayerPolicyTimes",
    "PayerTimes",
    "due_for_inquiry",
    "receive_277_file",
    "send_status_inquiries",
    "status_request",
]

_WAITING_FOR_ACK = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.AWAITING_REMITTANCE})
INQUIRY_STATUSES = (ClaimStatus.SUBMITTED, ClaimStatus.AWAITING_REMITTANCE, ClaimStatus.ACCEPTED)
MAX_CLAIMS_PER_FILE = 100  # payers cap a batch 276; small files also keep a bad one from holding many
# (requests, ISA13 = GS06, created) -> the 276 text
Write276 = Callable[[Sequence[StatusRequest], int, datetime], str]


@dataclass(frozen=True)
class PayerTimes:
    ack_hours: int = 48  # no 277CA this long after the send: ask
    remittance_days: int = 30  # accepted, no 835 this long after the send: ask


class TimesSource(Protocol):
    def times(self, claim: Claim) -> PayerTimes: ...


@dataclass(frozen=True)
class InquiryPolicy:
    """Times given in code (tests, a caller's override): per payer id, else the default."""

    default: PayerTimes = PayerTimes()
    payers: Mapping[str, PayerTimes] = field(default_factory=dict)

    def for_payer(self, payer_id: str) -> PayerTimes:
        return self.payers.get(payer_id, self.default)

    def times(self, claim: Claim) -> PayerTimes:
        return self.for_payer(claim.payer_id)


class PayerPolicyTimes:
    """The times from the payer configuration (billing.payer_policy: the payer's entry, else its
    claim filing indicator's, else the default)."""

    def times(self, claim: Claim) -> PayerTimes:
        policy = claim_policy(claim)
        return PayerTimes(ack_hours=policy.status_ack_hours, remittance_days=policy.status_remittance_days)


def _sent_at(claim: Claim) -> datetime | None:
    if claim.filing is None:
        return None
    return claim.filing.sent_at or claim.filing.written_at


def _last_asked(claim: Claim) -> datetime | None:
    times = [a.received_at for a in claim.acknowledgements if a.kind == "277"]
    if claim.status_inquiry is not None:
        times.append(claim.status_inquiry.asked_at)
    return max(times, default=None)


def due_for_inquiry(claims: Iterable[Claim], now: datetime, policy: TimesSource) -> list[str]:
    """The claim ids a 276 should ask about now (ids only: the caller builds the requests)."""
    due = []
    for claim in claims:
        sent = _sent_at(claim)
        if sent is None:
            continue
        times = policy.times(claim)
        kinds = {a.kind for a in claim.acknowledgements}
        last_asked = _last_asked(claim)
        if last_asked is not None and now - last_asked < timedelta(hours=times.ack_hours):
            continue
        if claim.status in _WAITING_FOR_ACK and "277CA" not in kinds:
            if now - sent >= timedelta(hours=times.ack_hours):
                due.append(claim.claim_id)
        elif claim.status == ClaimStatus.ACCEPTED and now - sent >= timedelta(days=times.remittance_days):
            due.append(claim.claim_id)
    return due


def status_request(claim: Claim) -> StatusRequest:
    """The 276 request for one claim, from the claim's encounter: payer, billing provider, the
    subscriber (and the patient when a dependent), the charge and the dates of service."""
    enc = claim.encounter
    bp = enc.billing_provider
    provider_name = bp.organization_name or " ".join(n for n in (bp.last_name, bp.first_name) if n)
    patient = Person276(
        last_name=enc.patient.last_name,
        first_name=enc.patient.first_name,
        date_of_birth=enc.patient.date_of_birth,
        gender=enc.patient.sex,
    )
    subscriber_person = enc.subscriber.person
    if subscriber_person is None:  # the patient is the subscriber
        subscriber = replace(patient, member_id=enc.coverage.member_id)
        dependent = None
    else:
        subscriber = Person276(
            last_name=subscriber_person.last_name,
            first_name=subscriber_person.first_name,
            member_id=enc.coverage.member_id,
            date_of_birth=subscriber_person.date_of_birth,
            gender=subscriber_person.sex,
        )
        dependent = patient
    if claim.total_charge is None:
        raise X12DataError(f"claim {claim.claim_id} has no total charge (not charged yet)")
    return StatusRequest(
        claim_id=claim.claim_id,
        payer_id=enc.coverage.payer_id,
        payer_name=enc.coverage.payer_name,
        provider_name=provider_name,
        provider_npi=bp.npi,
        subscriber=subscriber,
        total_charge=claim.total_charge,
        service_from=enc.date_of_service,
        patient=dependent,
        payer_claim_number=claim.payer_claim_number,
    )


@dataclass
class InquiryRun:
    """What one scheduled run did (ids, keys and counts only)."""

    checked: int = 0
    due: int = 0
    files: list[str] = field(default_factory=list)  # outbox/276/ keys written
    asked: list[str] = field(default_factory=list)  # claim ids stamped with their inquiry
    problems: list[str] = field(default_factory=list)  # claim id: why no request (never a value)

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "due": self.due,
            "files": list(self.files),
            "asked": len(self.asked),
            "problems": list(self.problems),
        }


def _waiting_claims(repo: ClaimStore) -> Iterator[Claim]:
    for status in INQUIRY_STATUSES:  # the by-status index, never a scan
        token: str | None = None
        while True:
            page = repo.list_claims(status=status.value, limit=100, next_token=token)
            yield from page.items
            token = page.next_token
            if not token:
                break


def _stamp(repo: ClaimStore, claim_id: str, key: str, now: datetime) -> bool:
    def step(claim: Claim) -> bool:
        if claim.status not in INQUIRY_STATUSES:
            return False  # answered meanwhile (posted, rejected): the 277 will only be recorded
        inquiry = StatusInquiry(key=key, asked_at=now)
        repo.save(
            claim.model_copy(update={"status_inquiry": inquiry}),
            actor="status_inquiry",
            detail={"status_inquiry": key},
        )
        return True

    return with_lock_retry(repo, claim_id, step)


def send_status_inquiries(
    repo: ClaimStore,
    store: Artifacts,
    write: Write276,
    now: datetime,
    policy: TimesSource | None = None,
) -> InquiryRun:
    """Ask about every quiet claim: one 276 per payer into `outbox/276/`, each claim stamped."""
    run = InquiryRun()
    claims = list(_waiting_claims(repo))
    run.checked = len(claims)
    by_id = {c.claim_id: c for c in claims}
    due = due_for_inquiry(claims, now, policy or PayerPolicyTimes())
    run.due = len(due)
    by_payer: dict[str, list[StatusRequest]] = {}
    for claim_id in due:
        try:
            request = status_request(by_id[claim_id])
            write([request], 1, now)  # the writer's checks, per claim: one bad claim does not stop a file
        except X12DataError as err:  # names the request and element, never the value
            run.problems.append(f"{claim_id}: {err}")
            continue
        by_payer.setdefault(request.payer_id, []).append(request)
    for payer_id, requests in sorted(by_payer.items()):
        for start in range(0, len(requests), MAX_CLAIMS_PER_FILE):
            chunk = requests[start : start + MAX_CLAIMS_PER_FILE]
            number = repo.next_counter("x12-interchange")
            text = write(chunk, number, now)
            key = f"{OUTBOX_276_PREFIX}{payer_id}-{number:09d}.x12"
            store.write(key, text, "application/edi-x12")
            run.files.append(key)
            run.asked += [r.claim_id for r in chunk if _stamp(repo, r.claim_id, key, now)]
    return run


def receive_277_file(
    repo: ClaimStore, store: Artifacts, workflow: Workflow, key: str, *, received_at: datetime
) -> AckFileSummary:
    """Each claim status in the 277 at `key` (under status/277/) recorded on its claim (kind "277":
    file, time, codes and their meaning); see acknowledgements._from_277 for what moves a claim."""
    return receive_ack_file(repo, store, workflow, key, received_at=received_at)
