"""An ERA (X12 835) file: check it whole, then fan its claim payments out for posting.

1. Read the file once, streaming, and check it as a whole: envelopes, every claim and line
   balanced, every payment's BPR02 = claims paid - provider adjustments, and every claim payment
   can become a posting message. An unreadable file or any problem quarantines the file: nothing
   from it is posted until a person releases it.
2. Otherwise (or once released) send one posting message per claim payment to the posting queue
   (batches of 10), so a 50,000-claim ERA posts in parallel. Provider-level adjustments (PLB) are
   recorded here, on the ERA and, where their reference names one of our claims (its CLP01, or the
   CLP07 of a claim in the same payment), on that claim's ledger.
Each payment (BPR/TRN) gets an ERA record, created once by a conditional write: the same file
delivered again, under any key, never changes it (the record notes the other keys); a different
file for the same payment gets its own record. Its reconciliation is computed from the per-claim
results the posting Lambdas write (see `era_queries.reconciliation`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from medbill.billing.era_check import CheckedPayment, check_whole_file
from medbill.billing.era_fanout import (
    Budget,
    ChunkStore,
    FanOut,
    OutOfTime,
    StagingError,
    never,
    resume_file,
)
from medbill.billing.era_limits import (
    HEADER_PROBLEMS,
    MAX_ERA_BYTES,
    REPORT_PROBLEMS,
    clip,
    clip_problems,
    header_values,
    too_big,
)
from medbill.billing.era_messages import (
    era_ids_for,
    file_id_for,
    file_id_for_head,
)
from medbill.billing.era_records import ENCODINGS, POSTING, QUARANTINED, RELEASED
from medbill.models.common import utcnow
from medbill.ports import Artifacts, BillingStore, EraStore, PostingQueue
from medbill.prefixes import ERA_REPORTS_PREFIX
from medbill.x12.remittance835 import Payment
from medbill.x12.tokenizer import X12SyntaxError

CREATE_ATTEMPTS = 5


class EraRecordConflict(Exception):
    """Other deliveries kept creating this file's ERA records first; SQS retries the file."""


@dataclass
class EraFileSummary:
    source_key: str
    report_key: str
    file_id: str = ""
    file_error: str | None = None
    quarantined: bool = False
    payments: int = 0
    claims_queued: int = 0
    provider_adjustments: int = 0
    duplicate_of: str | None = None  # the key this very file was first received under
    era_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    continues: bool = False  # out of time mid-fan-out: a `continue_era` message finishes it
    encoding_unknown: bool = False  # not UTF-8: a person may release it with the encoding they confirm


def _fanout_fields(chunks: ChunkStore, checked: CheckedPayment, payment_key: str) -> dict[str, Any]:
    """What a resumed fan-out needs on the record: only a file big enough to be staged has it."""
    if not chunks.staged:
        return {}
    return {
        "payment_index": checked.index,
        "payment_key": payment_key,
        "fanout_chunks": chunks.count(checked.index),
        "fanout_done": 0,
    }


def _header(payment: Payment, file_id: str, key: str, status: str, problems: list[str], extra: dict) -> dict:
    values = header_values(payment)  # each cut to its X12 maximum (a longer one is a problem)
    return {
        **extra,
        "file_id": file_id,
        "source_key": key,
        **values,
        "payee_npi": values["payee_npi"] or None,
        "total_paid": f"{payment.signed_total:.2f}",
        "claim_count": payment.claim_count,
        "plb_total": f"{payment.provider_adjustment_total:.2f}",
        "era_status": status,
        "problems": clip_problems(problems, HEADER_PROBLEMS),
        "received_at": utcnow().isoformat(),
        "updated_at": utcnow().isoformat(),
    }


@dataclass
class _Placed:
    """One payment of the file and its ERA record."""

    era_id: str
    status: str
    post: bool  # fan this payment's claims out now
    first_key: str | None = None  # set when an earlier delivery of this very file made the record


def receive_era_file(
    repo: BillingStore,
    store: Artifacts,
    queue: PostingQueue,
    key: str,
    *,
    released: bool = False,
    released_file_id: str | None = None,
    out_of_time: OutOfTime = never,
    encoding: str | None = None,
    size: int | None = None,
) -> EraFileSummary:
    """`released`: a person released this file (`released_file_id` is the file they looked at).
    `out_of_time`: asked before each chunk of a big file's fan-out; when it says so, the summary
    `continues` and `continue_era_file` resumes from the checkpoint on the ERA record.
    `encoding`: the file is not UTF-8 and a person confirmed what it is (`era_queries.release_era`).
    `size`: the object's bytes from the S3 notification (else a HEAD): a file over `MAX_ERA_BYTES`
    is quarantined unread, since one invocation must check it whole (decision 39)."""
    summary = EraFileSummary(source_key=key, report_key=f"{ERA_REPORTS_PREFIX}{key}.json")
    size = store.stat(key).size if size is None else size
    if size > MAX_ERA_BYTES:
        summary.file_id = file_id_for_head(next(iter(store.open(key)), b""), size)
        summary.file_error = too_big(size, MAX_ERA_BYTES)
        head: dict[str, Any] = {"source_key": key, "file_id": summary.file_id, "processed_at": utcnow().isoformat()}
        return _quarantine_unreadable(repo, store, summary, head, encoding)
    body = store.read(key)
    summary.file_id = file_id_for(body)
    report: dict[str, Any] = {"source_key": key, "file_id": summary.file_id, "processed_at": utcnow().isoformat()}
    if released_file_id and released_file_id != summary.file_id:
        return _released_file_changed(repo, store, summary, report, released_file_id)
    chunks = ChunkStore(store, summary.file_id)
    text = _decoded(body, summary, encoding)
    del body  # a big file is held once (as text) while it is checked, not twice
    checked, file_problems, unpostable = _read_whole_file(text, summary, chunks) if text is not None else ([], [], [])
    del text  # the posting lines are in `chunks`: the fan-out never needs the file again
    if summary.file_error:
        return _quarantine_unreadable(repo, store, summary, report, encoding)

    payments = [c.payment for c in checked]
    payment_keys, repeats = era_ids_for(payments)
    placed, problems = _place_records(
        repo,
        payments,
        payment_keys,
        summary,
        before=file_problems + repeats,
        after=[p for payment in payments for p in payment.problems] + unpostable,
        released=released,
        extra=[
            {**_fanout_fields(chunks, c, k), **({"encoding": encoding} if encoding else {})}
            for c, k in zip(checked, payment_keys, strict=True)
        ],
    )
    _summarize(summary, report, payments, placed, problems)
    if not any(p.post for p in placed):
        if summary.quarantined:
            report["status"] = QUARANTINED
            report["release"] = "POST /eras/{era_id}/release posts this file once a person has checked it"
        else:
            # Received before and released (or waiting for its release): nothing is posted from this delivery.
            report["status"] = "DUPLICATE" if summary.duplicate_of else placed[0].status
        store.write_json(summary.report_key, report)
        return summary

    # The messages the check built (in memory, or in S3 for a big file): the file is not read again.
    budget = Budget(out_of_time)
    for payment, p, payment_key in zip(checked, placed, payment_keys, strict=True):
        if not p.post:
            continue
        fan = FanOut(
            repo,
            queue,
            chunks,
            payment=payment.index,
            era_id=p.era_id,
            payment_key=payment_key,
            plbs=payment.payment.provider_adjustments,
        )
        finished = fan.run(_checkpoint(repo, p.era_id) if chunks.staged else 0, budget)
        summary.claims_queued += fan.queued
        summary.provider_adjustments += fan.provider_adjustments
        if not finished:
            summary.continues = True
            break
    report.update(
        status=RELEASED if released else POSTING, claims_queued=summary.claims_queued, continues=summary.continues
    )
    store.write_json(summary.report_key, report)
    return summary


def _quarantine_unreadable(
    repo: EraStore, store: Artifacts, summary: EraFileSummary, report: dict[str, Any], encoding: str | None
) -> EraFileSummary:
    """A file that cannot be checked (unreadable, not in its encoding, over the size limit): its
    `FILE-` record quarantined with the reason, and its report."""
    summary.quarantined = True
    report.update(file_error=summary.file_error, status=QUARANTINED)
    _record_unreadable(repo, summary, encoding)
    if summary.duplicate_of:
        report["duplicate_of"] = summary.duplicate_of
    store.write_json(summary.report_key, report)
    return summary


def _checkpoint(repo: EraStore, era_id: str) -> int:
    """Steps of this record's fan-out already done (by an earlier delivery of the same file)."""
    header = repo.get_era(era_id) or {}
    return int(header.get("fanout_done", 0))


def continue_era_file(
    repo: BillingStore, store: Artifacts, queue: PostingQueue, key: str, file_id: str, *, out_of_time: OutOfTime
) -> EraFileSummary:
    """Resume a big file's fan-out (a `continue_era` message) from the checkpoints on its ERA records.
    Done again after a redelivery it finds the checkpoints further on, or nothing left to do."""
    summary = EraFileSummary(source_key=key, report_key=f"{ERA_REPORTS_PREFIX}{key}.json", file_id=file_id)
    queued, plbs, era_ids, finished = resume_file(repo, store, queue, file_id, out_of_time)
    summary.claims_queued, summary.provider_adjustments, summary.era_ids = queued, plbs, era_ids
    summary.continues = not finished
    try:
        report = json.loads(store.read(summary.report_key))
    except Exception:  # the first delivery's report is missing or unreadable: start a fresh one
        report = {"source_key": key, "file_id": file_id}
    if report.get("file_id") == file_id and era_ids:
        report.update(
            claims_queued=int(report.get("claims_queued", 0)) + queued,
            continues=summary.continues,
            continued_at=utcnow().isoformat(),
        )
        store.write_json(summary.report_key, report)
    return summary


def _decoded(body: bytes, summary: EraFileSummary, encoding: str | None) -> str | None:
    """The file as text (UTF-8 unless a person confirmed another encoding); None, with
    `summary.file_error` saying where, when it is not text in that encoding."""
    try:
        return body.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as err:
        summary.file_error = _not_decodable(body, err, encoding)
        summary.encoding_unknown = encoding is None
        return None


def _read_whole_file(
    text: str, summary: EraFileSummary, chunks: ChunkStore
) -> tuple[list[CheckedPayment], list[str], list[str]]:
    """The file checked whole (`check_whole_file`); `summary.file_error` says why it cannot be read."""
    try:
        checked, file_problems, unpostable = check_whole_file(text, summary.file_id, summary.source_key, chunks)
    except StagingError:
        raise  # S3 failed, not the file: SQS retries it
    except X12SyntaxError as err:
        summary.file_error = f"not a readable X12 835: {err}"
        return [], [], []
    except Exception as err:
        # Whatever stops the reader, the file is unreadable (no retry can help). The type only: the
        # exception's message may quote the file's content.
        summary.file_error = f"not a readable X12 835: the reader stopped ({type(err).__name__})"
        return [], [], []
    if not checked:
        summary.file_error = "the file holds no 835 transaction (no ST*835)"
    return checked, file_problems, unpostable


def _not_decodable(body: bytes, err: UnicodeDecodeError, encoding: str | None) -> str:
    """Where the file stops being text in `encoding` (UTF-8 by default): a byte offset and the segment
    it falls in, never the bytes (they may be part of a name)."""
    at = err.start
    terminator = body[105:106] if body[:3] == b"ISA" and len(body) > 105 else b"~"
    segment = body.count(terminator, 0, at) + 1
    if encoding:
        return f"the file is not {encoding} text either (byte offset {at}, segment {segment})"
    return (
        f"the file is not UTF-8 text (the first byte that is not is at offset {at}, in segment {segment}); "
        f"if it is {' or '.join(ENCODINGS)}, a person can release it with that encoding"
    )


def _summarize(
    summary: EraFileSummary, report: dict[str, Any], payments: list[Payment], placed: list[_Placed], problems: list[str]
) -> None:
    summary.problems = problems
    summary.payments = len(payments)
    summary.era_ids = [p.era_id for p in placed]
    summary.quarantined = any(p.status == QUARANTINED for p in placed)
    key = summary.source_key
    summary.duplicate_of = next((p.first_key for p in placed if p.first_key and p.first_key != key), None)
    report["payments"] = [
        {
            "era_id": p.era_id,
            "era_status": p.status,
            "total_paid": f"{payment.signed_total:.2f}",
            "claims": payment.claim_count,
            "balanced": payment.balanced,
        }
        for payment, p in zip(payments, placed, strict=True)
    ]
    # Each cut (an element may be megabytes), and at most REPORT_PROBLEMS: a million unbalanced claims
    # would make a report no person reads; the count says how many there were.
    report["problems"] = clip_problems(problems, REPORT_PROBLEMS, more="fix the first ones and re-check")
    report["problem_count"] = len(problems)
    if summary.duplicate_of:
        report["duplicate_of"] = summary.duplicate_of


def _place_records(
    repo: EraStore,
    payments: list[Payment],
    payment_keys: list[str],
    summary: EraFileSummary,
    *,
    before: list[str],
    after: list[str],
    released: bool,
    extra: list[dict[str, Any]],
) -> tuple[list[_Placed], list[str]]:
    """Find or create each payment's ERA record; the file's problems (with any conflicts found).

    A record is created only if absent (conditional write), so two different files for the same
    payer + trace arriving together cannot both take the plain id: the one that finds it taken
    looks again and is handled like a changed re-send (`<payment>~<file id>`, quarantined)."""
    file_id, key = summary.file_id, summary.source_key
    mine: set[str] = set()  # records this delivery created (it may rewrite them after a lost race)
    for _ in range(CREATE_ATTEMPTS):
        found: list[tuple[str, dict[str, Any] | None]] = []
        conflicts: list[str] = []
        for payment_key in payment_keys:
            era_id, header = payment_key, repo.get_era(payment_key)
            if header is not None and header.get("file_id") != file_id:
                # The same payer + trace in different content: a corrected or forged file. A person decides;
                # it gets its own record so the first file's reconciliation stays as it was.
                era_id = f"{payment_key}~{file_id}"
                conflicts.append(
                    f"payment {payment_key} was already received in another file ({header.get('source_key')}); "
                    f"this file's copy is {era_id}"
                )
                header = repo.get_era(era_id)
            found.append((era_id, header))
        problems = before + conflicts + after
        status = QUARANTINED if problems and not released else POSTING
        placed: list[_Placed] = []
        for payment, (era_id, header), fields in zip(payments, found, extra, strict=True):
            record = _header(payment, file_id, key, status, problems, fields)
            if header is None:
                if not repo.create_era(era_id, record):
                    break  # another delivery made it a moment ago: look again
                mine.add(era_id)
                placed.append(_Placed(era_id, status, post=status == POSTING))
            elif era_id in mine:
                # Made by this delivery before a later payment lost a race: the file's problems changed.
                repo.rewrite_era(era_id, {**record, "received_at": header["received_at"]})
                placed.append(_Placed(era_id, status, post=status == POSTING))
            else:
                placed.append(_received_before(repo, era_id, header, key, released, bool(problems)))
        else:
            return placed, problems
    raise EraRecordConflict(f"ERA records of {key} kept changing under this delivery")


def _received_before(
    repo: EraStore, era_id: str, header: dict[str, Any], key: str, released: bool, has_problems: bool
) -> _Placed:
    """This very file (same content) made the record before: its status stays as it is."""
    if released:
        # A person released the file: post it (again, for a redelivered release: posting is idempotent).
        repo.update_era_status(era_id, POSTING)
        return _Placed(era_id, POSTING, post=True)
    first_key = str(header.get("source_key") or "")
    if first_key != key:
        repo.add_era_duplicate(era_id, key)
    status = str(header.get("era_status") or POSTING)
    # A clean file that is posting is fanned out again (posting is idempotent) so a fan-out a crash cut
    # short completes; a file a person has yet to release, or released, is not posted from a copy.
    return _Placed(era_id, status, post=status == POSTING and not has_problems, first_key=first_key)


def _released_file_changed(
    repo: EraStore, store: Artifacts, summary: EraFileSummary, report: dict[str, Any], released_id: str
) -> EraFileSummary:
    """The object under this key changed after the person looked at it: they did not release this.
    Their ERA records go back to QUARANTINED and say why (the new content arrives as its own file)."""
    problem = clip(f"the file at {summary.source_key} changed after it was released; release the new file separately")
    summary.quarantined = True
    summary.problems = [problem]
    summary.era_ids = [e for e in repo.era_ids_for_file(released_id) if _requarantine(repo, e, released_id, problem)]
    report.update(status=QUARANTINED, problems=summary.problems, era_ids=summary.era_ids)
    store.write_json(summary.report_key, report)
    return summary


def _requarantine(repo: EraStore, era_id: str, file_id: str, problem: str) -> bool:
    """A released ERA whose file changed before it was posted: back to QUARANTINED with `problem`,
    only if it is still RELEASED for that file. False otherwise (a record that is gone, too)."""
    header = repo.get_era(era_id) or {}
    problems = list(header.get("problems") or [])
    if problem not in problems:
        problems.append(problem)
    return repo.requarantine_era(era_id, file_id, problems)


def _record_unreadable(repo: EraStore, summary: EraFileSummary, encoding: str | None = None) -> None:
    era_id = f"FILE-{summary.file_id}"
    summary.era_ids.append(era_id)
    now = utcnow().isoformat()
    record = {
        "file_id": summary.file_id,
        "source_key": summary.source_key,
        "era_status": QUARANTINED,
        "problems": [clip(summary.file_error or "")],
        "unreadable": True,
        **({"encoding_unknown": True} if summary.encoding_unknown else {}),
        "total_paid": "0.00",
        "claim_count": 0,
        "plb_total": "0.00",
        "received_at": now,
        "updated_at": now,
    }
    if not repo.create_era(era_id, record):
        header = repo.get_era(era_id) or {}
        if encoding:
            # Released with an encoding the file is not in either: back to the person, saying so.
            problems = [*list(header.get("problems") or [])[:5], clip(summary.file_error or "")]
            repo.requarantine_era(era_id, summary.file_id, problems)
        first_key = str(header.get("source_key") or "")
        if first_key and first_key != summary.source_key:
            repo.add_era_duplicate(era_id, summary.source_key)
            summary.duplicate_of = first_key
