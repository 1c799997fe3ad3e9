"""The check of an ERA (X12 835) file: one streaming pass that reads every payment, builds each claim
payment's posting message (or says why it cannot have one) into the file's `ChunkStore`, and
collects the envelope and element-size problems. `era_ingestion` decides from what it returns
whether the file is quarantined or fanned out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from medbill.billing.era_fanout import MESSAGE, ChunkStore, not_postable_line
from medbill.billing.era_limits import MESSAGE_BYTES, RESULT_PROBLEMS, clip_problems, header_problems, message_too_big
from medbill.billing.era_messages import describe, posting_problems, to_remittance
from medbill.x12.remittance835 import ClaimPayment, Payment, RemittanceReader


@dataclass
class NotPostable:
    """A claim payment that cannot become a posting message, and why (ids, codes, amounts)."""

    claim: ClaimPayment
    problems: list[str]
    hide_clp01: bool = False  # the CLP01 itself is what fails: not shown

    def line(self) -> str:
        claim = self.claim
        fields = {
            "clp01": "" if self.hide_clp01 else claim.claim_id[:38],
            "status_code": claim.status_code[:2],
            # An amount the reader could not read is 0.00 here; the problems say which claim payment it is.
            "charge": f"{claim.charge:.2f}",
            "paid": f"{claim.paid:.2f}",
            "payer_claim_number": claim.payer_claim_control_number[:50],
            "problems": clip_problems(self.problems, RESULT_PROBLEMS, more="see the ERA's file report"),
        }
        return not_postable_line(claim.position, fields)


@dataclass
class CheckedPayment:
    """One payment as the check read it: its header (claims are not kept) and its place in the file;
    each claim payment's line (posting message or why it has none) is in the file's `ChunkStore`."""

    payment: Payment
    index: int


def check_whole_file(
    text: str, file_id: str, key: str, chunks: ChunkStore
) -> tuple[list[CheckedPayment], list[str], list[str]]:
    """Stream the whole file once: the payments (their posting lines into `chunks`), the envelope and
    element-size problems and the claim payments that could not become posting messages."""
    reader = RemittanceReader(text)
    checked = []
    unpostable: list[str] = []
    header: list[str] = []
    for index, payment in enumerate(reader.payments()):
        seen: dict[tuple[str, str, str], int] = {}
        for claim in payment.iter_claims():
            combo = (claim.claim_id, claim.status_code, claim.payer_claim_control_number)
            seen[combo] = seen.get(combo, 0) + 1
            message = _message(claim, payment, file_id, key, seen[combo])
            if isinstance(message, NotPostable):
                unpostable += message.problems
                chunks.add(index, message.line())
            else:
                chunks.add(index, message)
        checked.append(CheckedPayment(payment, index))
        header += header_problems(payment)
    chunks.finish({c.index: c.payment.provider_adjustments for c in checked})
    return checked, list(reader.problems) + header, unpostable


def _message(claim: ClaimPayment, payment: Payment, file_id: str, key: str, occurrence: int) -> str | NotPostable:
    """The posting message line, its ERA ids left for the fan-out (known once the records are placed)."""
    if claim.unreadable_amounts:
        return NotPostable(claim, posting_problems(claim, payment))  # its money is unknown: never posted
    try:
        remit = to_remittance(claim, payment, era_id=_LATER, file_id=file_id, key=key, occurrence=occurrence)
    except ValidationError as err:
        bad_clp01 = any(e["loc"][:1] == ("claim_id",) for e in err.errors(include_url=False))
        return NotPostable(claim, describe(err, claim), hide_clp01=bad_clp01)
    message = remit.model_dump_json()
    if len(message) > MESSAGE_BYTES:
        # Over the SQS message limit, and its ledger entry near DynamoDB's item limit.
        return NotPostable(claim, [message_too_big(len(message), claim.position)])
    return MESSAGE + message


_LATER = "-"  # the ERA id of a message the check built; the fan-out sets the real one
