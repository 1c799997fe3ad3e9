"""The follow-up rules as a table: (outcome, claim) -> exact (reason, action), every branch of
classify and crossover_reason (mutation testing: each string and condition is checked)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from medbill.billing.followup import AWAIT_CROSSOVER, classify, crossover_reason
from medbill.models.claim import Adjustment, Claim
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal
FORWARDED = (
    "processed as primary and forwarded to the next payer (CLP02 19): "
    "patient responsibility 24.00 goes to the crossover payer first"
)


def _claim(adjustments: Sequence[tuple[str, str, str]] = (), **update: Any) -> Claim:
    base = new_claim(make_encounter(), "encounters/x.json", 1)
    adjs = [Adjustment.model_validate({"group": g, "reason": r, "amount": a}) for g, r, a in adjustments]
    return base.model_copy(update={"adjustments": adjs, "total_charge": D("150.00"), **update})


CASES: list[tuple[str, str, dict[str, Any], tuple[str, str]]] = [
    (
        "timed out",
        "timed_out",
        {"interchange_control_number": "000000042"},
        ("no remittance received for interchange 000000042", "status_inquiry"),
    ),
    (
        "hold expired",
        "hold_expired",
        {"hold_reasons": ["member not found", "NPI inactive"]},
        ("hold not resolved in time: member not found; NPI inactive", "review_hold"),
    ),
    (
        "not our claim",
        "not_our_claim",
        {},
        ("payer says this is not its claim (CLP02 23): rebill to the correct payer", "rebill_correct_payer"),
    ),
    ("reversed", "reversed", {}, ("payer reversed the payment (CLP02 22)", "review_reversal")),
    (
        "denied: the first known non-PR CARC decides",
        "denied",
        {"adjustments": [("PR", "204", "10.00"), ("CO", "999", "1.00"), ("CO", "50", "139.00")]},
        ("denied: PR-204 10.00; CO-999 1.00; CO-50 139.00", "appeal"),
    ),
    (
        "denied: only unknown CARCs",
        "denied",
        {"adjustments": [("CO", "999", "150.00")]},
        ("denied: CO-999 150.00", "review_denial"),
    ),
    (
        "denied after a crossover",
        "denied",
        {
            "adjustments": [("CO", "96", "150.00")],
            "follow_up_reason": FORWARDED,
            "follow_up_action": AWAIT_CROSSOVER,
        },
        ("denied (forwarded to the next payer): CO-96 150.00", "appeal"),
    ),
    (
        "a stale reason without the crossover action is not a crossover",
        "denied",
        {"adjustments": [("CO", "96", "150.00")], "follow_up_reason": FORWARDED, "follow_up_action": "appeal"},
        ("denied: CO-96 150.00", "appeal"),
    ),
    (
        "short paid: patient balance",
        "short_paid",
        {
            "adjustments": [("CO", "45", "30.00"), ("PR", "2", "24.00")],
            "paid_amount": D("96.00"),
            "patient_responsibility": D("24.00"),
        },
        ("patient responsibility 24.00: CO-45 30.00; PR-2 24.00", "bill_patient"),
    ),
    (
        "short paid: crossed over, the patient is not billed yet",
        "short_paid",
        {
            "adjustments": [("CO", "45", "30.00"), ("PR", "2", "24.00")],
            "patient_responsibility": D("24.00"),
            "follow_up_reason": FORWARDED,
            "follow_up_action": AWAIT_CROSSOVER,
        },
        (f"{FORWARDED}: CO-45 30.00; PR-2 24.00", AWAIT_CROSSOVER),
    ),
    (
        "short paid: a line denied inside a paid claim",
        "short_paid",
        {"adjustments": [("CO", "45", "10.00"), ("CO", "97", "30.00")], "paid_amount": D("110.00")},
        ("paid 110.00 of 150.00: CO-45 10.00; CO-97 30.00", "write_off"),
    ),
    (
        "short paid: an unknown line denial, forwarded",
        "short_paid",
        {
            "adjustments": [("OA", "999", "30.00")],
            "paid_amount": D("120.00"),
            "follow_up_reason": FORWARDED,
            "follow_up_action": AWAIT_CROSSOVER,
        },
        ("paid 120.00 of 150.00 (forwarded to the next payer): OA-999 30.00", "review_underpayment"),
    ),
    (
        "short paid with no adjustment codes",
        "short_paid",
        {},
        # nothing is the patient's (no PR) and nothing to work: a person looks (issue 10: never bill 0.00)
        ("paid 0.00 of 150.00: no adjustment codes", "review_underpayment"),
    ),
    ("anything else goes to a person", "paid", {}, ("remittance outcome paid: no adjustment codes", "review")),
]


@pytest.mark.parametrize(("outcome", "update", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_classify(outcome: str, update: dict[str, Any], expected: tuple[str, str]) -> None:
    update = dict(update)
    claim = _claim(update.pop("adjustments", []), **update)
    assert classify(claim, outcome) == expected


@pytest.mark.parametrize(
    ("code", "sequence"), [("19", "primary"), ("20", "secondary"), ("21", "tertiary"), ("1", "payer")]
)
def test_crossover_reason_names_the_payer_level(code: str, sequence: str) -> None:
    assert crossover_reason(code, D("12.50")) == (
        f"processed as {sequence} and forwarded to the next payer (CLP02 {code}): "
        "patient responsibility 12.50 goes to the crossover payer first"
    )
