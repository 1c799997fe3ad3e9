"""Claim status inquiry (276/277, 005010X212) for claims that went quiet: the selection a scheduled
run makes, and the 277 answer read into each claim's acknowledgements and timeline.

A claim is due for an inquiry when no 277CA answered it `ack_hours` after it was sent (status
SUBMITTED or AWAITING_REMITTANCE, no 277CA recorded), or when it was accepted and no 835 came
`remittance_days` after (ACCEPTED). Both are per payer (`InquiryPolicy.for_payer`). A claim asked
about is not asked again for `ack_hours` (the last inquiry is on its timeline as a recorded 277).

The 276 itself is written by medbill.x12.status276.write_276; sending it rides the clearinghouse
exchange like an 837P (docs/decisions.md 15: what is left to wire).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from medbill.models.claim import Acknowledgement, Claim
from medbill.models.status import ClaimStatus
from medbill.ports import Artifacts, ClaimStore, Workflow
from medbill.workflow.acknowledgements import AckFileSummary, apply_acknowledgement
from medbill.x12.status276 import read_277
from medbill.x12.status_codes import describe

__all__ = ["InquiryPolicy", "PayerTimes", "due_for_inquiry", "receive_277_file"]

_WAITING_FOR_ACK = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.AWAITING_REMITTANCE})


@dataclass(frozen=True)
class PayerTimes:
    ack_hours: int = 48  # no 277CA this long after the send: ask
    remittance_days: int = 30  # accepted, no 835 this long after the send: ask


@dataclass(frozen=True)
class InquiryPolicy:
    default: PayerTimes = PayerTimes()
    payers: Mapping[str, PayerTimes] = field(default_factory=dict)

    def for_payer(self, payer_id: str) -> PayerTimes:
        return self.payers.get(payer_id, self.default)


def _sent_at(claim: Claim) -> datetime | None:
    if claim.filing is None:
        return None
    return claim.filing.sent_at or claim.filing.written_at


def due_for_inquiry(claims: Iterable[Claim], now: datetime, policy: InquiryPolicy) -> list[str]:
    """The claim ids a 276 should ask about now (ids only: the caller builds the requests)."""
    due = []
    for claim in claims:
        sent = _sent_at(claim)
        if sent is None:
            continue
        times = policy.for_payer(claim.payer_id)
        kinds = {a.kind for a in claim.acknowledgements}
        last_asked = max((a.received_at for a in claim.acknowledgements if a.kind == "277"), default=None)
        if last_asked is not None and now - last_asked < timedelta(hours=times.ack_hours):
            continue
        if claim.status in _WAITING_FOR_ACK and "277CA" not in kinds:
            if now - sent >= timedelta(hours=times.ack_hours):
                due.append(claim.claim_id)
        elif claim.status == ClaimStatus.ACCEPTED and now - sent >= timedelta(days=times.remittance_days):
            due.append(claim.claim_id)
    return due


def receive_277_file(
    repo: ClaimStore, store: Artifacts, workflow: Workflow, key: str, *, received_at: datetime
) -> AckFileSummary:
    """Each claim status in the 277 at `key` recorded on its claim (kind "277": file, time, codes
    and their meaning). Finalized statuses (F*) and pending ones (P*) are recorded without a status
    change: the 835 moves the money; a rejection (A3/A4/A6/A7/A8 or E*) rejects a claim still
    waiting, like a 277CA (follow-up: correct_and_resubmit)."""
    result = read_277(store.read(key).decode("utf-8", errors="replace"))
    summary = AckFileSummary(key=key, kind="277", problems=[*result.envelope_problems, *result.problems])
    for c in result.claims:
        codes = [str(s) for st in c.statuses for s in st.codes]
        words = "; ".join(describe(s.category, s.code, s.entity) for st in c.statuses for s in st.codes)
        rejecting = any(cat[:1] == "E" or cat in {"A3", "A4", "A6", "A7", "A8"} for cat in c.categories)
        ack = Acknowledgement(
            kind="277",
            key=key,
            received_at=received_at,
            verdict="rejected" if rejecting else "pending",
            codes=codes,
            reason=f"277 claim status: {words}" if words else None,
            payer_claim_number=c.payer_claim_number,
        )
        applied, resumed = apply_acknowledgement(repo, workflow, c.claim_id, ack)
        summary.claims[c.claim_id] = applied
        if resumed:
            summary.resumed.append(c.claim_id)
    return summary
