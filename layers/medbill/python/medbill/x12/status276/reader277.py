"""Reading a 277 claim status response (005010X212) segment by segment, and the claims a 276 asks
about (for the payer simulator). Problems name the segment, its position and the element; they
quote codes and numbers only, never a name, member id or date of birth."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from medbill.x12.ack277ca.models import StatusCode, StatusInfo
from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.envelope import EnvelopeReader
from medbill.x12.status276.models import IMPLEMENTATION_X212, ClaimStatus277, Status277, StatusResponse
from medbill.x12.status_codes import category_meaning, entity_meaning, status_meaning
from medbill.x12.tokenizer import Segment

__all__ = ["check_276", "check_277", "read_276_claims", "read_277", "summarize_276", "summarize_277"]

_CLAIM_LEVELS = frozenset({"22", "23"})


def _amount(seg: Segment, n: int, problems: list[str]) -> Decimal | None:
    """A strict X12 R amount; None when absent, or not a number (then a problem names the element)."""
    text = seg.get(n)
    amount = parse_r(text) if text else None
    if amount is None and text:
        problems.append(f"STC at segment {seg.position}: {X12NumberError(f'STC{n:02d}', text)}.")
    return amount


def _stc(seg: Segment, problems: list[str]) -> StatusResponse:
    comp = seg.delimiters.component if seg.delimiters else ":"
    codes = tuple(StatusCode.parse(seg.get(n).replace(comp, ":")) for n in (1, 10, 11) if seg.get(n))
    if not codes:
        problems.append(f"STC at segment {seg.position}: STC01 status is missing.")
    info = StatusInfo(codes=codes, action=seg.get(3), amount=_amount(seg, 4, problems))
    return StatusResponse(
        info=info,
        effective=seg.get(2),
        paid=_amount(seg, 5, problems),
        adjudicated=seg.get(6),
        check_date=seg.get(8),
        check_number=seg.get(9),
    )


def _read_transaction(result: Status277, segments: list[Segment], st02: str) -> None:
    """HL 22/23 levels hold the claims (TRN*2, STC, REF); a service line's STCs (after SVC) are
    read past: the summary is per claim."""
    level, claim, in_line = "", None, False
    for seg in segments:
        if seg.id == "HL":
            level, claim, in_line = seg.get(3), None, False
        elif seg.id == "TRN" and level in _CLAIM_LEVELS:
            claim, in_line = ClaimStatus277(claim_id=seg.get(2), ack_control_number=st02), False
            result.claims.append(claim)
        elif seg.id == "SVC":
            in_line = True
        elif claim is None or in_line:
            continue
        elif seg.id == "STC":
            claim.statuses.append(_stc(seg, result.problems))
        elif seg.id == "REF" and seg.get(1) == "1K":
            claim.payer_claim_number = seg.get(2)
        elif seg.id == "REF" and seg.get(1) == "EJ":
            claim.account_number = seg.get(2)
    for c in result.claims:
        if not c.statuses:
            result.problems.append(f"claim (TRN at ST {c.ack_control_number}) has no STC status.")


def read_277(text: str) -> Status277:
    """Every claim status in a 277 (X212) file."""
    reader = EnvelopeReader(text)
    result = Status277()
    for transaction in reader.transactions():
        position = transaction.segments[0].position
        if transaction.set_id != "277":
            result.problems.append(f"ST at segment {position}: transaction set {transaction.set_id} is not a 277.")
            continue
        version = transaction.header.implementation
        if version and version != IMPLEMENTATION_X212:
            shown = version if version.isascii() and version.isalnum() else "(unreadable)"
            result.problems.append(
                f"ST at segment {position}: implementation guide {shown} is not {IMPLEMENTATION_X212}."
            )
        st02 = transaction.header.control_number
        result.transactions.append(st02)
        _read_transaction(result, transaction.segments, st02)
    result.envelope_problems = list(reader.problems)
    return result


def read_276_claims(text: str) -> list[dict[str, str]]:
    """Per claim a 276 asks about: claim id (TRN02), payer id (2100A), payer claim number, charge
    (for the simulator; ids and amounts only)."""
    out: list[dict[str, str]] = []
    payer = ""
    for transaction in EnvelopeReader(text).transactions():
        for seg in transaction.segments:
            if seg.id == "NM1" and seg.get(1) == "PR":
                payer = seg.get(9)
            elif seg.id == "TRN" and seg.get(1) == "1":
                out.append({"claim_id": seg.get(2), "payer_id": payer, "payer_claim_number": "", "total_charge": ""})
            elif seg.id == "REF" and seg.get(1) == "1K" and out:
                out[-1]["payer_claim_number"] = seg.get(2)
            elif seg.id == "AMT" and seg.get(1) == "T3" and out:
                out[-1]["total_charge"] = seg.get(2)
    return out


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _status_dict(s: StatusResponse) -> dict[str, Any]:
    return {
        "statuses": [
            {
                "code": str(c),
                "category": c.category,
                "category_meaning": category_meaning(c.category),
                "status_code": c.code,
                "status_meaning": status_meaning(c.code) if c.code else None,
                "entity": c.entity or None,
                "entity_meaning": entity_meaning(c.entity) if c.entity else None,
            }
            for c in s.codes
        ],
        "effective_date": s.effective or None,
        "total_charge": _money(s.info.amount),
        "paid": _money(s.paid),
        "adjudicated_date": s.adjudicated or None,
        "check_date": s.check_date or None,
        "check_number": s.check_number or None,
    }


def summarize_277(text: str) -> dict[str, Any]:
    """What a 277 says per claim: category and status codes with their meanings, amounts, payer
    claim control number, dates of the status and payment (not of service). No names or member ids."""
    result = read_277(text)
    return {
        "transaction": "277",
        "implementation": IMPLEMENTATION_X212,
        "transactions": result.transactions,
        "claims": [
            {
                "claim_id": c.claim_id,
                "payer_claim_number": c.payer_claim_number,
                "finalized": c.finalized,
                "status": [_status_dict(s) for s in c.statuses],
            }
            for c in result.claims
        ],
        "claim_count": len(result.claims),
        "problems": result.problems,
        "envelope_problems": result.envelope_problems,
    }


def check_277(text: str) -> tuple[int, list[str], str]:
    """For ``medbill-x12 validate``: (transactions, problems, the verdict in words)."""
    result = read_277(text)
    finalized = sum(1 for c in result.claims if c.finalized)
    verdict = f"{len(result.claims)} claim status(es): {finalized} finalized, "
    return len(result.transactions), [*result.envelope_problems, *result.problems], verdict


def summarize_276(text: str) -> dict[str, Any]:
    """The claims a 276 asks about: claim id (TRN02), payer id, payer claim number, charge. No names."""
    reader = EnvelopeReader(text)
    transactions = [t.header.control_number for t in reader.transactions() if t.set_id == "276"]
    claims = read_276_claims(text)
    return {
        "transaction": "276",
        "implementation": IMPLEMENTATION_X212,
        "transactions": transactions,
        "claims": claims,
        "claim_count": len(claims),
        "envelope_problems": list(reader.problems),
    }


def check_276(text: str) -> tuple[int, list[str], str]:
    summary = summarize_276(text)
    problems = list(summary["envelope_problems"])
    claims = summary["claims"]
    problems += [
        f"inquiry {n}: TRN02 trace (claim id) is missing." for n, c in enumerate(claims, 1) if not c["claim_id"]
    ]
    return len(summary["transactions"]), problems, f"{summary['claim_count']} claim status inquiry(ies), "
