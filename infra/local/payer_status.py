"""The payer simulator's answer to a 276 claim status inquiry: one 277 (005010X212) per 276 file,
per claim asked about, from what the simulator decided for that claim.

    paid / short_paid -> F1:65 (finalized, paid), with the charge and the payer claim number
    denied            -> F2:88 (finalized, denied: entity not eligible for the dates of service)
    rejected          -> A3:116:PR (returned as unprocessable: submitted to the incorrect payer)
    not seen          -> A4:35 (not found: claim/encounter not found)

Used from PayerSimulator's run loop (payer_simulator.py): a file in its outbox that holds a 276 is
answered here into `status/277/` (forwarded by the SFTP bridge like the other answers). Logs keys
and codes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from infra.local.payer_remittance import payer_claim_number
from medbill.x12.ack277ca import StatusCode
from medbill.x12.claim837 import ControlNumbers
from medbill.x12.status276 import StatusAnswer, read_276_claims, write_277
from medbill.x12.tokenizer import X12SyntaxError, tokenize

__all__ = ["STATUS_BY_OUTCOME", "answer_276", "is_276"]

STATUS_BY_OUTCOME: dict[str, StatusCode] = {
    "paid": StatusCode(category="F1", code="65"),
    "short_paid": StatusCode(category="F1", code="65"),
    "denied": StatusCode(category="F2", code="88"),
    "rejected": StatusCode(category="A3", code="116", entity="PR"),
}
NOT_FOUND = StatusCode(category="A4", code="35")


def is_276(text: str) -> bool:
    try:
        return any(seg.id == "ST" and seg.get(1) == "276" for seg in tokenize(text))
    except X12SyntaxError:
        return False


def _charge(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal("0")


def answer_276(
    text: str,
    *,
    outcomes: Mapping[str, str],
    control_number: int,
    created: datetime,
    sender_id: str = "CLEARINGHOUSE",
    receiver_id: str = "MEDBILL",
) -> str:
    """The 277 answering every claim of the 276 `text`; `outcomes`: claim id -> the simulator's outcome."""
    answers = []
    for asked in read_276_claims(text):
        claim_id, payer_id = asked["claim_id"], asked["payer_id"]
        outcome = outcomes.get(claim_id)
        status = STATUS_BY_OUTCOME.get(outcome or "", NOT_FOUND)
        known = outcome in ("paid", "short_paid", "denied")
        answers.append(
            StatusAnswer(
                claim_id=claim_id,
                payer_id=payer_id or "UNKNOWN",
                status=status,
                effective=created,
                total_charge=_charge(asked["total_charge"]),
                payer_claim_number=payer_claim_number(payer_id, claim_id) if known else None,
            )
        )
    return write_277(
        answers,
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_numbers=ControlNumbers(control_number, control_number),
        created=created,
    )
