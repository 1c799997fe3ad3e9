"""Batch eligibility on the bucket: appointments files -> rejection reports and one 270 each in
`outbox/270/` (which the clearinghouse exchange sends); a 271 fetched into `eligibility/271/` ->
the day's answers and a report. The rules are in workflow.eligibility_batch; this is where files go.

`run_batches` (the scheduled `eligibility_batch` function, evenings: CORE batch rule, 270s by 9 PM
for 271s by 7 AM) takes every appointments file not batched yet. Per file, the batch ledger
(`ExchangeLedger` on `eligibility/batches/`, written once per key) keeps:

    file/<appointments key>   the 270's control number and creation time, reserved first
    manifest/<BHT03>          what the 270 asked, by TRN trace (PHI: the bucket's encryption)
    done/<appointments key>   counts, once the 270 is in the outbox

so a run that dies anywhere is completed by the next with the same bytes under the same key (the
exchange sends each outbox key once). Only upcoming, unverified appointments are asked: a date of
service before the batch day is left to the real-time check at claim time, and one with an answer
already kept for that member + payer + date is not asked again.

The 270's BHT03 (`B` + the control number) names its manifest; the 271 echoes BHT03, so an answer
finds its questions without a lookup table. A 271 whose manifest is absent (not ours, or sent by
another system) is reported, never a crash; a failing read of the ledger propagates (retried).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from medbill.models.eligibility import EligibilityInquiry
from medbill.ports import Artifacts, ClaimStore, EligibilityAnswers, ExchangeLedger, Outbox, Workflow
from medbill.prefixes import ELIGIBILITY_REPORTS_PREFIX, OUTBOX_270_PREFIX, REJECTIONS_PREFIX
from medbill.workflow import eligibility_batch as batch
from medbill.workflow import eligibility_cache
from medbill.workflow.eligibility_retry import resume_answered
from medbill.x12.eligibility.reader271 import parse_271
from medbill.x12.tokenizer import X12SyntaxError

__all__ = [
    "BatchEnvelope",
    "BatchPrepared",
    "BatchRun",
    "ingest_271",
    "prepare_batch",
    "reference_for",
    "run_batches",
]


@dataclass(frozen=True)
class BatchEnvelope:
    """Who we are to the clearinghouse in the 270's ISA/GS (the 837P's identity) and ISA15."""

    sender_id: str
    receiver_id: str
    usage: str = "P"


@dataclass(frozen=True)
class BatchPrepared:
    accepted: int  # rows read without fault
    rejected: int  # rows in the rejection report
    asked: int  # appointments in the 270 (accepted less the skipped)
    skipped_past: int  # date of service before the batch day: real-time at claim time
    skipped_answered: int  # an answer is kept already for that member + payer + date
    outbox_key: str | None  # None: nothing to ask
    reference: str | None  # BHT03 of the 270


def reference_for(control_number: int) -> str:
    return f"B{control_number:09d}"


def _answered(answers: EligibilityAnswers, inquiry: EligibilityInquiry) -> bool:
    dos = inquiry.date_of_service
    key = eligibility_cache.answer_key(inquiry.payer_id, inquiry.member_id, dos)
    return answers.cached_eligibility(key, dos.isoformat()) is not None


def prepare_batch(
    artifacts: Artifacts,
    ledger: ExchangeLedger,
    answers: EligibilityAnswers,
    key: str,
    *,
    control_number: int,
    created: datetime,
    envelope: BatchEnvelope,
) -> BatchPrepared:
    """The appointments file at `key` -> its rejection report, manifest and 270. Deterministic for a
    given (key, control number, created): a re-run writes the same 270 to the same outbox key."""
    read = batch.read_appointments(key, artifacts.read(key))
    artifacts.write_json(f"{REJECTIONS_PREFIX}{key}.json", read.report(key))
    reference = reference_for(control_number)
    manifest_key = f"manifest/{reference}"
    kept = ledger.get(manifest_key)
    past = [i for i in read.inquiries if i.date_of_service < created.date()]
    if kept is not None:  # a re-run: ask exactly what the first run asked
        asking = [i for i in read.inquiries if i.trace_number in kept]
        answered = len(read.inquiries) - len(past) - len(asking)
    else:
        upcoming = [i for i in read.inquiries if i.date_of_service >= created.date()]
        asking = [i for i in upcoming if not _answered(answers, i)]
        answered = len(upcoming) - len(asking)
    counts = (len(read.inquiries), len(read.rejections), len(asking), len(past), answered)
    if not asking:
        return BatchPrepared(*counts, None, None)
    if kept is None and not ledger.put_if_absent(manifest_key, batch.manifest(asking)):
        # Another run recorded it between our read and our write: ask what it asked.
        kept = ledger.get(manifest_key) or {}
        asking = [i for i in read.inquiries if i.trace_number in kept]
    x12 = batch.write_batch_270(
        asking,
        sender_id=envelope.sender_id,
        receiver_id=envelope.receiver_id,
        control_number=control_number,
        created=created,
        usage=envelope.usage,
        reference=reference,
    )
    outbox_key = f"{OUTBOX_270_PREFIX}{reference}-{key.rsplit('/', 1)[-1]}.x12"
    artifacts.write(outbox_key, x12, "application/edi-x12")  # after the manifest: an answer always finds it
    return BatchPrepared(*counts, outbox_key, reference)


@dataclass
class BatchRun:
    """What one scheduled run did (keys and counts only)."""

    files: list[str] = field(default_factory=list)  # appointments keys batched this run
    outbox_keys: list[str] = field(default_factory=list)
    already_batched: int = 0
    asked: int = 0
    rejected: int = 0
    skipped_past: int = 0
    skipped_answered: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_batches(
    artifacts: Artifacts,
    appointments: Outbox,
    ledger: ExchangeLedger,
    answers: EligibilityAnswers,
    next_control_number: Callable[[], int],
    envelope: BatchEnvelope,
    now: datetime,
) -> BatchRun:
    """Every appointments file (`appointments.waiting()`) not batched yet -> its 270 in the outbox.

    A file is batched once by its key (a corrected file goes in under a new name). The control
    number is reserved in the ledger before anything is written, so a retry after a crash reuses it
    (one interchange number never names two different 270s)."""
    run = BatchRun()
    done = ledger.recorded("done/")
    for key in appointments.waiting():
        if f"done/{key}" in done:
            run.already_batched += 1
            continue
        file_key = f"file/{key}"
        reserved = ledger.get(file_key)
        if reserved is None:
            ledger.put_if_absent(file_key, {"control_number": next_control_number(), "created": now.isoformat()})
            reserved = ledger.get(file_key) or {}  # ours, or the winner's when two runs raced
        prepared = prepare_batch(
            artifacts,
            ledger,
            answers,
            key,
            control_number=int(reserved["control_number"]),
            created=datetime.fromisoformat(str(reserved["created"])),
            envelope=envelope,
        )
        ledger.put_if_absent(f"done/{key}", asdict(prepared))
        run.files.append(key)
        if prepared.outbox_key:
            run.outbox_keys.append(prepared.outbox_key)
        run.asked += prepared.asked
        run.rejected += prepared.rejected
        run.skipped_past += prepared.skipped_past
        run.skipped_answered += prepared.skipped_answered
    return run


def ingest_271(
    artifacts: Artifacts,
    ledger: ExchangeLedger,
    answers: EligibilityAnswers,
    key: str,
    received: datetime,
    *,
    claims: ClaimStore | None = None,
    workflow: Workflow | None = None,
) -> dict[str, Any]:
    """Match a fetched 271 to its 270's manifest and keep the answers (for the day received and, for
    an appointment still to come, its date of service). Writes and returns the file's report: counts,
    answers by reason, references whose manifest is absent; never a name, member id or date.
    With `claims` and `workflow`: then resume the claims held because the payer did not answer that
    these answers cover (eligibility_retry.resume_answered), after the answers are kept."""
    text = artifacts.read(key).decode("utf-8", errors="replace")
    name = key.rsplit("/", 1)[-1]
    try:
        responses, _ = parse_271(text)
    except X12SyntaxError as err:  # not a readable interchange: reported, kept where it is, not retried
        unreadable = {"source_key": key, "received_at": received.isoformat(), "file_error": str(err)[:300]}
        artifacts.write_json(f"{ELIGIBILITY_REPORTS_PREFIX}{name}.json", unreadable)
        return unreadable
    asked: dict[str, Any] = {}
    missing: list[str] = []
    for reference in dict.fromkeys(r.reference for r in responses):
        manifest = ledger.get(f"manifest/{reference}") if reference else None
        if manifest is None:
            missing.append(reference[:50])
        else:
            asked.update(manifest)
    summary = batch.match_271(text, asked, answers, received)
    report: dict[str, Any] = {
        "source_key": key,
        "received_at": received.isoformat(),
        "transactions": len(responses),
        **asdict(summary),
        "by_reason": dict(sorted(Counter(summary.reasons).items())),
        "manifests_missing": missing,
        "file_error": None,
    }
    del report["reasons"], report["kept_answers"]
    if claims is not None and workflow is not None:
        report["resumed"] = len(resume_answered(claims, workflow, summary.kept_answers))
    artifacts.write_json(f"{ELIGIBILITY_REPORTS_PREFIX}{name}.json", report)
    return report
