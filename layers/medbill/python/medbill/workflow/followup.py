"""What follow-up needs to know about a claim beyond the claim itself, read through the claim store:
the remarks of its adjudications in force, when the payer adjudicated it, whether it was filed in
time (CO-29), and the next payer in the coordination-of-benefits order."""

from __future__ import annotations

from datetime import date

from medbill.billing.cob import next_payer_sequence
from medbill.billing.followup import Context
from medbill.billing.ledger import in_force
from medbill.billing.timely_filing import filed_in_time, proof_of_filing
from medbill.models.claim import Claim
from medbill.ports import ClaimStore


def next_payer(claim: Claim) -> str | None:
    """The payer after the one the claim is billed to now, in the encounter's coverage order (None:
    no further coverage). `bill_secondary` then sends the claim on (workflow.next_payer)."""
    sequence = next_payer_sequence(claim)
    return claim.encounter.coverages[sequence - 1][0].payer_id if sequence else None


def follow_up_context(repo: ClaimStore, claim: Claim) -> Context:
    entries = [e for e in repo.ledger_entries(claim.claim_id) if in_force(e)]
    remarks: list[str] = []
    for e in entries:
        remarks.extend(e.remarks)
        for line in e.lines:
            remarks.extend(line.remarks)
    adjudicated = max((e.posted_at[:10] for e in entries), default="")
    needs_proof = any(a.reason == "29" and a.group != "PR" for a in claim.adjustments)
    proof = proof_of_filing(claim, repo.events(claim.claim_id)) if needs_proof else None
    return Context(
        remarks=tuple(dict.fromkeys(remarks)),
        next_payer=next_payer(claim),
        filed_in_time=filed_in_time(claim, proof),
        adjudicated_on=date.fromisoformat(adjudicated) if adjudicated else None,
    )
