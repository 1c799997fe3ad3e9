"""Timely filing: each claim's filing deadline and days left, and its proof of filing.

Proof of filing: the 837P's outbox key and interchange control number (ISA13), dated by the first
acceptance the clearinghouse or payer sent back (a 999 or 277CA the acks function recorded as
accepted: what a payer takes as proof), else by the first SUBMITTED event on the claim's timeline
(source "submission": we wrote it, nobody has confirmed it yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from medbill.billing.payer_policy import claim_policy
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus
from medbill.ports import ClaimEvent

# Statuses where filing is still ahead of us (the deadline matters) vs. done.
NOT_YET_FILED = frozenset(
    {
        ClaimStatus.RECEIVED,
        ClaimStatus.REGISTERED,
        ClaimStatus.ELIGIBILITY_HOLD,
        ClaimStatus.ELIGIBLE,
        ClaimStatus.CODING_HOLD,
        ClaimStatus.CODED,
        ClaimStatus.CHARGED,
    }
)


@dataclass(frozen=True)
class FilingProof:
    filed_on: date
    interchange_control_number: str
    outbox_key: str
    source: str  # "999" / "277CA" (the first acceptance received), else "submission"


@dataclass(frozen=True)
class FilingStatus:
    deadline: date
    days_left: int
    filed: bool


def proof_of_filing(claim: Claim, events: Sequence[ClaimEvent]) -> FilingProof | None:
    """When the claim first went out, with what we can show for it (None: never filed)."""
    if not claim.outbox_key or not claim.interchange_control_number:
        return None
    accepted = sorted(
        (a.received_at, a.kind)
        for a in claim.acknowledgements
        if a.kind in ("999", "277CA") and a.verdict in ("accepted", "accepted_with_errors")
    )
    if accepted:
        received_at, kind = accepted[0]
        return FilingProof(
            filed_on=received_at.date(),
            interchange_control_number=claim.interchange_control_number,
            outbox_key=claim.outbox_key,
            source=kind,
        )
    submitted = sorted(e.at for e in events if e.new_status == ClaimStatus.SUBMITTED.value)
    if not submitted:
        return None
    return FilingProof(
        filed_on=date.fromisoformat(submitted[0][:10]),
        interchange_control_number=claim.interchange_control_number,
        outbox_key=claim.outbox_key,
        source="submission",
    )


def filing_deadline(claim: Claim) -> date:
    return claim_policy(claim).filing_deadline(claim.encounter.date_of_service)


def filed_in_time(claim: Claim, proof: FilingProof | None) -> bool:
    return proof is not None and proof.filed_on <= filing_deadline(claim)


def filing_status(claim: Claim, today: date) -> FilingStatus:
    deadline = filing_deadline(claim)
    return FilingStatus(deadline=deadline, days_left=(deadline - today).days, filed=claim.status not in NOT_YET_FILED)


def near_deadline(claim: Claim, today: date) -> bool:
    """Not filed yet (or denied and waiting for a resubmission) and within the payer's warning window."""
    status = filing_status(claim, today)
    unfiled = not status.filed or claim.follow_up_action == "correct_and_resubmit"
    return unfiled and status.days_left <= claim_policy(claim).near_deadline_days
