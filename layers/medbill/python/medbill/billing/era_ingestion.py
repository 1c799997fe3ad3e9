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

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from medbill.billing.era_limits import (
    HEADER_PROBLEMS,
    MESSAGE_BYTES,
    RESULT_PROBLEMS,
    clip,
    clip_problems,
    header_problems,
    header_values,
    message_too_big,
)
from medbill.billing.era_messages import describe, era_ids_for, file_id_for, posting_problems, to_remittance
from medbill.billing.era_records import NOT_POSTED, POSTING, QUARANTINED, RELEASED
from medbill.models.common import utcnow
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.ports import Artifacts, BillingStore, EraResult, EraStore, PostingQueue
from medbill.prefixes import ERA_REPORTS_PREFIX
from medbill.x12.remittance835 import ClaimPayment, Payment, ProviderAdjustment, RemittanceReader
from medbill.x12.tokenizer import X12SyntaxError

SEND_EVERY = 100  # posting messages buffered before a send (memory stays flat on huge files)
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


def _header(payment: Payment, file_id: str, key: str, status: str, problems: list[str]) -> dict:
    values = header_values(payment)  # each cut to its X12 maximum (a longer one is a problem)
    return {
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
) -> EraFileSummary:
    """`released`: a person released this file (`released_file_id` is the file they looked at)."""
    summary = EraFileSummary(source_key=key, report_key=f"{ERA_REPORTS_PREFIX}{key}.json")
    body = store.read(key)
    summary.file_id = file_id_for(body)
    report: dict[str, Any] = {"source_key": key, "file_id": summary.file_id, "processed_at": utcnow().isoformat()}
    if released and released_file_id and released_file_id != summary.file_id:
        return _released_file_changed(repo, store, summary, report, released_file_id)
    checked, file_problems, unpostable = _read_whole_file(body, summary)
    if summary.file_error:
        summary.quarantined = True
        report.update(file_error=summary.file_error, status=QUARANTINED)
        _record_unreadable(repo, summary)
        if summary.duplicate_of:
            report["duplicate_of"] = summary.duplicate_of
        store.write_json(summary.report_key, report)
        return summary

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

    # The messages the check built: the file is not read a second time.
    for payment, p, payment_key in zip(checked, placed, payment_keys, strict=True):
        if not p.post:
            continue
        summary.claims_queued += _fan_out(repo, queue, payment, era_id=p.era_id, payment_key=payment_key)
        summary.provider_adjustments += _record_provider_adjustments(
            repo, p.era_id, payment_key, payment.payment.provider_adjustments, payment.by_pcn
        )
    report.update(status=RELEASED if released else POSTING, claims_queued=summary.claims_queued)
    store.write_json(summary.report_key, report)
    return summary


def _read_whole_file(body: bytes, summary: EraFileSummary) -> tuple[list[_CheckedPayment], list[str], list[str]]:
    """The file checked whole (`_check_whole_file`); `summary.file_error` says why it cannot be read."""
    checked: list[_CheckedPayment] = []
    file_problems: list[str] = []
    unpostable: list[str] = []
    try:
        text = body.decode("utf-8-sig")
        checked, file_problems, unpostable = _check_whole_file(text, summary.file_id, summary.source_key)
    except UnicodeDecodeError:
        summary.file_error = "the file is not UTF-8 text, so it cannot be an X12 835"
    except X12SyntaxError as err:
        summary.file_error = f"not a readable X12 835: {err}"
    except Exception as err:
        # Whatever stops the reader, the file is unreadable (no retry can help). The type only: the
        # exception's message may quote the file's content.
        summary.file_error = f"not a readable X12 835: the reader stopped ({type(err).__name__})"
    if summary.file_error is None and not checked:
        summary.file_error = "the file holds no 835 transaction (no ST*835)"
    return checked, file_problems, unpostable


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
    report["problems"] = clip_problems(problems)  # every one, each cut (an element may be megabytes)
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
        for payment, (era_id, header) in zip(payments, found, strict=True):
            record = _header(payment, file_id, key, status, problems)
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
    only if it is still RELEASED for that file. False otherwise."""
    header = repo.get_era(era_id)
    if header is None:
        return False
    problems = list(header.get("problems") or [])
    if problem not in problems:
        problems.append(problem)
    return repo.requarantine_era(era_id, file_id, problems)


@dataclass
class _NotPostable:
    """A claim payment that cannot become a posting message, and why (ids, codes, amounts)."""

    claim: ClaimPayment
    problems: list[str]
    hide_clp01: bool = False  # the CLP01 itself is what fails: not shown


@dataclass
class _CheckedPayment:
    """One payment as the check read it: its header (claims are not kept), each claim payment's
    posting message (compact JSON, ids filled in at the fan-out) or why it has none, in file order,
    and the CLP01s by CLP07 (a PLB reference may name a claim by its payer claim number)."""

    payment: Payment
    messages: list[bytes | _NotPostable] = field(default_factory=list)
    by_pcn: dict[str, set[str]] = field(default_factory=dict)


def _check_whole_file(text: str, file_id: str, key: str) -> tuple[list[_CheckedPayment], list[str], list[str]]:
    """Stream the whole file once: the payments with their posting messages, the envelope problems
    and the claim payments that could not become posting messages."""
    reader = RemittanceReader(text)
    checked = []
    unpostable: list[str] = []
    header: list[str] = []
    for payment in reader.payments():
        out = _CheckedPayment(payment)
        seen: dict[tuple[str, str, str], int] = {}
        for claim in payment.iter_claims():
            out.by_pcn.setdefault(claim.payer_claim_control_number, set()).add(claim.claim_id)
            combo = (claim.claim_id, claim.status_code, claim.payer_claim_control_number)
            seen[combo] = seen.get(combo, 0) + 1
            message = _message(claim, payment, file_id, key, seen[combo])
            if isinstance(message, _NotPostable):
                unpostable += message.problems
            out.messages.append(message)
        checked.append(out)
        header += header_problems(payment)
    return checked, list(reader.problems) + header, unpostable


def _message(claim: ClaimPayment, payment: Payment, file_id: str, key: str, occurrence: int) -> bytes | _NotPostable:
    """The posting message, its ERA ids left for the fan-out (known once the records are placed)."""
    if claim.unreadable_amounts:
        return _NotPostable(claim, posting_problems(claim, payment))  # its money is unknown: never posted
    try:
        remit = to_remittance(claim, payment, era_id=_LATER, file_id=file_id, key=key, occurrence=occurrence)
    except ValidationError as err:
        bad_clp01 = any(e["loc"][:1] == ("claim_id",) for e in err.errors(include_url=False))
        return _NotPostable(claim, describe(err, claim), hide_clp01=bad_clp01)
    message = remit.model_dump_json().encode()
    if len(message) > MESSAGE_BYTES:
        # Over the SQS message limit, and its ledger entry near DynamoDB's item limit.
        return _NotPostable(claim, [message_too_big(len(message), claim.position)])
    return message


_LATER = "-"  # the ERA id of a message the check built; the fan-out sets the real one


def _fan_out(repo: EraStore, queue: PostingQueue, checked: _CheckedPayment, *, era_id: str, payment_key: str) -> int:
    """Queue one posting message per claim payment (in batches, so memory stays flat)."""
    # As to_remittance's validation would have set them (our models strip whitespace).
    ids = {"era_id": era_id.strip(), "payment_key": (payment_key or era_id).strip()}
    queued = 0
    batch: list[ClaimRemittance] = []
    for message in checked.messages:
        if isinstance(message, _NotPostable):
            # Only a released file gets here (the check quarantines it otherwise): this claim payment
            # cannot be posted. Its result says why; the file's other claims post.
            _record_not_posted(repo, era_id, message.claim, message.problems, hide_clp01=message.hide_clp01)
            continue
        batch.append(ClaimRemittance.model_validate_json(message).model_copy(update=ids))
        if len(batch) >= SEND_EVERY:
            queued += _send(repo, queue, era_id, batch)
            batch = []
    queued += _send(repo, queue, era_id, batch)
    return queued


def _send(repo: EraStore, queue: PostingQueue, era_id: str, batch: list[ClaimRemittance]) -> int:
    if not batch:
        return 0
    # Noted before the send: a message that never yields a result (it ended in the DLQ) shows as pending.
    repo.record_era_sent(era_id, [(r.position, r.claim_id) for r in batch])
    return queue.send(batch)


def _record_not_posted(
    repo: EraStore, era_id: str, claim: ClaimPayment, problems: list[str], *, hide_clp01: bool = False
) -> None:
    result = {
        "claim_id": "",
        "clp01": "" if hide_clp01 else claim.claim_id[:38],
        "result": NOT_POSTED,
        "outcome": None,
        "status_code": claim.status_code,
        # An amount the reader could not read is 0.00 here; the problems say which claim payment it is.
        "charge": f"{claim.charge:.2f}",
        "paid": f"{claim.paid:.2f}",
        "payer_claim_number": claim.payer_claim_control_number[:50],
        "problems": clip_problems(problems, RESULT_PROBLEMS, more="see the ERA's file report"),
        "recorded_at": utcnow().isoformat(),
    }
    repo.record_era_result(EraResult(era_id, claim.position, result))


def _record_unreadable(repo: EraStore, summary: EraFileSummary) -> None:
    era_id = f"FILE-{summary.file_id}"
    summary.era_ids.append(era_id)
    now = utcnow().isoformat()
    record = {
        "file_id": summary.file_id,
        "source_key": summary.source_key,
        "era_status": QUARANTINED,
        "problems": [clip(summary.file_error or "")],
        "unreadable": True,
        "total_paid": "0.00",
        "claim_count": 0,
        "plb_total": "0.00",
        "received_at": now,
        "updated_at": now,
    }
    if not repo.create_era(era_id, record):
        header = repo.get_era(era_id) or {}
        first_key = str(header.get("source_key") or "")
        if first_key and first_key != summary.source_key:
            repo.add_era_duplicate(era_id, summary.source_key)
            summary.duplicate_of = first_key


def _reference_candidates(reference: str) -> list[str]:
    """A PLB reference often carries a claim number, sometimes followed by other text: the whole
    reference and its first token."""
    whole = reference.strip()
    first = whole.split(" ")[0].split(":")[0]
    return [c for c in dict.fromkeys((whole, first)) if c]


def _claim_named_by(repo: BillingStore, reference: str, by_pcn: dict[str, set[str]]) -> tuple[str | None, str | None]:
    """The claim a PLB reference names, and how: our claim id (CLP01), else the payer claim number
    (CLP07) of exactly one claim in the same payment (WO/FB recoveries name the payer's number)."""
    candidates = _reference_candidates(reference)
    for candidate in candidates:
        if repo.claim_exists(candidate):
            return candidate, "CLP01"
    for candidate in candidates:
        named = by_pcn.get(candidate, set())
        if len(named) == 1:
            (claim_id,) = named
            if repo.claim_exists(claim_id):
                return claim_id, "CLP07"
    return None, None


def _record_provider_adjustments(
    repo: BillingStore,
    era_id: str,
    payment_key: str,
    adjustments: list[ProviderAdjustment],
    by_pcn: dict[str, set[str]],
) -> int:
    seen: dict[tuple[str, str], int] = {}
    for n, plb in enumerate(adjustments, start=1):
        # On the claim's ledger a PLB is named by its payment and content, like a claim payment: a
        # re-sent payment released under its own ERA record (`~<file id>`) does not add it twice.
        seen[(plb.reason, plb.reference)] = occurrence = seen.get((plb.reason, plb.reference), 0) + 1
        claim_id, linked_by = _claim_named_by(repo, plb.reference, by_pcn) if plb.reference else (None, None)
        repo.record_provider_adjustment(
            era_id,
            n,
            {
                "reason": plb.reason,
                "reference": plb.reference,
                "amount": f"{plb.amount:.2f}",
                "provider_id": plb.provider_id,
                "fiscal_period_date": plb.fiscal_period_date,
                "claim_id": claim_id,
                "linked_by": linked_by,
            },
        )
        if claim_id:
            entry = LedgerEntry(
                source=f"{payment_key}#PLB#{plb.reason}#{plb.reference}#{occurrence}",
                kind="provider_adjustment",
                era_id=era_id,
                posted_at=utcnow().isoformat(),
                paid=-plb.amount,  # a positive PLB amount is taken from the payment
                plb_reason=plb.reason,
                plb_reference=plb.reference,
            )
            repo.post_provider_adjustment(claim_id, entry)
    return len(adjustments)
