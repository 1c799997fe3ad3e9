"""Which claim a claim payment posts to when corrected (7) or void (8) claims are involved
(workflow.corrections): CLP01's claim, except that a void's remittance and a reversal of the
original sent under the replacement's CLP01 belong to the original."""

from __future__ import annotations

from medbill.models.remittance import REVERSAL, ClaimRemittance
from medbill.ports import ClaimNotFound, ClaimStore


def posting_target(repo: ClaimStore, remit: ClaimRemittance, claim_id: str) -> str:
    """Which claim a claim payment posts to: CLP01's, except that a void's remittance and a
    reversal of the original sent under the replacement's CLP01 belong to the original. Reads only
    for reversals and corrected/void claim payments (CLP09 7/8)."""
    if remit.status_code != REVERSAL and remit.frequency_code not in ("7", "8"):
        return claim_id
    try:
        claim = repo.get_claim(claim_id)
    except ClaimNotFound:
        return claim_id
    if not claim.replaces:
        return claim_id
    if claim.frequency_code == "8":
        return claim.replaces
    if remit.status_code == REVERSAL:
        own = repo.ledger_entries(claim_id)
        if not any(e.payer_claim_number == remit.payer_claim_number and e.reversed_by is None for e in own):
            return claim.replaces
    return claim_id
