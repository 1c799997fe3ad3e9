"""Claim totals and outcome across payers (coordination of benefits), reversal targets, and the
follow-up for forwarded and not-our-claim remittance. No AWS: ledger entries built in memory.

The claim: 99213-25 120.00 and 36415 30.00 (150.00). The primary allows 96.00 + 24.00, writes off
CO-45 30.00, pays 96.00 and leaves PR-2 24.00 (coinsurance), which it bills on to the secondary.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from medbill.billing.followup import AWAIT_CROSSOVER, classify, crossover_reason
from medbill.billing.ledger import claim_outcome, claim_totals, kind_of, reversal_target
from medbill.models.claim import Adjustment, Claim
from medbill.models.remittance import ClaimRemittance, LedgerEntry, LinePosting, RemitAdjustment
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal
CHARGE = D("150.00")


def _claim() -> Claim:
    claim = new_claim(make_encounter(), "encounters/x.json", 1)
    lines = [
        claim.lines[0].model_copy(update={"charge": D("120.00")}),
        claim.lines[1].model_copy(update={"charge": D("30.00")}),
    ]
    return claim.model_copy(update={"lines": lines, "total_charge": CHARGE})


def adj(code: str, amount: str) -> RemitAdjustment:
    group, reason = code.split("-")
    return RemitAdjustment.model_validate({"group": group, "reason": reason, "amount": amount})


def line(n: int, paid: str, allowed: str | None = None) -> LinePosting:
    return LinePosting(
        claim_line_number=n,
        match="control_number",
        procedure_code="99213" if n == 1 else "36415",
        charge=D("0"),
        paid=D(paid),
        allowed=D(allowed) if allowed is not None else None,
    )


def entry(source: str, status: str, paid: str, adjustments: list[RemitAdjustment], **kw: object) -> LedgerEntry:
    kind = {"22": "reversal", "4": "denial", "23": "not_our_claim"}.get(status, "payment")
    return LedgerEntry.model_validate(
        {
            "source": source,
            "kind": kw.pop("kind", kind),
            "era_id": kw.pop("era_id", f"PAYER-{source}"),
            "posted_at": kw.pop("posted_at", f"2026-11-2{len(source) % 10}T00:00:00+00:00"),
            "status_code": status,
            "charge": kw.pop("charge", "-150.00" if status == "22" else "150.00"),
            "paid": paid,
            "adjustments": adjustments,
            **kw,
        }
    )


def negated(e: LedgerEntry, source: str, **kw: object) -> LedgerEntry:
    """The reversal (CLP02 22) of `e`: every amount negated, no AMT*B6 (payers often omit it)."""
    return entry(
        source,
        "22",
        f"{-e.paid:.2f}",
        [RemitAdjustment(group=a.group, reason=a.reason, amount=-a.amount) for a in e.adjustments],
        charge=f"{-e.charge:.2f}",
        lines=[lp.model_copy(update={"paid": -lp.paid, "allowed": None}) for lp in e.lines],
        reverses=e.source,
        **kw,
    )


PRIMARY = entry(
    "P",
    "1",
    "96.00",
    [adj("CO-45", "30.00"), adj("PR-2", "24.00")],
    lines=[line(1, "76.80", "96.00"), line(2, "19.20", "24.00")],
    posted_at="2026-11-20T00:00:00+00:00",
)
# The secondary pays the coinsurance; OA-23 126.00 is the primary's 96.00 paid + 30.00 written off.
SECONDARY = entry(
    "S",
    "2",
    "24.00",
    [adj("OA-23", "126.00")],
    lines=[line(1, "19.20", "96.00"), line(2, "4.80", "24.00")],
    posted_at="2026-12-01T00:00:00+00:00",
)


def money(totals: dict[str, object]) -> tuple[object, object, object]:
    return totals["paid_amount"], totals["adjustment_amount"], totals["patient_responsibility"]


def codes(totals: dict[str, object]) -> list[tuple[str, str, Decimal]]:
    return sorted((a.group, a.reason, a.amount) for a in totals["adjustments"])  # type: ignore[attr-defined]


def balanced(totals: dict[str, object]) -> bool:
    paid, adjusted, patient = money(totals)
    return paid + adjusted + patient == CHARGE  # type: ignore[operator]


def test_primary_then_secondary_paying_the_coinsurance_is_paid_in_full() -> None:
    after_primary = claim_totals(_claim(), [PRIMARY])
    assert money(after_primary) == (D("96.00"), D("30.00"), D("24.00"))
    assert claim_outcome([PRIMARY], after_primary) == "short_paid"
    for entries in itertools.permutations([PRIMARY, SECONDARY]):
        totals = claim_totals(_claim(), list(entries))
        # Not 120 + 156 + 24 = 300: the primary's PR went to the secondary, and OA-23 is the primary's
        # own payment and write-off seen from the secondary.
        assert money(totals) == (D("120.00"), D("30.00"), D("0.00")) and balanced(totals)
        assert codes(totals) == [("CO", "45", D("30.00"))]
        assert claim_outcome(list(entries), totals) == "paid"
        # Line allowed is the primary's (the secondary's AMT*B6 would double it); paid adds up.
        assert [(ln.paid_amount, ln.allowed_amount) for ln in totals["lines"]] == [
            (D("96.00"), D("96.00")),
            (D("24.00"), D("24.00")),
        ]


def test_secondary_before_the_primary_arrives() -> None:
    totals = claim_totals(_claim(), [SECONDARY])
    # The primary's share (OA-23) is still outstanding: short-paid, never denied, and it balances.
    assert money(totals) == (D("24.00"), D("126.00"), D("0.00")) and balanced(totals)
    assert codes(totals) == [("OA", "23", D("126.00"))]
    assert claim_outcome([SECONDARY], totals) == "short_paid"
    # A secondary that pays nothing because the primary paid it all is not a denial either.
    nothing = entry("Z", "2", "0.00", [adj("OA-23", "150.00")])
    assert kind_of(_remit("2", "0.00", adj("OA-23", "150.00"))) == "payment"
    assert claim_outcome([nothing], claim_totals(_claim(), [nothing])) == "short_paid"
    full = entry("F", "1", "120.00", [adj("CO-45", "30.00")], posted_at="2026-11-01T00:00:00+00:00")
    late_zero = entry("Z", "2", "0.00", [adj("OA-23", "150.00")])
    totals = claim_totals(_claim(), [full, late_zero])
    assert money(totals) == (D("120.00"), D("30.00"), D("0.00"))
    assert claim_outcome([full, late_zero], totals) == "paid"
    # Only CLP02 4 makes a later payer's zero a denial.
    denied = entry("X", "4", "0.00", [adj("OA-23", "126.00"), adj("CO-96", "24.00")])
    totals = claim_totals(_claim(), [PRIMARY, denied])
    assert money(totals) == (D("96.00"), D("54.00"), D("0.00")) and balanced(totals)
    assert claim_outcome([PRIMARY, denied], totals) == "denied"


def test_tertiary_and_a_secondary_leaving_its_own_patient_balance() -> None:
    primary = entry(
        "P", "1", "96.00", [adj("CO-45", "30.00"), adj("PR-1", "10.00"), adj("PR-2", "14.00")], posted_at="2026-11-01"
    )
    # The secondary pays the coinsurance, not the deductible: PR-1 10.00 is now its patient responsibility.
    secondary = entry("S", "2", "14.00", [adj("OA-23", "126.00"), adj("PR-1", "10.00")], posted_at="2026-11-10")
    tertiary = entry("T", "3", "10.00", [adj("OA-23", "140.00")], posted_at="2026-11-20")
    totals = claim_totals(_claim(), [primary, secondary])
    assert money(totals) == (D("110.00"), D("30.00"), D("10.00")) and balanced(totals)
    assert codes(totals) == [("CO", "45", D("30.00")), ("PR", "1", D("10.00"))]
    assert claim_outcome([primary, secondary], totals) == "short_paid"
    for entries in itertools.permutations([primary, secondary, tertiary]):
        totals = claim_totals(_claim(), list(entries))
        assert money(totals) == (D("120.00"), D("30.00"), D("0.00")) and balanced(totals)
        assert claim_outcome(list(entries), totals) == "paid"


def test_reversal_of_a_secondary_brings_back_the_primary_patient_balance() -> None:
    secondary = SECONDARY.model_copy(update={"reversed_by": "R"})
    reversal = negated(SECONDARY, "R", posted_at="2026-12-05T00:00:00+00:00")
    entries = [PRIMARY, secondary, reversal]
    totals = claim_totals(_claim(), entries)
    assert money(totals) == (D("96.00"), D("30.00"), D("24.00")) and balanced(totals)
    assert codes(totals) == [("CO", "45", D("30.00")), ("PR", "2", D("24.00"))]
    assert claim_outcome(entries, totals) == "short_paid"
    assert [ln.paid_amount for ln in totals["lines"]] == [D("76.80"), D("19.20")]
    # The secondary's corrected payment (it now leaves a 4.00 copay to the patient) posts again.
    corrected = entry("S2", "2", "20.00", [adj("OA-23", "126.00"), adj("PR-3", "4.00")], posted_at="2026-12-06")
    totals = claim_totals(_claim(), [*entries, corrected])
    assert money(totals) == (D("116.00"), D("30.00"), D("4.00")) and balanced(totals)
    assert claim_outcome([*entries, corrected], totals) == "short_paid"
    # And a reversal of the primary alone leaves the secondary's view: its OA-23 is outstanding again.
    primary = PRIMARY.model_copy(update={"reversed_by": "RP"})
    totals = claim_totals(_claim(), [primary, negated(PRIMARY, "RP"), SECONDARY])
    assert money(totals) == (D("24.00"), D("126.00"), D("0.00")) and balanced(totals)


def test_denial_then_a_secondary_payment_still_balances() -> None:
    denial = entry("D", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-11-01")
    secondary = entry("S", "2", "40.00", [adj("OA-23", "110.00")], posted_at="2026-11-10")
    totals = claim_totals(_claim(), [denial, secondary])
    # The secondary paid 40.00 of what the primary wrote off: OA-23 -40.00 says so, to the cent.
    assert money(totals) == (D("40.00"), D("110.00"), D("0.00")) and balanced(totals)
    assert codes(totals) == [("CO", "50", D("150.00")), ("OA", "23", D("-40.00"))]
    assert claim_outcome([denial, secondary], totals) == "short_paid"


def test_not_our_claim_keeps_its_entry_but_no_money_and_the_right_payer_counts_once() -> None:
    disowned = entry("N", "23", "0.00", [adj("OA-109", "150.00")], posted_at="2026-11-01")
    totals = claim_totals(_claim(), [disowned])
    assert money(totals) == (D("0.00"), D("0.00"), D("0.00")) and totals["adjustments"] == []
    assert claim_outcome([disowned], totals) == "not_our_claim"
    rebilled = entry("R", "1", "120.00", [adj("CO-45", "30.00")], posted_at="2026-12-01")
    for entries in ([disowned, rebilled], [rebilled, disowned]):
        totals = claim_totals(_claim(), entries)
        assert money(totals) == (D("120.00"), D("30.00"), D("0.00")) and balanced(totals)
        assert claim_outcome(entries, totals) == "paid"


def test_allowed_of_a_reversed_entry_does_not_count() -> None:
    original = PRIMARY.model_copy(update={"reversed_by": "R"})
    reversal = negated(PRIMARY, "R")  # no AMT*B6 on the reversal
    corrected = entry(
        "C",
        "1",
        "84.00",
        [adj("CO-45", "45.00"), adj("PR-2", "21.00")],
        lines=[line(1, "67.20", "84.00"), line(2, "16.80", "21.00")],
    )
    for entries in itertools.permutations([original, reversal, corrected]):
        totals = claim_totals(_claim(), list(entries))
        assert [ln.allowed_amount for ln in totals["lines"]] == [D("84.00"), D("21.00")]
    totals = claim_totals(_claim(), [original, reversal])
    assert [ln.allowed_amount for ln in totals["lines"]] == [D("0.00"), D("0.00")]


def _remit(status: str, paid: str, *adjustments: RemitAdjustment, **kw: object) -> ClaimRemittance:
    return ClaimRemittance.model_validate(
        {
            "era_id": kw.pop("era_id", "PAYER-T2"),
            "payment_key": kw.pop("payment_key", "PAYER-T2"),
            "file_id": "F2",
            "source_key": "era/x.835",
            "payer_id": "PAYER",
            "trace_number": "T2",
            "position": 10,
            "claim_id": "CLM1",
            "status_code": status,
            "charge": kw.pop("charge", "150.00"),
            "paid": paid,
            "payer_claim_number": "PCN1",
            "adjustments": list(adjustments),
            **kw,
        }
    )


def test_reversal_undoes_the_entry_it_mirrors_not_the_correction_sharing_its_clp07() -> None:
    # The original came in payment T1; the reversal and the correction (same CLP07) come in T2.
    original = entry("PAYER-T1#CLM1#1#PCN1#1", "1", "120.00", [adj("CO-45", "30.00")], payer_claim_number="PCN1")
    original = original.model_copy(update={"era_id": "PAYER-T1", "payment_key": "PAYER-T1"})
    correction = entry("PAYER-T2#CLM1#1#PCN1#1", "1", "96.00", [adj("CO-45", "30.00"), adj("PR-2", "24.00")])
    # The correction's source sorts first; it carries no payment_key (as entries posted before it
    # existed), so its era_id tells its payment.
    correction = correction.model_copy(
        update={"era_id": "PAYER-T2", "payer_claim_number": "PCN1", "source": "A-PAYER-T2#CLM1#1#PCN1#1"}
    )
    reversal = _remit("22", "-120.00", adj("CO-45", "-30.00"), charge="-150.00")
    for ledger in ([original, correction], [correction, original]):
        assert reversal_target(ledger, reversal) is original
    # Only the correction is on the ledger: the reversal waits for its original (held).
    assert reversal_target([correction], reversal) is None
    # Among postings of other payments: the mirror first, else the earliest.
    other = original.model_copy(update={"source": "0-other", "paid": D("50.00"), "posted_at": "2026-01-01"})
    assert reversal_target([other, original], reversal) is original
    odd = _remit("22", "-99.00", adj("CO-45", "-51.00"), charge="-150.00")
    assert reversal_target([original, other], odd) is other
    # A posting of the same payment that mirrors it exactly (CLP03/04/05 and every adjustment) is its
    # original (paid and taken back at once); one with the same paid amount but another breakdown is
    # a correction, and the reversal waits for its original.
    same = correction.model_copy(update={"paid": D("120.00"), "adjustments": [adj("CO-45", "30.00")]})
    assert reversal_target([same], reversal) is same
    other_breakdown = correction.model_copy(update={"paid": D("120.00"), "adjustments": [adj("CO-97", "30.00")]})
    assert reversal_target([other_breakdown], reversal) is None


def _followup_claim(**update: object) -> Claim:
    return _claim().model_copy(update=update)


def test_forwarded_claim_waits_for_the_crossover_payer_not_the_patient() -> None:
    forwarded = _followup_claim(
        paid_amount=D("96.00"),
        patient_responsibility=D("24.00"),
        adjustments=[
            Adjustment(group="CO", reason="45", amount=D("30.00")),
            Adjustment(group="PR", reason="2", amount=D("24.00")),
        ],
        follow_up_reason=crossover_reason("19", D("24.00")),
        follow_up_action=AWAIT_CROSSOVER,
    )
    reason, action = classify(forwarded, "short_paid")
    assert action == AWAIT_CROSSOVER and "CLP02 19" in reason and "PR-2 24.00" in reason
    plain = forwarded.model_copy(update={"follow_up_reason": None, "follow_up_action": None})
    assert classify(plain, "short_paid")[1] == "bill_patient"


def test_not_our_claim_is_rebilled_not_worked_as_a_denial() -> None:
    reason, action = classify(_followup_claim(), "not_our_claim")
    assert action == "rebill_correct_payer" and "CLP02 23" in reason and "denied" not in reason


@pytest.mark.parametrize("status", ["2", "3", "20", "21"])
def test_later_payer_paying_nothing_with_only_oa23_is_a_payment(status: str) -> None:
    assert kind_of(_remit(status, "0.00", adj("OA-23", "150.00"))) == "payment"
    assert kind_of(_remit("1", "0.00", adj("OA-23", "150.00"))) == "denial"  # a primary has no prior payer


# --- one payer level, two adjudications: the later supersedes the earlier of the same service ------


def test_denial_then_payment_by_the_same_payer_counts_the_payment_only() -> None:
    # Denied (CO-16), corrected and resubmitted, paid: the payer never reverses its denial.
    denial = entry("D", "4", "0.00", [adj("CO-16", "150.00")], posted_at="2026-11-01T00:00:00+00:00")
    for entries in itertools.permutations([denial, PRIMARY]):
        totals = claim_totals(_claim(), list(entries))
        # Not 96 + 180 + 24 = 300: the denial stays on the ledger but no longer counts.
        assert money(totals) == (D("96.00"), D("30.00"), D("24.00")) and balanced(totals)
        assert codes(totals) == [("CO", "45", D("30.00")), ("PR", "2", D("24.00"))]
        assert claim_outcome(list(entries), totals) == "short_paid"
    # And the other way round: paid, then the same payer denies (a recoupment by re-adjudication).
    late = denial.model_copy(update={"posted_at": "2026-12-01T00:00:00+00:00"})
    totals = claim_totals(_claim(), [PRIMARY, late])
    assert money(totals) == (D("0.00"), D("150.00"), D("0.00")) and claim_outcome([PRIMARY, late], totals) == "denied"


def test_the_later_adjudication_is_the_later_payment_date_not_the_later_posting() -> None:
    from medbill.billing.ledger import PaymentFacts, superseded_by

    # Posted in the opposite order of the payer's payments (parallel messages, a late file).
    denial = entry("D", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-12-09T00:00:00+00:00")
    paid = PRIMARY.model_copy(update={"posted_at": "2026-12-01T00:00:00+00:00"})
    facts = {"PAYER-D": PaymentFacts("PAYERA", "20261101"), "PAYER-P": PaymentFacts("PAYERA", "20261120")}
    assert superseded_by([denial, paid], facts) == {"D": "P"}
    for entries in itertools.permutations([denial, paid]):
        totals = claim_totals(_claim(), list(entries), facts)
        assert money(totals) == (D("96.00"), D("30.00"), D("24.00")) and balanced(totals)
        assert claim_outcome(list(entries), totals, facts) == "short_paid"
    # Same date: the payment (payer + trace) decides, never the landing order.
    same_day = {k: PaymentFacts("PAYERA", "20261101") for k in facts}
    assert superseded_by([denial, paid], same_day) == superseded_by([paid, denial], same_day) == {"D": "P"}


def test_a_split_claim_covering_other_lines_counts_both() -> None:
    # MA15: the payer split the claim; each part adjudicates its own line, both stand.
    part1 = entry("A", "1", "76.80", [adj("CO-45", "24.00"), adj("PR-2", "19.20")], lines=[line(1, "76.80", "96.00")])
    part2 = entry("B", "1", "0.00", [adj("CO-97", "30.00")], lines=[line(2, "0.00")], charge="30.00")
    part1 = part1.model_copy(update={"charge": D("120.00")})
    for entries in itertools.permutations([part1, part2]):
        totals = claim_totals(_claim(), list(entries))
        assert money(totals) == (D("76.80"), D("54.00"), D("19.20")) and balanced(totals)
    # A later adjudication of line 1 only supersedes the part that covered line 1.
    again = entry("C", "1", "96.00", [adj("CO-45", "24.00")], lines=[line(1, "96.00", "96.00")], charge="120.00")
    again = again.model_copy(update={"posted_at": "2026-12-30T00:00:00+00:00"})
    totals = claim_totals(_claim(), [part1, part2, again])
    assert money(totals) == (D("96.00"), D("54.00"), D("0.00")) and balanced(totals)


def test_a_zero_charge_claim_payment_adjusts_rather_than_supersedes() -> None:
    # CLP03 0.00 with a negative CLP04: the payer takes 10.00 back of its earlier payment.
    recoup = entry("X", "1", "-10.00", [adj("CO-45", "10.00")], charge="0.00", posted_at="2026-12-30T00:00:00+00:00")
    totals = claim_totals(_claim(), [PRIMARY, recoup])
    assert money(totals) == (D("86.00"), D("40.00"), D("24.00")) and balanced(totals)


def test_secondary_repeating_the_contractual_write_off_is_paid_in_full() -> None:
    # The secondary repeats CO-45 30.00 and cites OA-23 96.00: the primary's payment only.
    secondary = entry("S", "2", "24.00", [adj("CO-45", "30.00"), adj("OA-23", "96.00")])
    for entries in itertools.permutations([PRIMARY, secondary]):
        totals = claim_totals(_claim(), list(entries))
        # Not [CO-45 60.00, OA-23 -30.00] (short-paid, review_underpayment): the repeat is one write-off.
        assert money(totals) == (D("120.00"), D("30.00"), D("0.00")) and balanced(totals)
        assert codes(totals) == [("CO", "45", D("30.00"))]
        assert claim_outcome(list(entries), totals) == "paid"
    # What the secondary really left unpaid still shows: it allows 10.00 less than the coinsurance.
    short = entry("S", "2", "14.00", [adj("CO-45", "30.00"), adj("CO-2", "10.00"), adj("OA-23", "96.00")])
    totals = claim_totals(_claim(), [PRIMARY, short])
    assert money(totals) == (D("110.00"), D("40.00"), D("0.00")) and balanced(totals)
    assert codes(totals) == [("CO", "2", D("10.00")), ("CO", "45", D("30.00"))]
    assert claim_outcome([PRIMARY, short], totals) == "short_paid"


def test_later_payer_citing_no_carc_23_still_balances() -> None:
    from medbill.billing.ledger import PaymentFacts

    # A different payer denies after the primary paid (coverage terminated), citing no CARC 23: it is
    # the secondary (the lowest level no other payer holds), not a primary re-adjudication.
    denial = entry("D", "4", "0.00", [adj("CO-27", "150.00")], posted_at="2026-12-01T00:00:00+00:00")
    facts = {"PAYER-P": PaymentFacts("PAYERA", "20261120"), "PAYER-D": PaymentFacts("PAYERB", "20261130")}
    for entries in itertools.permutations([PRIMARY, denial]):
        totals = claim_totals(_claim(), list(entries), facts)
        assert money(totals) == (D("96.00"), D("54.00"), D("0.00")) and balanced(totals)
        assert codes(totals) == [("CO", "27", D("150.00")), ("CO", "45", D("30.00")), ("OA", "23", D("-126.00"))]
        assert claim_outcome(list(entries), totals, facts) == "denied"
    # The same payer's CLP02 4 is its re-adjudication: it supersedes its payment.
    same = {**facts, "PAYER-D": PaymentFacts("PAYERA", "20261130")}
    totals = claim_totals(_claim(), [PRIMARY, denial], same)
    assert money(totals) == (D("0.00"), D("150.00"), D("0.00"))
