"""Worklists by follow-up action: which list a claim is on and where it sorts.

A claim in follow-up is on the list of its action (`write_off` shows as `write_off_review`: a person
confirms it and books it through the write-off API); a claim the daily timely-filing check flagged
is on `timely_filing` while its filing is still ahead of it, whatever else it waits for. Within a
list: money at stake first (largest first), then age (oldest first), then claim id. The store keeps
the list name and this order key on the claim item, so a list is one keyed query (docs/architecture.md).
"""

from __future__ import annotations

from decimal import Decimal

from medbill.billing.timely_filing import NOT_YET_FILED
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus

TIMELY_FILING = "timely_filing"
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
    }
)
_MAX_CENTS = 10**13  # 100 billion dollars: the order key inverts the amount to sort largest first


def money_at_stake(claim: Claim) -> Decimal:
    if claim.follow_up_action == "bill_patient":
        return max(claim.patient_balance, Decimal("0.00"))
    if claim.follow_up_amount is not None and claim.follow_up_action is not None:
        return claim.follow_up_amount
    return claim.total_charge or Decimal("0.00")


def _still_to_file(claim: Claim) -> bool:
    return claim.status in NOT_YET_FILED or claim.follow_up_action in ("correct_and_resubmit", "rebill_other_payer")


def worklist_of(claim: Claim) -> tuple[str, str] | None:
    """(list name, order key) for a claim on a worklist, None for one on none."""
    if claim.timely_filing_alert is not None and _still_to_file(claim):
        name = TIMELY_FILING
    elif claim.status == ClaimStatus.FOLLOW_UP and claim.follow_up_action and not claim.replaced_by:
        name = LIST_FOR_ACTION.get(claim.follow_up_action, claim.follow_up_action)
    else:
        return None
    cents = int(money_at_stake(claim) * 100)
    since = (claim.follow_up_since or claim.created_at).isoformat()
    return name, f"{_MAX_CENTS - max(0, min(cents, _MAX_CENTS)):014d}#{since}#{claim.claim_id}"
