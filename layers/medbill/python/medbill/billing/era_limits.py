"""Size limits on what an 835 can put into the store, whatever the payer sends.

A DynamoDB item holds at most 400 KB, a partition key 2 KB and a sort key 1 KB; an SQS message
256 KB. An 835 element has no size limit on the wire (a 450 KB element once made the ERA record
too big, and the uncaught ValidationException sent the file to the DLQ with no report). So:

- an element we store from the payment header longer than its X12 maximum is a problem (the file
  is quarantined) and is stored cut to that maximum;
- problem texts are cut to `PROBLEM_CHARS` and an ERA record keeps at most `HEADER_PROBLEMS` of
  them (a per-claim result `RESULT_PROBLEMS`, the file's report in S3 `REPORT_PROBLEMS`, with the count);
- an ERA id (a key) longer than `ERA_ID_CHARS` becomes its head plus a hash of the whole;
- a claim payment whose posting message is over `MESSAGE_BYTES` cannot be posted (it would pass
  the SQS limit, and its ledger entry the item limit): a problem names its segment and size;
- a file over `MAX_ERA_BYTES` is quarantined unread: the check cannot resume (nothing posts from a
  file that does not balance), so one invocation must read and check it whole (decision 39).

The messages name the element and its length, never its content.
"""

from __future__ import annotations

import hashlib

from medbill.x12.remittance835 import Payment

PROBLEM_CHARS = 300
HEADER_PROBLEMS = 100  # 100 x 300 characters: 30 KB of the record's 400 KB
RESULT_PROBLEMS = 20
REPORT_PROBLEMS = 10_000  # in the file's S3 report (no item limit there, but a person reads it)
ERA_ID_CHARS = 80
MESSAGE_BYTES = 64 * 1024  # a 50-line claim payment is ~15 KB as a posting message
# The biggest 835 one remittance invocation checks whole (decision 39; bench_era_scale): measured
# ~0.54 CPU s per MB on the bench's 1,000,000-claim file (the densest shape: 78 bytes a claim
# payment), x1.73 for a 1024 MB Lambda's share of a vCPU: ~94 s for 100 MB, of the 240 s an
# invocation has before the fan-out's 60 s reserve; memory ~4x the file over the function's own.
MAX_ERA_BYTES = 100_000_000

# The payment header elements the ERA record stores, with their X12 maximum length (005010X221A1).
HEADER_ELEMENTS: dict[str, tuple[str, int]] = {
    "payer_id": ("TRN03 payer identifier", 10),
    "trace_number": ("TRN02 trace number", 50),
    "payer_name": ("N102 payer name", 60),
    "payee_npi": ("N104 payee identification code", 80),
    "payment_method": ("BPR04 payment method", 3),
    "payment_date": ("BPR16 payment date", 8),
}


def too_big(size: int, limit: int = MAX_ERA_BYTES) -> str:
    """Why a file over the limit is not read (sizes only)."""
    return (
        f"the file is {size:,} bytes, over the ERA limit of {limit:,} bytes (MAX_ERA_BYTES: one "
        "invocation checks a file whole); ask the payer or clearinghouse to send it as smaller 835 files"
    )


def clip(text: str, limit: int = PROBLEM_CHARS) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... (cut: {len(text)} characters)"


def clip_problems(problems: list[str], keep: int | None = None, *, more: str = "see the file's report") -> list[str]:
    """Each problem cut to `PROBLEM_CHARS`; with `keep`, at most that many and a line counting the rest."""
    shown = problems if keep is None or len(problems) <= keep else problems[:keep]
    out = [clip(p) for p in shown]
    if keep is not None and len(problems) > keep:
        out.append(f"... and {len(problems) - keep} more problems: {more}")
    return out


def bounded_id(era_id: str) -> str:
    """An ERA id fit for a key: as it is when short, else its head and a hash of the whole (unique)."""
    if len(era_id) <= ERA_ID_CHARS:
        return era_id
    digest = hashlib.sha256(era_id.encode("utf-8", "surrogatepass")).hexdigest()[:16].upper()
    return f"{era_id[: ERA_ID_CHARS - 18]}~H{digest}"


def _stored(payment: Payment) -> dict[str, str]:
    return {
        "payer_id": payment.payer_identifier,
        "trace_number": payment.trace_number,
        "payer_name": payment.payer.name or "",
        "payee_npi": payment.payee.npi or "",
        "payment_method": payment.payment_method,
        "payment_date": payment.payment_date,
    }


def header_values(payment: Payment) -> dict[str, str]:
    """The header elements the record stores, each cut to its X12 maximum."""
    return {k: v[: HEADER_ELEMENTS[k][1]] for k, v in _stored(payment).items()}


def header_problems(payment: Payment) -> list[str]:
    """One problem per stored header element longer than X12 allows (its name and length only)."""
    out = []
    for name, value in _stored(payment).items():
        element, maximum = HEADER_ELEMENTS[name]
        if len(value) > maximum:
            out.append(
                f"payment at transaction {clip(payment.control_number, 9)}: {element} is {len(value)} characters "
                f"long; X12 allows at most {maximum} (stored cut to {maximum})"
            )
    for plb in payment.provider_adjustments:
        if len(plb.reference) > 50:
            out.append(
                f"PLB at segment {plb.position}: PLB03-2 reference is {len(plb.reference)} characters long; "
                "X12 allows at most 50"
            )
    return out


def message_too_big(size: int, position: int) -> str:
    return (
        f"claim payment (CLP) at segment {position} cannot be posted: it is {size // 1024} KB as a posting "
        f"message; at most {MESSAGE_BYTES // 1024} KB"
    )
