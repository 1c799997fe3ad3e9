"""What a person sees of ERA payments (list, reconciliation to the cent) and releasing a
quarantined one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from medbill.billing.era_records import ENCODINGS, NOT_POSTED, PENDING, POSTING, QUARANTINED, RELEASED, era_status
from medbill.ports import EraStore, ReleaseQueue

ZERO = Decimal("0.00")
PENDING_SHOWN = 100  # pending positions listed in the reconciliation summary (the claims pages list all)


def list_eras(
    repo: EraStore, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of ERA payments (the office's, or one clinic's), newest first, each with its derived
    status and claims done."""
    headers, token = repo.list_eras(clinic_id=clinic_id, limit=limit, next_token=next_token)
    out = []
    for header in headers:
        # Only a posting ERA has results to count (a count query: the items are not returned).
        recorded, unmatched = (
            repo.era_result_counts(header["era_id"]) if header.get("era_status") == POSTING else (0, 0)
        )
        out.append({**_public(header), "era_status": era_status(header, recorded, unmatched), "claims_done": recorded})
    return out, token


def _public(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    if "duplicate_keys" in out:  # a DynamoDB string set
        out["duplicate_keys"] = sorted(out["duplicate_keys"])
    return out


def reconciliation(
    repo: EraStore, era_id: str, *, limit: int | None = None, next_token: str | None = None
) -> dict[str, Any] | None:
    """The ERA payment against what was posted: BPR02 = posted + held + unmatched - PLB, to the cent.

    The summary always covers every claim payment; `claims` lists them by position (those queued
    without a result yet as "pending"), all of them, or a page of `limit` after `next_token`."""
    header = repo.get_era(era_id)
    if header is None:
        return None
    after = repo.era_claims_after(era_id, next_token) if next_token else -1
    results = repo.era_results(era_id)
    plbs = repo.provider_adjustments(era_id)
    by_result: dict[str, Decimal] = {"posted": ZERO, "already_posted": ZERO, "held": ZERO, "unmatched": ZERO}
    counts: dict[str, int] = {"posted": 0, "already_posted": 0, "held": 0, "unmatched": 0, NOT_POSTED: 0}
    not_posted_total = ZERO
    for r in results:
        if r["result"] == NOT_POSTED:
            # Paid by the payer but on no claim's ledger: left out of what is accounted for.
            not_posted_total += Decimal(r["paid"])
        else:
            by_result[r["result"]] = by_result.get(r["result"], ZERO) + Decimal(r["paid"])
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    plb_total = sum((Decimal(p["amount"]) for p in plbs), ZERO)
    total_paid = Decimal(header.get("total_paid", "0"))
    accounted = sum(by_result.values(), ZERO) - plb_total
    expected = int(header.get("claim_count", 0))
    recorded = len(results)
    pending: list[dict[str, Any]] = []
    if header.get("era_status") == POSTING:
        done = {int(r["position"]) for r in results}
        for position, clp01 in repo.era_sent(era_id):
            if position not in done:
                pending.append({"position": position, "clp01": clp01, "result": PENDING})
    rows = sorted([_public(r) for r in results] + pending, key=lambda r: int(r["position"]))
    token = None
    if limit is not None:
        rows = [r for r in rows if int(r["position"]) > after]
        if len(rows) > limit:
            rows = rows[:limit]
            token = repo.era_claims_token(era_id, int(rows[-1]["position"]))
    return {
        **_public(header),
        "era_status": era_status(header, recorded, counts["unmatched"]),
        "claims_recorded": recorded,
        # Queued but no result yet: in flight, or the message ended in the posting DLQ.
        "claims_pending": max(expected - recorded, 0) if header.get("era_status") == POSTING else 0,
        "pending_positions": sorted(p["position"] for p in pending)[:PENDING_SHOWN],
        "posted_count": counts["posted"],
        # Claim payments another file of the same payment had already posted (not posted again).
        "already_posted_count": counts["already_posted"],
        "already_posted_total": f"{by_result['already_posted']:.2f}",
        "held_count": counts["held"],
        "unmatched_count": counts["unmatched"],
        "not_posted_count": counts[NOT_POSTED],
        "not_posted_total": f"{not_posted_total:.2f}",
        "posted_total": f"{by_result['posted']:.2f}",
        "held_total": f"{by_result['held']:.2f}",
        "unmatched_total": f"{by_result['unmatched']:.2f}",
        "plb_total": f"{plb_total:.2f}",
        "difference": f"{total_paid - accounted:.2f}",
        "reconciled": recorded == expected and total_paid == accounted and not counts[NOT_POSTED],
        "claims": rows,
        "next_token": token,
        "provider_adjustments": [_public(p) for p in plbs],
    }


class EraNotFound(LookupError):
    def __init__(self, era_id: str) -> None:
        super().__init__(f"ERA {era_id} not found")


class EraNotReleasable(Exception):
    """The ERA cannot be released: not quarantined (any more), or the file is not a readable 835."""


def release_era(
    repo: EraStore, queue: ReleaseQueue, era_id: str, released_by: str, encoding: str | None = None
) -> dict[str, Any]:
    """A person checked a quarantined ERA: post its file. Once: the status change is conditional.

    A file quarantined because it is not UTF-8 is released with the `encoding` a person confirmed
    (latin-1 or windows-1252): it is then checked in that encoding like a new delivery (its
    payments post if they balance, else are quarantined for a release of their own, which reads
    the file in the same encoding)."""
    header = repo.get_era(era_id)
    if header is None:
        raise EraNotFound(era_id)
    if encoding is not None and encoding not in ENCODINGS:
        raise EraNotReleasable(f"encoding must be one of {', '.join(ENCODINGS)}")
    recheck = False
    if header.get("unreadable"):
        if not header.get("encoding_unknown"):
            raise EraNotReleasable(
                f"ERA file {header.get('source_key')} is not a readable 835; ask the payer to resend it"
            )
        if encoding is None:
            raise EraNotReleasable(
                f"ERA file {header.get('source_key')} is not UTF-8: release it with the encoding a person "
                f"confirmed ({' or '.join(ENCODINGS)})"
            )
        recheck = True
    elif encoding is not None and encoding != header.get("encoding"):
        read_as = header.get("encoding") or "UTF-8"
        raise EraNotReleasable(f"ERA {era_id} was read as {read_as}: there is no other encoding to confirm")
    encoding = encoding or header.get("encoding")
    if not repo.update_era_status(era_id, RELEASED, expected=QUARANTINED):
        current = repo.get_era(era_id) or header  # another person may have released it a moment ago
        shown = era_status(current, *repo.era_result_counts(era_id))  # as GET /eras shows it
        raise EraNotReleasable(f"ERA {era_id} is {shown}, not {QUARANTINED}")
    try:
        queue.release(header["source_key"], header["file_id"], released_by, encoding=encoding, recheck=recheck)
    except Exception:
        # Not sent: put it back so the person can release it again.
        repo.update_era_status(era_id, QUARANTINED, expected=RELEASED)
        raise
    out = {"era_id": era_id, "era_status": RELEASED, "source_key": header["source_key"]}
    return {**out, "encoding": encoding} if encoding else out
