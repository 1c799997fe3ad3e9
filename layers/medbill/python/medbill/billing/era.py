"""An ERA (X12 835) file in S3: check it whole, then fan its claim payments out for posting.

1. Read the file once, streaming, and check it as a whole: envelopes, every claim and line
   balanced, every payment's BPR02 = claims paid - provider adjustments. An unreadable file or
   any problem quarantines the file: nothing from it is posted until a person releases it.
2. Otherwise (or once released) read it again, streaming, and send one posting message per
   claim payment to the posting queue (batches of 10), so a 50,000-claim ERA posts in parallel.
   Provider-level adjustments (PLB) are recorded here, on the ERA and, where their reference
   names one of our claims, on that claim's ledger.
Each payment (BPR/TRN) gets an ERA record; its reconciliation is computed from the per-claim
results the posting Lambdas write (see `reconciliation`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from medbill.gateways.queues import PostingQueue, ReleaseQueue
from medbill.models.remittance import ClaimRemittance, LedgerEntry, RemitAdjustment, RemitLine
from medbill.prefixes import ERA_REPORTS_PREFIX
from medbill.store.artifacts import ArtifactStore
from medbill.store.repository import ClaimRepository, claim_pk, utcnow
from medbill.x12.remittance835 import ClaimPayment, Payment, ProviderAdjustment, RemittanceReader
from medbill.x12.tokenizer import X12SyntaxError

ZERO = Decimal("0.00")
QUARANTINED = "QUARANTINED"
RELEASED = "RELEASED"
POSTING = "POSTING"
SEND_EVERY = 100  # posting messages buffered before a send (memory stays flat on huge files)


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
    era_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def era_id_for(payment: Payment) -> str:
    """Payer + TRN02 names one payment: a payer never reuses a check or EFT trace number."""
    payer = payment.payer_identifier or payment.payer.reference("2U") or payment.payer.id or "UNKNOWN"
    return f"{payer}-{payment.trace_number or payment.control_number}"


def era_ids_for(payments: list[Payment]) -> tuple[list[str], list[str]]:
    """One ERA id per payment of a file, and a problem for each repeat. A payer + trace number
    repeated inside one file (a de-identified sample, a payer bug) would merge several payments into
    one ERA record and its reconciliation: each repeat is kept apart under its ST02 instead."""
    ids: list[str] = []
    problems: list[str] = []
    for n, payment in enumerate(payments, start=1):
        base = era_id_for(payment)
        era_id = base
        if era_id in ids:
            era_id = f"{base}-{payment.control_number or n}"
            while era_id in ids:
                era_id = f"{era_id}-{n}"
            problems.append(
                f"payment {base} (payer and trace number) appears again in this file at transaction "
                f"{payment.control_number or n}; recorded as {era_id}"
            )
        ids.append(era_id)
    return ids, problems


def file_id_for(body: bytes) -> str:
    return "F" + hashlib.sha256(body).hexdigest()[:16].upper()


def _adjustments(items: list[Any]) -> list[RemitAdjustment]:
    return [RemitAdjustment(group=a.group, reason=a.reason, amount=a.amount, quantity=a.quantity) for a in items]


def to_remittance(
    claim: ClaimPayment,
    payment: Payment,
    *,
    era_id: str,
    file_id: str,
    key: str,
    payment_key: str = "",
    occurrence: int = 1,
) -> ClaimRemittance:
    """The posting message: codes and amounts only (the 835's names stay behind)."""
    return ClaimRemittance(
        era_id=era_id,
        payment_key=payment_key or era_id,
        occurrence=occurrence,
        file_id=file_id,
        source_key=key,
        payer_id=payment.payer_identifier,
        trace_number=payment.trace_number,
        position=claim.position,
        claim_id=claim.claim_id,
        status_code=claim.status_code,
        charge=claim.charge,
        paid=claim.paid,
        patient_responsibility=claim.patient_responsibility or ZERO,
        filing_indicator=claim.filing_indicator,
        payer_claim_number=claim.payer_claim_control_number,
        frequency_code=claim.frequency_code,
        adjustments=_adjustments(claim.adjustments),
        remarks=claim.remark_codes,
        service_date=claim.dates.get("232"),
        lines=[
            RemitLine(
                position=line.position,
                procedure_qualifier=line.procedure_qualifier,
                procedure_code=line.procedure_code,
                modifiers=line.modifiers,
                charge=line.charge,
                paid=line.paid,
                units=line.units,
                original_procedure_code=line.original_procedure[1] if len(line.original_procedure) > 1 else None,
                original_modifiers=line.original_procedure[2:6],
                service_date=line.service_date,
                control_number=line.control_number,
                allowed=line.allowed,
                adjustments=_adjustments(line.adjustments),
                remarks=[code for _, code in line.remarks],
            )
            for line in claim.lines
        ],
    )


def _header(payment: Payment, era_id: str, file_id: str, key: str, status: str, problems: list[str]) -> dict:
    return {
        "file_id": file_id,
        "source_key": key,
        "payer_id": payment.payer_identifier,
        "payer_name": payment.payer.name,
        "payee_npi": payment.payee.npi,
        "trace_number": payment.trace_number,
        "total_paid": f"{payment.signed_total:.2f}",
        "payment_method": payment.payment_method,
        "payment_date": payment.payment_date,
        "claim_count": payment.claim_count,
        "plb_total": f"{payment.provider_adjustment_total:.2f}",
        "era_status": status,
        "problems": problems,
        "received_at": utcnow().isoformat(),
        "updated_at": utcnow().isoformat(),
    }


def receive_era_file(
    repo: ClaimRepository,
    store: ArtifactStore,
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
        # The object under this key changed after the person looked at it: they did not release this.
        summary.quarantined = True
        summary.problems = [f"the file at {key} changed after it was released; release the new file separately"]
        report.update(status=QUARANTINED, problems=summary.problems)
        store.write_json(summary.report_key, report)
        return summary
    try:
        text = body.decode("utf-8-sig")
        checked = _check_whole_file(text)
    except UnicodeDecodeError:
        summary.file_error = "the file is not UTF-8 text, so it cannot be an X12 835"
    except X12SyntaxError as err:
        summary.file_error = f"not a readable X12 835: {err}"
    if summary.file_error is None and not checked[0]:
        summary.file_error = "the file holds no 835 transaction (no ST*835)"
    if summary.file_error:
        summary.quarantined = True
        report.update(file_error=summary.file_error, status=QUARANTINED)
        _record_unreadable(repo, summary)
        store.write_json(summary.report_key, report)
        return summary

    payments, file_problems = checked
    payment_keys, repeats = era_ids_for(payments)
    file_problems += repeats
    era_ids = []
    for payment_key in payment_keys:
        previous = repo.get_era(payment_key)
        era_id = payment_key
        if previous and previous.get("file_id") not in (None, summary.file_id):
            # The same payer + trace in different content: a corrected or forged file. A person decides;
            # it gets its own record so the first file's reconciliation stays as it was.
            era_id = f"{payment_key}~{summary.file_id}"
            file_problems.append(
                f"payment {payment_key} was already received in another file ({previous.get('source_key')}); "
                f"this file's copy is {era_id}"
            )
        era_ids.append(era_id)
    problems = file_problems + [p for payment in payments for p in payment.problems]
    summary.problems = problems
    summary.payments = len(payments)
    summary.quarantined = bool(problems) and not released
    status = QUARANTINED if summary.quarantined else POSTING
    for payment, era_id in zip(payments, era_ids, strict=True):
        summary.era_ids.append(era_id)
        repo.put_era(era_id, _header(payment, era_id, summary.file_id, key, status, problems))
    report["payments"] = [
        {
            "era_id": era_id,
            "total_paid": f"{p.signed_total:.2f}",
            "claims": p.claim_count,
            "balanced": p.balanced,
        }
        for p, era_id in zip(payments, era_ids, strict=True)
    ]
    report["problems"] = problems
    if summary.quarantined:
        report["status"] = QUARANTINED
        report["release"] = "POST /eras/{era_id}/release posts this file once a person has checked it"
        store.write_json(summary.report_key, report)
        return summary

    # The same payments, in the same order, as the check read.
    for payment, era_id, payment_key in zip(RemittanceReader(text).payments(), era_ids, payment_keys, strict=False):
        batch: list[ClaimRemittance] = []
        seen: dict[tuple[str, str, str], int] = {}
        for claim in payment.iter_claims():
            combo = (claim.claim_id, claim.status_code, claim.payer_claim_control_number)
            seen[combo] = seen.get(combo, 0) + 1
            batch.append(
                to_remittance(
                    claim,
                    payment,
                    era_id=era_id,
                    file_id=summary.file_id,
                    key=key,
                    payment_key=payment_key,
                    occurrence=seen[combo],
                )
            )
            if len(batch) >= SEND_EVERY:
                summary.claims_queued += queue.send(batch)
                batch = []
        summary.claims_queued += queue.send(batch)
        summary.provider_adjustments += _record_provider_adjustments(repo, era_id, payment.provider_adjustments)
    report.update(status=RELEASED if released else POSTING, claims_queued=summary.claims_queued)
    store.write_json(summary.report_key, report)
    return summary


def _check_whole_file(text: str) -> tuple[list[Payment], list[str]]:
    """Stream the whole file once: the payment headers (claims are not kept) and every problem."""
    reader = RemittanceReader(text)
    payments = []
    for payment in reader.payments():
        payment.drain()
        payments.append(payment)
    return payments, list(reader.problems)


def _record_unreadable(repo: ClaimRepository, summary: EraFileSummary) -> None:
    era_id = f"FILE-{summary.file_id}"
    summary.era_ids.append(era_id)
    repo.put_era(
        era_id,
        {
            "file_id": summary.file_id,
            "source_key": summary.source_key,
            "era_status": QUARANTINED,
            "problems": [summary.file_error],
            "unreadable": True,
            "total_paid": "0.00",
            "claim_count": 0,
            "plb_total": "0.00",
            "received_at": utcnow().isoformat(),
            "updated_at": utcnow().isoformat(),
        },
    )


def _claim_named_by(repo: ClaimRepository, reference: str) -> str | None:
    """A PLB reference often carries the claim's patient control number (our claim id), sometimes
    followed by other text: try the whole reference and its first token."""
    candidates = {reference.strip(), reference.strip().split(" ")[0].split(":")[0]}
    for candidate in candidates:
        if candidate and repo.items_under(claim_pk(candidate), "CLAIM"):
            return candidate
    return None


def _record_provider_adjustments(repo: ClaimRepository, era_id: str, adjustments: list[ProviderAdjustment]) -> int:
    for n, plb in enumerate(adjustments, start=1):
        claim_id = _claim_named_by(repo, plb.reference) if plb.reference else None
        repo.put_if_absent(
            {
                "pk": f"ERA#{era_id}",
                "sk": f"PLB#{n:04d}",
                "reason": plb.reason,
                "reference": plb.reference,
                "amount": f"{plb.amount:.2f}",
                "provider_id": plb.provider_id,
                "fiscal_period_date": plb.fiscal_period_date,
                "claim_id": claim_id,
            }
        )
        if claim_id:
            entry = LedgerEntry(
                source=f"{era_id}#PLB#{n:04d}",
                kind="provider_adjustment",
                era_id=era_id,
                posted_at=utcnow().isoformat(),
                paid=-plb.amount,  # a positive PLB amount is taken from the payment
                plb_reason=plb.reason,
                plb_reference=plb.reference,
            )
            repo.put_if_absent(repo.ledger_fields(claim_id, entry))
    return len(adjustments)


def reconciliation(repo: ClaimRepository, era_id: str) -> dict[str, Any] | None:
    """The ERA payment against what was posted: BPR02 = posted + held + unmatched - PLB, to the cent."""
    header = repo.get_era(era_id)
    if header is None:
        return None
    results = repo.era_items(era_id, "CLP#")
    plbs = repo.era_items(era_id, "PLB#")
    by_result: dict[str, Decimal] = {"posted": ZERO, "already_posted": ZERO, "held": ZERO, "unmatched": ZERO}
    counts: dict[str, int] = {"posted": 0, "already_posted": 0, "held": 0, "unmatched": 0}
    for r in results:
        by_result[r["result"]] = by_result.get(r["result"], ZERO) + Decimal(r["paid"])
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    plb_total = sum((Decimal(p["amount"]) for p in plbs), ZERO)
    total_paid = Decimal(header.get("total_paid", "0"))
    accounted = sum(by_result.values(), ZERO) - plb_total
    expected = int(header.get("claim_count", 0))
    recorded = len(results)
    status = header.get("era_status", POSTING)
    if status not in (QUARANTINED,) and recorded >= expected:
        status = "POSTED_WITH_UNMATCHED" if counts["unmatched"] else "POSTED"
    return {
        **{k: v for k, v in header.items() if k not in ("pk", "sk")},
        "era_status": status,
        "claims_recorded": recorded,
        "posted_count": counts["posted"],
        # Claim payments another file of the same payment had already posted (not posted again).
        "already_posted_count": counts["already_posted"],
        "already_posted_total": f"{by_result['already_posted']:.2f}",
        "held_count": counts["held"],
        "unmatched_count": counts["unmatched"],
        "posted_total": f"{by_result['posted']:.2f}",
        "held_total": f"{by_result['held']:.2f}",
        "unmatched_total": f"{by_result['unmatched']:.2f}",
        "plb_total": f"{plb_total:.2f}",
        "difference": f"{total_paid - accounted:.2f}",
        "reconciled": recorded == expected and total_paid == accounted,
        "claims": results,
        "provider_adjustments": plbs,
    }


class EraNotFound(LookupError):
    def __init__(self, era_id: str) -> None:
        super().__init__(f"ERA {era_id} not found")


class EraNotReleasable(Exception):
    """The ERA cannot be released: not quarantined (any more), or the file is not a readable 835."""


def release_era(repo: ClaimRepository, queue: ReleaseQueue, era_id: str, released_by: str) -> dict[str, Any]:
    """A person checked a quarantined ERA: post its file. Once: the status change is conditional."""
    header = repo.get_era(era_id)
    if header is None:
        raise EraNotFound(era_id)
    if header.get("unreadable"):
        raise EraNotReleasable(f"ERA file {header.get('source_key')} is not a readable 835; ask the payer to resend it")
    if not repo.update_era_status(era_id, RELEASED, expected=QUARANTINED):
        raise EraNotReleasable(f"ERA {era_id} is {header.get('era_status')}, not {QUARANTINED}")
    try:
        queue.release(header["source_key"], header["file_id"], released_by)
    except Exception:
        # Not sent: put it back so the person can release it again.
        repo.update_era_status(era_id, QUARANTINED, expected=RELEASED)
        raise
    return {"era_id": era_id, "era_status": RELEASED, "source_key": header["source_key"]}
