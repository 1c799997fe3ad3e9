"""Payment posting: one ERA claim payment -> ledger entries, claim totals, status, resume the workflow.

Idempotent by source: the ledger entry keys carry (payer, TRN02, claim position in the file), so the
same ERA delivered twice posts nothing twice (the transaction's condition refuses the second write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from medbill.gateways.workflow import WorkflowGateway
from medbill.models.claim import Adjustment, Claim, RemittanceOutcome
from medbill.store.repository import AlreadyPosted, ClaimNotFound, ClaimRepository, LedgerEntry
from medbill.workflow.stages import POSTED, with_lock_retry
from medbill.workflow.status import ClaimStatus as S

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ClaimRemittance:
    """What one CLP loop says about one of our claims, in our terms."""

    claim_id: str  # CLP01
    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05
    payer_claim_number: str | None  # CLP07
    adjustments: tuple[Adjustment, ...]  # claim- and line-level CAS, flattened
    position: int  # segment position of the CLP (part of the idempotency source)


@dataclass
class PostingResult:
    claim_id: str
    posted: bool  # False: already posted before (a redelivered or copied ERA)
    outcome: RemittanceOutcome | None = None
    resumed: bool = False
    unmatched: bool = False
    notes: list[str] = field(default_factory=list)


def outcome_of(remit: ClaimRemittance) -> RemittanceOutcome:
    if remit.status_code == "22":
        return "reversed"
    if remit.status_code == "4" or remit.paid == ZERO:
        return "denied"
    # Contractual CO-45 alone is a normal full payment under contract; anything else is short.
    shortfall = [a for a in remit.adjustments if not (a.group == "CO" and a.reason == "45") and a.amount]
    return "short_paid" if shortfall else "paid"


_STATUS_FOR: dict[str, S] = {
    "paid": S.PAID,
    "short_paid": S.SHORT_PAID,
    "denied": S.DENIED,
    "reversed": S.REVERSED,
}


def post_claim(repo: ClaimRepository, workflow: WorkflowGateway, era_id: str, remit: ClaimRemittance) -> PostingResult:
    outcome = outcome_of(remit)
    source_prefix = f"{era_id}#{remit.position:07d}"

    def step(claim: Claim) -> PostingResult:
        entries = [
            LedgerEntry(
                source=f"{source_prefix}#000",
                kind="reversal" if outcome == "reversed" else "payment",
                amount=remit.paid,
                era_id=era_id,
                detail={
                    "clp02": remit.status_code,
                    "charge": str(remit.charge),
                    "payer_claim": remit.payer_claim_number,
                },
            )
        ]
        for n, adj in enumerate(remit.adjustments, start=1):
            entries.append(
                LedgerEntry(
                    source=f"{source_prefix}#{n:03d}",
                    kind="adjustment",
                    amount=adj.amount,
                    group=adj.group,
                    reason=adj.reason,
                    era_id=era_id,
                )
            )
        pr = sum((a.amount for a in remit.adjustments if a.group == "PR"), ZERO)
        other = sum((a.amount for a in remit.adjustments if a.group != "PR"), ZERO)
        updated = claim.model_copy(
            update={
                "paid_amount": claim.paid_amount + remit.paid,
                "adjustment_amount": claim.adjustment_amount + other,
                "patient_responsibility": claim.patient_responsibility + pr,
                "adjustments": [*claim.adjustments, *remit.adjustments],
                "payer_claim_number": remit.payer_claim_number or claim.payer_claim_number,
                "remittance_outcome": outcome,
            }
        )
        new_status = _STATUS_FOR[outcome]
        saved = repo.save(
            updated,
            actor="remittance",
            new_status=new_status if new_status != claim.status else None,
            detail={
                "era_id": era_id,
                "clp02": remit.status_code,
                "paid": str(remit.paid),
                "outcome": outcome,
            },
            ledger=entries,
        )
        result = PostingResult(claim_id=claim.claim_id, posted=True, outcome=outcome)
        result.resumed = _resume(repo, workflow, saved)
        return result

    try:
        return with_lock_retry(repo, remit.claim_id, step)
    except ClaimNotFound:
        return PostingResult(claim_id=remit.claim_id, posted=False, unmatched=True)
    except AlreadyPosted:
        # Posted before; the resume may not have happened (crash between the two): do it now.
        claim = repo.get_claim(remit.claim_id)
        return PostingResult(
            claim_id=remit.claim_id,
            posted=False,
            outcome=claim.remittance_outcome,
            resumed=_resume(repo, workflow, claim),
            notes=["already posted"],
        )


def _resume(repo: ClaimRepository, workflow: WorkflowGateway, claim: Claim) -> bool:
    """Resume the claim's waiting execution with the outcome, once, and clear the token."""
    if not claim.task_token or claim.status not in POSTED or not claim.remittance_outcome:
        return False
    workflow.resume(claim.task_token, {"outcome": claim.remittance_outcome})

    def clear(current: Claim) -> bool:
        if current.task_token:
            repo.save(current.model_copy(update={"task_token": None}), actor="remittance", detail={"resumed": True})
        return True

    with_lock_retry(repo, claim.claim_id, clear)
    return True
