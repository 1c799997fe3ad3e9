"""Follow-up rules: what a person (or a later rule) should do with a claim the payer did not pay in full.

The action for each adjustment comes from the rules table (billing.adjustment_rules: group + CARC
+ RARC). Expected contractual reductions (CO-45, CO-253, ...) need nothing; the patient's share (PR)
goes to the next payer when there is one, else to the patient; anything else is worked by its rule,
the most urgent action first (adjustment_rules.PRIORITY). A contractual (CO) amount is never billed
to the patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from medbill.billing.adjustment_rules import Rule, first_by_priority, rule_for
from medbill.billing.payer_policy import claim_policy
from medbill.models.claim import Adjustment, Claim

ZERO = Decimal("0.00")

# CLP02 19/20/21: the payer processed the claim and forwarded it to the next payer (crossover). Posting
# sets this action on the claim; the patient balance waits for the crossover payer's remittance.
AWAIT_CROSSOVER = "await_crossover_payer"
_SEQUENCE = {"19": "primary", "20": "secondary", "21": "tertiary"}


def crossover_reason(status_code: str, patient_responsibility: Decimal) -> str:
    return (
        f"processed as {_SEQUENCE.get(status_code, 'payer')} and forwarded to the next payer (CLP02 {status_code}): "
        f"patient responsibility {patient_responsibility:.2f} goes to the crossover payer first"
    )


def _fmt(group: str, reason: str, amount: Decimal) -> str:
    return f"{group}-{reason} {amount:.2f}"


@dataclass(frozen=True)
class FollowUp:
    """The follow-up of one claim: codes and amounts only (no PHI)."""

    reason: str
    action: str
    category: str | None = None  # write-off category when action is write_off
    amount: Decimal = ZERO  # money at stake: what the action is about
    due: date | None = None  # appeal deadline (payer configuration), when action is appeal


@dataclass(frozen=True)
class Context:
    """What the rules need beyond the claim: the remarks (RARCs) of the adjudication in force, the
    next payer in the coordination-of-benefits order, whether the claim was filed in time (CO-29),
    and the day the payer adjudicated it (appeal deadlines count from it)."""

    remarks: tuple[str, ...] = ()
    next_payer: str | None = None
    filed_in_time: bool = False
    adjudicated_on: date | None = None


def _resolve(rule: Rule, ctx: Context) -> tuple[str, str | None]:
    """(action, write-off category) of one rule on this claim."""
    if rule.category == "timely_filing" and rule.action == "appeal":
        # CO-29: appeal only with proof the claim reached the payer in time; else it is lost.
        return ("appeal", None) if ctx.filed_in_time else ("write_off", "timely_filing")
    return rule.action, rule.category or None


def _work(claim: Claim, ctx: Context) -> list[tuple[Adjustment, str, str | None]]:
    """Adjustments that need someone to act: neither the patient's share nor an expected reduction."""
    out = []
    for adj in claim.adjustments:
        if adj.group == "PR" or adj.amount <= ZERO:  # a negative amount gives back: nothing to work
            continue
        rule = rule_for(adj.group, adj.reason, ctx.remarks)
        if rule.expected:
            continue
        action, category = _resolve(rule, ctx)
        out.append((adj, action, category))
    return out


def _special(claim: Claim, outcome: str) -> FollowUp | None:
    charge = claim.total_charge or ZERO
    if outcome == "rejected":  # a 999 or 277CA rejected it before adjudication (workflow.acknowledgements)
        return FollowUp(claim.rejection_reason or "rejected before adjudication", "correct_and_resubmit", amount=charge)
    if outcome == "timed_out":
        return FollowUp(
            f"no remittance received for interchange {claim.interchange_control_number}",
            "status_inquiry",  # X12 276 claim status request
            amount=charge,
        )
    if outcome == "hold_expired":
        return FollowUp("hold not resolved in time: " + "; ".join(claim.hold_reasons), "review_hold", amount=charge)
    if outcome == "not_our_claim":
        # Not a denial: the payer never adjudicated it. The claim goes to the payer that covers it.
        return FollowUp(
            "payer says this is not its claim (CLP02 23): rebill to the correct payer",
            "rebill_correct_payer",
            amount=charge,
        )
    if outcome == "reversed":
        return FollowUp("payer reversed the payment (CLP02 22)", "review_reversal", amount=charge)
    return None


def decide(claim: Claim, outcome: str, ctx: Context | None = None) -> FollowUp:
    """The claim's follow-up from its outcome, its adjustments and the rules table."""
    ctx = ctx or Context()
    special = _special(claim, outcome)
    if special:
        return special
    codes = "; ".join(_fmt(a.group, a.reason, a.amount) for a in claim.adjustments) or "no adjustment codes"
    forwarded = claim.follow_up_reason if claim.follow_up_action == AWAIT_CROSSOVER else None
    also = " (forwarded to the next payer)" if forwarded else ""
    work = _work(claim, ctx)
    if outcome == "denied":
        head = f"denied{also}: {codes}"
    else:
        head = f"paid {claim.paid_amount:.2f} of {(claim.total_charge or ZERO):.2f}{also}: {codes}"
    if outcome not in ("denied", "short_paid"):
        return FollowUp(f"remittance outcome {outcome}: {codes}", "review")
    if work or claim.patient_responsibility <= ZERO:
        # Never bill the patient a balance that is not theirs (PR): with no PR and nothing to work, a person looks.
        return _worked(claim, outcome, head, work, ctx)
    return _patient_share(claim, codes, forwarded, ctx)


def _worked(
    claim: Claim, outcome: str, head: str, work: Sequence[tuple[Adjustment, str, str | None]], ctx: Context
) -> FollowUp:
    fallback = "review_denial" if outcome == "denied" else "review_underpayment"
    action = first_by_priority([a for _, a, _ in work]) or "review"
    # Net of what a later payer gave back (a negative OA-23 for the prior payers' share): the money
    # still at stake, e.g. a secondary denying 150.00 after the primary paid 126.00 of it leaves 24.00.
    given_back = sum((a.amount for a in claim.adjustments if a.group != "PR" and a.amount < ZERO), ZERO)
    amount = max(sum((adj.amount for adj, _, _ in work), ZERO) + given_back, ZERO)
    category = next((c for _, a, c in work if a == action and c), None)
    due = None
    if action == "appeal" and ctx.adjudicated_on:
        due = claim_policy(claim).appeal_deadline(ctx.adjudicated_on)
    return FollowUp(head, fallback if action == "review" else action, category, amount, due)


def _patient_share(claim: Claim, codes: str, forwarded: str | None, ctx: Context) -> FollowUp:
    pr = claim.patient_responsibility
    if forwarded:
        # The PR was crossed over to the next payer: billing the patient now would bill them twice.
        return FollowUp(f"{forwarded}: {codes}", AWAIT_CROSSOVER, amount=pr)
    if ctx.next_payer:
        return FollowUp(
            f"patient responsibility {pr:.2f} goes to payer {ctx.next_payer}: {codes}", "bill_secondary", amount=pr
        )
    small = claim_policy(claim).small_balance
    if ZERO < pr <= small:
        return FollowUp(
            f"patient responsibility {pr:.2f} at or under {small:.2f}: {codes}", "write_off", "small_balance", pr
        )
    return FollowUp(f"patient responsibility {pr:.2f}: {codes}", "bill_patient", amount=pr)


def classify(claim: Claim, outcome: str, ctx: Context | None = None) -> tuple[str, str]:
    """(reason, action) for the follow-up work queue. Codes and amounts only: no PHI."""
    decided = decide(claim, outcome, ctx)
    return decided.reason, decided.action
