"""835 amounts read strictly, segment by segment, with exact expectations: CAS with several triples (a bad or
missing amount among good ones, quantities, the six-triple limit), SVC with a missing charge, PLB with
empty slots, a reason without a reference or without an amount. Found by the x12_835 mutation run
(docs/testing.md): each test pins what a one-character change to amounts.py or balancing.py would break."""

from __future__ import annotations

from decimal import Decimal as D

from medbill.x12.remittance835 import parse_835
from medbill.x12.remittance835.models import Adjustment, ProviderAdjustment
from tests.unit.x12.test_835_reader import SEGMENTS

NOT_A_NUMBER = "(expected digits, optionally a leading minus and a decimal point, e.g. 125.50)"
CANNOT = "the claim cannot be balanced."


def _with(**replaced: str) -> str:
    """The reader test's balanced 835 with some segments replaced, by 1-based position: `_with(s21="CAS*...")`."""
    segments = list(SEGMENTS)
    for key, new in replaced.items():
        segments[int(key[1:]) - 1] = new
    return "~".join(segments) + "~"


# --- CAS: the checked path (an amount that is not a number among good ones) -------------------------------
def test_a_bad_cas_amount_among_good_triples_keeps_every_other_triple_with_its_group_and_quantity() -> None:
    # claim 1's claim-level CAS (segment 21): PR 2 20.00 x1, PR 3 'QQ', PR 1 5.00 (no quantity, last element)
    (p,) = parse_835(_with(s21="CAS*PR*2*20.00*1*3*QQ*2*1*5.00"))
    claim = p.claims[0]
    assert claim.adjustments == [Adjustment("PR", "2", D("20.00"), D(1)), Adjustment("PR", "1", D("5.00"), None)]
    assert p.problems == [
        f"CAS at segment 21 (claim CLM0001): CAS06 (2 characters, not shown) is not an X12 decimal number "
        f"{NOT_A_NUMBER}; {CANNOT}"
    ]
    assert (claim.unreadable_amounts, claim.unbalanced_count, p.unbalanced_count) == (1, 1, 1)


def test_missing_cas_amounts_are_named_by_element_and_reason_and_the_triples_after_them_are_read() -> None:
    # claim 2's CAS (segment 47): CO 29 with no amount, CO 45 50.00 with an empty quantity, CO 3 at the end
    (p,) = parse_835(_with(s47="CAS*CO*29**1*45*50.00**3"))
    claim = p.claims[1]
    assert claim.adjustments == [Adjustment("CO", "45", D("50.00"), None)]
    assert p.problems == [
        f"CAS at segment 47 (claim CLM0002): CAS03 amount for reason 29 is missing; {CANNOT}",
        f"CAS at segment 47 (claim CLM0002): CAS09 amount for reason 3 is missing; {CANNOT}",
    ]
    assert (claim.unreadable_amounts, claim.unbalanced_count) == (2, 2)


def test_a_bad_cas_quantity_next_to_a_bad_amount_is_a_problem_that_does_not_unbalance() -> None:
    # CO 29 100.00 with quantity 'x' (CAS04), then CO 45 'Z' (CAS06) with quantity 2 as the last element
    (p,) = parse_835(_with(s47="CAS*CO*29*100.00*x*45*Z*2"))
    claim = p.claims[1]
    assert claim.adjustments == [Adjustment("CO", "29", D("100.00"), None)]
    assert p.problems == [
        f"CAS at segment 47 (claim CLM0002): CAS06 (1 character, not shown) is not an X12 decimal number "
        f"{NOT_A_NUMBER}; {CANNOT}",
        f"CAS at segment 47 (claim CLM0002): CAS04 (1 character, not shown) is not an X12 decimal number "
        f"{NOT_A_NUMBER}.",
    ]
    assert claim.unbalanced_count == 1


def test_cas_reads_six_triples_and_nothing_past_cas19() -> None:
    # X12 CAS has CAS01 and six reason/amount/quantity triples (CAS02..CAS19): a seventh is not read.
    # Every element numeric (quantities too): a reader that stepped through CAS one element at a time
    # instead of three would find reason/amount/quantity everywhere.
    full = "*29*40.00*1*29*20.00*1*29*10.00*1*29*10.00*1*29*10.00*1*29*10.00*1"
    (p,) = parse_835(_with(s47=f"CAS*CO{full}*253*99.00*1"))
    assert p.claims[1].adjustments == [
        Adjustment("CO", "29", D(amount), D(1)) for amount in ("40.00", "20.00", "10.00", "10.00", "10.00", "10.00")
    ]
    assert p.claims[1].balanced and p.balanced
    six = "*29*40.00**29*20.00**29*10.00**29*10.00**29*10.00**29*10.00*"
    # the same with one bad amount (the checked path): five triples kept, the seventh still not read
    bad = six.replace("20.00", "2O.00")
    (p,) = parse_835(_with(s47=f"CAS*CO{bad}*253*99.00"))
    assert [a.reason for a in p.claims[1].adjustments] == ["29"] * 5
    assert [a.amount for a in p.claims[1].adjustments] == [D("40.00"), *[D("10.00")] * 4]
    assert p.problems == [
        f"CAS at segment 47 (claim CLM0002): CAS06 (5 characters, not shown) is not an X12 decimal number "
        f"{NOT_A_NUMBER}; {CANNOT}"
    ]


# --- SVC: a missing charge, two unreadable lines on one claim -------------------------------------------------
def test_a_missing_line_charge_is_named_and_two_unreadable_lines_count_twice() -> None:
    (p,) = parse_835(_with(s32="SVC*HC:99214*QQ*130.00**1", s41="SVC*HC:81002**80.00**2"))
    claim = p.claims[0]
    assert p.problems == [
        "SVC at segment 32 (claim CLM0001, procedure 99214): SVC02 (2 characters, not shown) is not an X12 decimal "
        f"number {NOT_A_NUMBER}; {CANNOT}",
        f"SVC at segment 41 (claim CLM0001, procedure 81002): SVC02 line charge is missing; {CANNOT}",
    ]
    assert [line.charge for line in claim.lines] == [D(0), D(0)]
    assert [line.unreadable_amounts for line in claim.lines] == [1, 1]
    assert (claim.unreadable_amounts, claim.unbalanced_count, p.unbalanced_count) == (2, 2, 2)


# --- PLB -------------------------------------------------------------------------------------------------
def test_a_plb_without_an_adjustment_is_a_problem() -> None:
    (p,) = parse_835(_with(s4=SEGMENTS[3].replace("*186.00*", "*190.00*"), s50="PLB*1234567893*20251231*WO:CLM0000"))
    assert p.problems == ["PLB at segment 50: needs a provider id, a date and one adjustment."]
    assert p.provider_adjustments == [] and p.balanced


def test_plb_skips_an_empty_slot_keeps_a_reason_without_reference_and_names_a_missing_last_amount() -> None:
    (p,) = parse_835(_with(s50="PLB*1234567893*20251231*WO:CLM0000*10.00***L6*-6.00*72:ADV7"))
    assert p.provider_adjustments == [
        ProviderAdjustment("1234567893", "20251231", "WO", D("10.00"), "CLM0000"),
        ProviderAdjustment("1234567893", "20251231", "L6", D("-6.00"), ""),
    ]
    assert p.problems == ["PLB at segment 50: PLB10 amount for reason 72 is missing; the payment cannot be balanced."]
    assert (p.unreadable_amounts, p.unbalanced_count) == (1, 1)


def test_a_plb_amount_that_is_not_a_number_is_quoted_by_length_only() -> None:
    (p,) = parse_835(_with(s50="PLB*1234567893*20251231*WO:CLM0000*1O.00*L6:INT*-6.00"))
    assert p.provider_adjustments == [ProviderAdjustment("1234567893", "20251231", "L6", D("-6.00"), "INT")]
    assert p.problems == [
        f"PLB at segment 50: PLB04 (5 characters, not shown) is not an X12 decimal number {NOT_A_NUMBER}; "
        "the payment cannot be balanced."
    ]


def test_a_plb_with_two_unreadable_amounts_counts_both_and_keeps_the_segment_position() -> None:
    (p,) = parse_835(_with(s50="PLB*1234567893*20251231*WO:CLM0000*x*L6:INT*-6.00*FB:REF9*y*72:ADV7*1.00"))
    assert [(a.reason, a.amount, a.position) for a in p.provider_adjustments] == [
        ("L6", D("-6.00"), 50),
        ("72", D("1.00"), 50),
    ]
    assert [x.split(": ")[1].split(" ")[0] for x in p.problems] == ["PLB04", "PLB08"]
    assert (p.unreadable_amounts, p.unbalanced_count) == (2, 2)


# --- CAS: the fast path (every amount a number) ---------------------------------------------------------------
def test_a_quantity_on_a_later_triple_belongs_to_that_triple() -> None:
    (p,) = parse_835(_with(s47="CAS*CO*29*90.00**45*10.00*1"))
    assert p.claims[1].adjustments == [
        Adjustment("CO", "29", D("90.00"), None),
        Adjustment("CO", "45", D("10.00"), D(1)),
    ]
    assert p.valid


def test_a_cas_ending_in_a_reason_without_an_amount_is_named() -> None:
    (p,) = parse_835(_with(s47="CAS*CO*29*100.00*1*45"))
    assert p.claims[1].adjustments == [Adjustment("CO", "29", D("100.00"), D(1))]
    assert p.problems == [f"CAS at segment 47 (claim CLM0002): CAS06 amount for reason 45 is missing; {CANNOT}"]


def test_a_bare_cas_adds_nothing_and_the_claim_does_not_balance_without_it() -> None:
    (p,) = parse_835(_with(s21="CAS"))
    assert p.claims[0].adjustments == []
    assert p.problems == [
        "CLP at segment 20 (claim CLM0001): charge 300.00 - paid 190.00 = 110.00 but adjustments sum to 90.00"
    ]


# --- balancing: every imbalance counted once, at its claim, line or payment ------------------------------------
def test_every_imbalance_is_counted_once_and_the_payment_counts_its_claims_and_its_own() -> None:
    # line 1: 200 - 130 = 70 but CO45 41 + PR1 30 = 71; line 2: 100 - 80 = 20 but 25; claim 1: 110 but
    # PR2 20 + 71 + 25 = 116; claim 2: 100 but 90; the payment: BPR 190 but 190 - PLB 4 = 186.
    text = _with(
        s4=SEGMENTS[3].replace("*186.00*", "*190.00*"),
        s34="CAS*CO*45*41.00",
        s44="CAS*CO*45*25.00*2",
        s47="CAS*CO*29*90.00",
    )
    (p,) = parse_835(text)
    assert [c.unbalanced_count for c in p.claims] == [3, 1]
    assert p.unbalanced_count == 5
    assert [x.split(" (")[0] for x in p.problems] == [
        "SVC at segment 32",
        "SVC at segment 41",
        "CLP at segment 20",
        "CLP at segment 46",
        "BPR at segment 4",
    ]


def test_an_unreadable_line_does_not_stop_the_next_line_from_being_balanced() -> None:
    (p,) = parse_835(_with(s32="SVC*HC:99214*QQ*130.00**1", s44="CAS*CO*45*25.00*2"))
    assert p.problems == [
        "SVC at segment 32 (claim CLM0001, procedure 99214): SVC02 (2 characters, not shown) is not an X12 decimal "
        f"number {NOT_A_NUMBER}; {CANNOT}",
        "SVC at segment 41 (claim CLM0001, procedure 81002): charge 100.00 - paid 80.00 = 20.00 but line adjustments "
        "sum to 25.00",
    ]
    assert p.claims[0].unbalanced_count == 2


def test_a_payment_without_bpr_or_trn_is_reported_at_its_st_with_no_trace() -> None:
    segments = [s for n, s in enumerate(SEGMENTS, start=1) if n not in (4, 5)]
    (p,) = parse_835("~".join(segments) + "~")
    assert p.problems[-1] == (
        "ST at segment 3 (trace (none)): total paid 0.00 but claims paid 190.00 - provider adjustments 4.00 = 186.00"
    )
    assert p.unbalanced_count == 1
