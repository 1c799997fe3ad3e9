"""Claim statuses and allowed transitions. Every status change is checked here before it is written."""

from __future__ import annotations

from enum import StrEnum


class ClaimStatus(StrEnum):
    RECEIVED = "RECEIVED"  # created by intake, execution started
    REGISTERED = "REGISTERED"  # patient matched or created
    ELIGIBILITY_HOLD = "ELIGIBILITY_HOLD"  # coverage inactive or not found: staff must act
    ELIGIBLE = "ELIGIBLE"
    CODING_HOLD = "CODING_HOLD"  # a code or pointer failed the coding edits: staff must act
    CODED = "CODED"
    CHARGED = "CHARGED"  # fee schedule applied, totals known
    SUBMITTED = "SUBMITTED"  # 837P written to the clearinghouse outbox
    AWAITING_REMITTANCE = "AWAITING_REMITTANCE"  # waiting for the payer's 835
    ACCEPTED = "ACCEPTED"  # the payer accepted the claim for adjudication (277CA A1/A2): still waiting for its 835
    REJECTED = "REJECTED"  # a 999 or 277CA rejected it: it never reached adjudication; goes to follow-up at once
    PAID = "PAID"  # paid in full
    SHORT_PAID = "SHORT_PAID"  # paid less than billed (contractual, patient responsibility, ...)
    DENIED = "DENIED"
    REVERSED = "REVERSED"  # payer took the payment back (CLP02 22)
    FOLLOW_UP = "FOLLOW_UP"  # a person or rule must act: appeal, resubmit, bill the patient
    CLOSED = "CLOSED"
    FAILED = "FAILED"  # the workflow hit an error it could not handle; see the timeline


S = ClaimStatus

# Remittance can land in any post-submission state (an 835 may arrive before the wait is parked).
# Statuses a remittance posting leaves a claim in.
POSTED = frozenset({S.PAID, S.SHORT_PAID, S.DENIED, S.REVERSED})
# Statuses an acknowledgement (999, 277CA) leaves a claim in.
ACKNOWLEDGED = frozenset({S.ACCEPTED, S.REJECTED})
# Statuses in which the claim's execution waits for remittance (an acknowledgement may answer first).
AWAITING = frozenset({S.SUBMITTED, S.AWAITING_REMITTANCE, S.ACCEPTED})

ALLOWED_TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    S.RECEIVED: frozenset({S.REGISTERED}),
    S.REGISTERED: frozenset({S.ELIGIBLE, S.ELIGIBILITY_HOLD}),
    S.ELIGIBILITY_HOLD: frozenset({S.ELIGIBLE, S.ELIGIBILITY_HOLD, S.FOLLOW_UP, S.CLOSED}),
    S.ELIGIBLE: frozenset({S.CODED, S.CODING_HOLD}),
    S.CODING_HOLD: frozenset({S.CODED, S.CODING_HOLD, S.FOLLOW_UP, S.CLOSED}),
    S.CODED: frozenset({S.CHARGED}),
    S.CHARGED: frozenset({S.SUBMITTED}),
    # Acknowledgements (999, 277CA) can beat the remittance wait: SUBMITTED may go straight to them.
    S.SUBMITTED: frozenset({S.AWAITING_REMITTANCE, *ACKNOWLEDGED, *POSTED}),
    S.AWAITING_REMITTANCE: frozenset({*ACKNOWLEDGED, *POSTED, S.FOLLOW_UP}),
    # Accepted: waits on for its 835 (or times out); a later 277CA may still reject it.
    S.ACCEPTED: frozenset({S.ACCEPTED, S.REJECTED, *POSTED, S.FOLLOW_UP}),
    # Rejected: the rejection is recorded once; follow-up (correct_and_resubmit) comes next. An 835
    # may still arrive (a payer adjudicating what its clearinghouse rejected): it posts.
    S.REJECTED: frozenset({S.FOLLOW_UP, *POSTED}),
    # After remittance, later ERAs may still arrive: secondary payments, reversals, corrections.
    S.PAID: frozenset({*POSTED, S.CLOSED, S.FOLLOW_UP}),
    S.SHORT_PAID: frozenset({*POSTED, S.FOLLOW_UP, S.CLOSED}),
    S.DENIED: frozenset({*POSTED, S.FOLLOW_UP, S.CLOSED}),
    S.REVERSED: frozenset({*POSTED, S.FOLLOW_UP}),
    S.FOLLOW_UP: frozenset({S.FOLLOW_UP, S.SUBMITTED, S.CLOSED, *POSTED}),
    S.CLOSED: frozenset(),
    S.FAILED: frozenset(),
}
# Any non-final status may fail.
for _status, _targets in list(ALLOWED_TRANSITIONS.items()):
    if _status not in (S.CLOSED, S.FAILED):
        ALLOWED_TRANSITIONS[_status] = _targets | {S.FAILED}

HOLD_STATUSES = frozenset({S.ELIGIBILITY_HOLD, S.CODING_HOLD})  # waiting on a person


class InvalidTransition(Exception):
    def __init__(self, old: ClaimStatus, new: ClaimStatus) -> None:
        super().__init__(f"claim status cannot go from {old} to {new}")
        self.old = old
        self.new = new


def check_transition(old: ClaimStatus, new: ClaimStatus) -> None:
    if new not in ALLOWED_TRANSITIONS[old]:
        raise InvalidTransition(old, new)
