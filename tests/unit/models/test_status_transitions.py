"""The whole claim-status transition table, written out as data: every (from, to) pair is either
allowed or raises InvalidTransition (issue 16: PAID -> SUBMITTED was allowed by a surviving mutant)."""

from __future__ import annotations

import itertools

import pytest

from medbill.models.status import (
    ALLOWED_TRANSITIONS,
    HOLD_STATUSES,
    POSTED,
    ClaimStatus,
    InvalidTransition,
    check_transition,
)

# One line per status: where it may go (FAILED from every non-final status).
TABLE = {
    "RECEIVED": "REGISTERED FAILED",
    "REGISTERED": "ELIGIBLE ELIGIBILITY_HOLD FAILED",
    "ELIGIBILITY_HOLD": "ELIGIBLE ELIGIBILITY_HOLD FOLLOW_UP CLOSED FAILED",
    "ELIGIBLE": "CODED CODING_HOLD FAILED",
    "CODING_HOLD": "CODED CODING_HOLD FOLLOW_UP CLOSED FAILED",
    "CODED": "CHARGED FAILED",
    "CHARGED": "SUBMITTED FAILED",
    "SUBMITTED": "AWAITING_REMITTANCE ACCEPTED REJECTED PAID SHORT_PAID DENIED REVERSED FAILED",
    "AWAITING_REMITTANCE": "ACCEPTED REJECTED PAID SHORT_PAID DENIED REVERSED FOLLOW_UP FAILED",
    "ACCEPTED": "ACCEPTED REJECTED PAID SHORT_PAID DENIED REVERSED FOLLOW_UP FAILED",
    "REJECTED": "FOLLOW_UP PAID SHORT_PAID DENIED REVERSED FAILED",
    "PAID": "PAID SHORT_PAID DENIED REVERSED CLOSED FOLLOW_UP FAILED",
    "SHORT_PAID": "PAID SHORT_PAID DENIED REVERSED FOLLOW_UP CLOSED FAILED",
    "DENIED": "PAID SHORT_PAID DENIED REVERSED FOLLOW_UP CLOSED FAILED",
    "REVERSED": "PAID SHORT_PAID DENIED REVERSED FOLLOW_UP FAILED",
    "FOLLOW_UP": "FOLLOW_UP SUBMITTED CLOSED PAID SHORT_PAID DENIED REVERSED FAILED",
    "CLOSED": "",
    "FAILED": "",
}
ALLOWED = {(ClaimStatus(old), ClaimStatus(new)) for old, targets in TABLE.items() for new in targets.split()}
PAIRS = list(itertools.product(ClaimStatus, repeat=2))


def test_the_table_names_every_status() -> None:
    assert set(TABLE) == {s.value for s in ClaimStatus} == {s.value for s in ALLOWED_TRANSITIONS}
    assert len(PAIRS) == 324 and len(ALLOWED) == 87  # 18 statuses x 18; ACCEPTED and REJECTED add 18 moves


def test_the_module_table_is_this_table() -> None:
    assert {(old, new) for old, targets in ALLOWED_TRANSITIONS.items() for new in targets} == ALLOWED


@pytest.mark.parametrize(("old", "new"), [pair for pair in PAIRS if pair in ALLOWED], ids=str)
def test_allowed_transition(old: ClaimStatus, new: ClaimStatus) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(("old", "new"), [pair for pair in PAIRS if pair not in ALLOWED], ids=str)
def test_forbidden_transition(old: ClaimStatus, new: ClaimStatus) -> None:
    with pytest.raises(InvalidTransition) as err:
        check_transition(old, new)
    assert (err.value.old, err.value.new) == (old, new)
    assert str(err.value) == f"claim status cannot go from {old.value} to {new.value}"


def test_status_groups() -> None:
    assert {s.value for s in POSTED} == {"PAID", "SHORT_PAID", "DENIED", "REVERSED"}
    assert {s.value for s in HOLD_STATUSES} == {"ELIGIBILITY_HOLD", "CODING_HOLD"}
