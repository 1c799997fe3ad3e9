"""Follow-up rules: what a person (or a later rule) should do with a claim the payer did not pay in full."""

from __future__ import annotations

from decimal import Decimal

from medbill.models.claim import Claim

# CARC -> next action for a denial. The common ones a billing office sees every day; anything else
# goes to a person as "review_denial". (CARC descriptions: X12 external code list 139.)
DENIAL_ACTIONS: dict[str, str] = {
    "4": "correct_and_resubmit",  # procedure code inconsistent with modifier / modifier missing
    "11": "correct_and_resubmit",  # diagnosis inconsistent with procedure
    "16": "correct_and_resubmit",  # claim lacks information needed for adjudication
    "18": "close_duplicate",  # exact duplicate claim/service
    "22": "bill_other_payer",  # may be covered by another payer (coordination of benefits)
    "27": "bill_patient",  # expenses incurred after coverage terminated
    "29": "write_off",  # time limit for filing has expired
    "31": "verify_eligibility",  # patient cannot be identified as our insured
    "50": "appeal",  # not deemed a medical necessity
    "96": "appeal",  # non-covered charge(s)
    "97": "write_off",  # included in the allowance of another service (bundled)
    "109": "bill_other_payer",  # not covered by this payer/contractor
    "197": "appeal",  # precertification/authorization absent
    "204": "bill_patient",  # not covered under the patient's current benefit plan
}


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


def classify(claim: Claim, outcome: str) -> tuple[str, str]:
    """(reason, action) for the follow-up work queue. Codes and amounts only: no PHI."""
    adjustments = claim.adjustments
    if outcome == "rejected":  # a 999 or 277CA rejected it before adjudication (workflow.acknowledgements)
        return (claim.rejection_reason or "rejected before adjudication", "correct_and_resubmit")
    if outcome == "timed_out":
        return (
            f"no remittance received for interchange {claim.interchange_control_number}",
            "status_inquiry",  # X12 276 claim status request
        )
    if outcome == "hold_expired":
        return ("hold not resolved in time: " + "; ".join(claim.hold_reasons), "review_hold")
    if outcome == "not_our_claim":
        # Not a denial: the payer never adjudicated it. The claim goes to the payer that covers it.
        return ("payer says this is not its claim (CLP02 23): rebill to the correct payer", "rebill_correct_payer")
    if outcome == "reversed":
        return ("payer reversed the payment (CLP02 22)", "review_reversal")
    codes = "; ".join(_fmt(a.group, a.reason, a.amount) for a in adjustments) or "no adjustment codes"
    forwarded = claim.follow_up_reason if claim.follow_up_action == AWAIT_CROSSOVER else None
    also = " (forwarded to the next payer)" if forwarded else ""
    if outcome == "denied":
        carcs = [a.reason for a in adjustments if a.group != "PR"]
        actions = [DENIAL_ACTIONS[c] for c in carcs if c in DENIAL_ACTIONS]
        return (f"denied{also}: {codes}", actions[0] if actions else "review_denial")
    if outcome == "short_paid":
        other = [a for a in adjustments if a.group != "PR" and not (a.group == "CO" and a.reason == "45")]
        if other:
            # A line denied inside a paid claim is worked like a denial of that line.
            actions = [DENIAL_ACTIONS[a.reason] for a in other if a.reason in DENIAL_ACTIONS]
            action = actions[0] if actions else "review_underpayment"
            return (f"paid {claim.paid_amount:.2f} of {claim.total_charge:.2f}{also}: {codes}", action)
        if forwarded:
            # The PR was crossed over to the next payer: billing the patient now would bill them twice.
            return (f"{forwarded}: {codes}", AWAIT_CROSSOVER)
        return (
            f"patient responsibility {claim.patient_responsibility:.2f}: {codes}",
            "bill_patient",
        )
    return (f"remittance outcome {outcome}: {codes}", "review")
