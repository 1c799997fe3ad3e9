"""Worklists by follow-up action: which list a claim is on and where it sorts.

A claim in follow-up is on the list of its action (`write_off` shows as `write_off_review`: a person
confirms it and books it through the write-off API); a claim the daily timely-filing check flagged
is on `timely_filing` while its filing is still ahead of it, whatever else it waits for; a claim
whose encounter was re-sent with other content is on `resent_changed` before any other list, until
staff resolve it (workflow.resent_changes). Within a
list: money at stake first (largest first), then age (oldest first), then claim id. The store keeps
the list name and this order key on the claim item, so a list is one keyed query (docs/architecture.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from medbill.billing.timely_filing import NOT_YET_FILED
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus

TIMELY_FILING = "timely_filing"
RESENT_CHANGED = "resent_changed"
LIST_FOR_ACTION = {"write_off": "write_off_review"}
WORKLISTS = frozenset(
    {
        "appeal",
        "correct_and_resubmit",
        "bill_secondary",
        "rebill_other_payer",
        "rebill_correct_payer",
        "bill_patient",
        "write_off_review",
        "review_reversal",
        "review_denial",
        "review_underpayment",
        "review_hold",
        "status_inquiry",
        "await_crossover_payer",
        TIMELY_FILING,
        RESENT_CHANGED,
    }
)
_MAX_CENTS = 10**13  # 100 billion dollars: the order key inverts the amount to sort largest first


def money_at_stake(claim: Claim) -> Decimal:
    if claim.follow_up_action == "bill_patient":
        return max(claim.patient_balance, Decimal("0.00"))
    if claim.follow_up_amount is not None and claim.follow_up_action is not None:
        return claim.follow_up_amount
    return claim.total_charge or Decimal("0.00")


def waiting_since(claim: Claim) -> datetime:
    """Since when the claim waits on its worklist (a re-sent change: since it arrived)."""
    if claim.resent_changes and claim.resent_changed_at:
        return claim.resent_changed_at
    return claim.follow_up_since or claim.created_at


def _still_to_file(claim: Claim) -> bool:
    return claim.status in NOT_YET_FILED or claim.follow_up_action in ("correct_and_resubmit", "rebill_other_payer")


def worklist_of(claim: Claim) -> tuple[str, str] | None:
    """(list name, order key) for a claim on a worklist, None for one on none."""
    if claim.resent_changes:
        # First: the clinic re-sent the encounter with other content, so whatever else the claim
        # waits for may rest on data the clinic has since corrected.
        name = RESENT_CHANGED
    elif claim.timely_filing_alert is not None and _still_to_file(claim):
        name = TIMELY_FILING
    elif claim.status == ClaimStatus.FOLLOW_UP and claim.follow_up_action and not claim.replaced_by:
        name = LIST_FOR_ACTION.get(claim.follow_up_action, claim.follow_up_action)
    else:
        return None
    cents = int(money_at_stake(claim) * 100)
    return (
        name,
        f"{_MAX_CENTS - max(0, min(cents, _MAX_CENTS)):014d}#{waiting_since(claim).isoformat()}#{claim.claim_id}",
    )
