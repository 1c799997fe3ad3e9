"""claim_totals: the claim's money recomputed from its ledger, reversals netting out."""

from __future__ import annotations

from decimal import Decimal

from medbill.billing.ledger import claim_totals
from medbill.models.claim import Claim
from medbill.models.remittance import LedgerEntry, LinePosting, RemitAdjustment
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal


def _claim() -> Claim:
    claim = new_claim(make_encounter(), "encounters/x.json", 1)  # 99213-25 and 36415
    lines = [
        claim.lines[0].model_copy(update={"charge": D("120.00")}),
        claim.lines[1].model_copy(update={"charge": D("30.00")}),
    ]
    return claim.model_copy(update={"lines": lines, "total_charge": D("150.00")})


def adj(group: str, reason: str, amount: str) -> RemitAdjustment:
    return RemitAdjustment.model_validate({"group": group, "reason": reason, "amount": amount})


def line(n: int | None, paid: str, allowed: str | None = None) -> LinePosting:
    return LinePosting(
        claim_line_number=n,
        match="control_number" if n else "unmatched",
        procedure_code="99213",
        charge=D("0"),
        paid=D(paid),
        allowed=D(allowed) if allowed else None,
    )


def entry(
    source: str, kind: str, paid: str, adjustments: list[RemitAdjustment], lines: list[LinePosting], **kw: object
) -> LedgerEntry:
    return LedgerEntry.model_validate(
        {
            "source": source,
            "kind": kind,
            "era_id": "P-T1",
            "posted_at": "2026-11-20T00:00:00+00:00",
            "paid": paid,
            "adjustments": adjustments,
            "lines": lines,
            **kw,
        }
    )


ORIGINAL = entry(
    "A",
    "payment",
    "100.00",
    [adj("CO", "45", "30.00"), adj("PR", "2", "20.00")],
    [line(1, "80.00", "100.00"), line(2, "20.00", "20.00")],
    charge="150.00",
    reversed_by="B",
)
REVERSAL = entry(
    "B",
    "reversal",
    "-100.00",
    [adj("CO", "45", "-30.00"), adj("PR", "2", "-20.00")],
    [line(1, "-80.00", "-100.00"), line(2, "-20.00", "-20.00")],
    charge="-150.00",
    reverses="A",
)
CORRECTED = entry(
    "C",
    "payment",
    "110.00",
    [adj("CO", "45", "30.00"), adj("PR", "3", "10.00")],
    [line(1, "90.00", "100.00"), line(2, "20.00", "20.00")],
    charge="150.00",
)


def test_one_payment() -> None:
    totals = claim_totals(_claim(), [CORRECTED])
    assert (totals["paid_amount"], totals["adjustment_amount"], totals["patient_responsibility"]) == (
        D("110.00"),
        D("30.00"),
        D("10.00"),
    )
    assert [(line.paid_amount, line.allowed_amount) for line in totals["lines"]] == [
        (D("90.00"), D("100.00")),
        (D("20.00"), D("20.00")),
    ]


def test_payment_and_its_reversal_net_to_nothing() -> None:
    totals = claim_totals(_claim(), [ORIGINAL, REVERSAL])
    assert (totals["paid_amount"], totals["adjustment_amount"], totals["patient_responsibility"]) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert totals["adjustments"] == []  # zero nets are dropped, not listed as 0.00
    assert [line.paid_amount for line in totals["lines"]] == [D("0.00"), D("0.00")]
    assert [line.allowed_amount for line in totals["lines"]] == [D("0.00"), D("0.00")]


def test_reversal_and_correction_leave_the_corrected_payment_whatever_the_order() -> None:
    for entries in ([ORIGINAL, REVERSAL, CORRECTED], [CORRECTED, REVERSAL, ORIGINAL], [REVERSAL, CORRECTED, ORIGINAL]):
        totals = claim_totals(_claim(), entries)
        assert (totals["paid_amount"], totals["adjustment_amount"], totals["patient_responsibility"]) == (
            D("110.00"),
            D("30.00"),
            D("10.00"),
        )
        assert sorted((a.group, a.reason, a.amount) for a in totals["adjustments"]) == [
            ("CO", "45", D("30.00")),
            ("PR", "3", D("10.00")),
        ]
        assert [line.paid_amount for line in totals["lines"]] == [D("90.00"), D("20.00")]


def test_entries_that_do_not_count_toward_the_claim() -> None:
    plb = entry("P", "provider_adjustment", "-5.00", [], [], plb_reason="WO", plb_reference="X")
    predet = entry("Q", "predetermination", "0.00", [adj("PI", "104", "136.72")], [line(1, "0.00")])
    totals = claim_totals(_claim(), [CORRECTED, plb, predet])
    assert (totals["paid_amount"], totals["adjustment_amount"]) == (D("110.00"), D("30.00"))


def test_unmatched_svc_counts_in_the_claim_but_on_no_line() -> None:
    e = entry(
        "U", "payment", "100.00", [adj("CO", "45", "50.00")], [line(1, "80.00"), line(None, "20.00")], charge="150.00"
    )
    totals = claim_totals(_claim(), [e])
    assert totals["paid_amount"] == D("100.00")
    assert [line.paid_amount for line in totals["lines"]] == [D("80.00"), D("0.00")]
    assert [line.allowed_amount for line in totals["lines"]] == [None, None]


def test_denial_and_secondary_payment_balance_to_the_charge() -> None:
    # The secondary's OA-23 is the primary's adjudication seen from the secondary, not a second
    # write-off: what it leaves beyond the primary's CO-50 is -40.00 (the secondary paid that much of
    # it), so paid + adjustments + patient balance is the 150.00 charge, not 300.00.
    denial = entry(
        "D", "denial", "0.00", [adj("CO", "50", "150.00")], [line(1, "0.00"), line(2, "0.00")], charge="150.00"
    )
    secondary = entry("S", "payment", "40.00", [adj("OA", "23", "110.00")], [line(1, "40.00")], charge="150.00")
    totals = claim_totals(_claim(), [denial, secondary])
    assert (totals["paid_amount"], totals["adjustment_amount"], totals["patient_responsibility"]) == (
        D("40.00"),
        D("110.00"),
        D("0.00"),
    )
    assert sorted((a.group, a.reason, a.amount) for a in totals["adjustments"]) == [
        ("CO", "50", D("150.00")),
        ("OA", "23", D("-40.00")),
    ]
