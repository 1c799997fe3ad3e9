"""Ledger rules to the cent: the claim's paid / adjustments / patient balance, its outcome, the kind of
a claim payment, which posting a reversal undoes, payer levels and supersession. Each test pins a
behaviour the ledger mutation run (docs/testing.md, "ledger") found unpinned.

The claim and builders are those of test_coordination_of_benefits.py: 99213-25 120.00 and 36415
30.00 (150.00); PRIMARY allows 96.00 + 24.00, writes off CO-45 30.00, pays 96.00, leaves PR-2 24.00;
SECONDARY pays the 24.00 and cites OA-23 126.00 (the primary's payment and write-off).
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from medbill.billing.ledger import (
    PaymentFacts,
    already_reversed,
    claim_outcome,
    claim_totals,
    kind_of,
    outcome_of,
    reversal_target,
    superseded_by,
)
from medbill.models.remittance import LedgerEntry
from tests.unit.billing.test_coordination_of_benefits import (
    PRIMARY,
    SECONDARY,
    _claim,
    _remit,
    adj,
    balanced,
    codes,
    entry,
    line,
    money,
    negated,
)

D = Decimal


def _totals_and_outcome(
    entries: list[LedgerEntry], facts: dict[str, PaymentFacts] | None = None
) -> tuple[tuple[object, object, object], list[tuple[str, str, Decimal]], str]:
    totals = claim_totals(_claim(), entries, facts)
    assert balanced(totals)  # charge = paid + adjustments + patient balance, whatever else is pinned
    return money(totals), codes(totals), claim_outcome(entries, totals, facts)


# --- outcome of one claim payment, and of the claim ------------------------------------------------


@pytest.mark.parametrize("status", ["4", "1"])
def test_a_denial_leaving_a_patient_share_is_still_denied(status: str) -> None:
    # CLP02 4, or a processed claim paid nothing with a payer write-off (CO-50): denied, even though
    # part of it is the patient's (PR-1) - not short-paid.
    remit = _remit(status, "0.00", adj("CO-50", "100.00"), adj("PR-1", "50.00"))
    assert kind_of(remit) == "denial"
    assert outcome_of(kind_of(remit), remit.all_adjustments(), remit.paid) == "denied"


def test_nothing_paid_and_all_of_it_contractual_is_a_denial_not_a_payment() -> None:
    remit = _remit("1", "0.00", adj("CO-45", "150.00"))  # the payer allows nothing under contract
    assert kind_of(remit) == "payment"
    assert outcome_of("payment", remit.all_adjustments(), remit.paid) == "denied"


def test_processed_claim_paid_nothing_with_a_payer_write_off_is_denied_on_the_claim() -> None:
    # CLP02 1, 0.00 paid, CO-50 100.00 and PR-1 50.00: a denial (kind), and the claim is denied
    # although the patient owes 50.00 of it.
    denial = entry("D", "1", "0.00", [adj("CO-50", "100.00"), adj("PR-1", "50.00")], kind="denial")
    assert _totals_and_outcome([denial]) == (
        (D("0.00"), D("100.00"), D("50.00")),
        [("CO", "50", D("100.00")), ("PR", "1", D("50.00"))],
        "denied",
    )


def test_a_later_payer_denial_after_a_payment_leaves_the_claim_short_paid() -> None:
    # The secondary (CLP02 2) pays nothing and writes the coinsurance off (CO-96): a denial of its
    # own, but the claim has the primary's 96.00 and is short-paid, not denied.
    denial = entry("SD", "2", "0.00", [adj("OA-23", "126.00"), adj("CO-96", "24.00")], kind="denial")
    denial = denial.model_copy(update={"posted_at": "2026-12-01T00:00:00+00:00"})
    assert kind_of(_remit("2", "0.00", adj("OA-23", "126.00"), adj("CO-96", "24.00"))) == "denial"
    assert _totals_and_outcome([PRIMARY, denial]) == (
        (D("96.00"), D("54.00"), D("0.00")),
        [("CO", "45", D("30.00")), ("CO", "96", D("24.00"))],
        "short_paid",
    )


def test_primary_denial_and_a_secondary_paying_nothing_is_denied() -> None:
    # The secondary pays nothing and cites the primary's adjudication (OA-23 150.00, its CO-50): that
    # secondary payment is no denial of its own, but nothing was paid and nobody owes: denied.
    denial = entry("D", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-11-01")
    secondary = entry("S", "2", "0.00", [adj("OA-23", "150.00")], posted_at="2026-11-10")
    assert kind_of(_remit("2", "0.00", adj("OA-23", "150.00"))) == "payment"
    for entries in itertools.permutations([denial, secondary]):
        assert _totals_and_outcome(list(entries)) == (
            (D("0.00"), D("150.00"), D("0.00")),
            [("CO", "50", D("150.00"))],
            "denied",
        )


def test_nothing_counted_shows_zero_to_the_cent() -> None:
    # A predetermination only: the claim's money reads 0.00 (two places, as the claim record keeps it), not 0.
    predet = entry("Q", "25", "0.00", [adj("PI-104", "136.72")], kind="predetermination")
    totals = claim_totals(_claim(), [predet])
    assert [str(amount) for amount in money(totals)] == ["0.00", "0.00", "0.00"]
    # A payment and its reversal net out: 0.00 as well.
    reversed_primary = PRIMARY.model_copy(update={"reversed_by": "R"})
    totals = claim_totals(_claim(), [reversed_primary, negated(PRIMARY, "R")])
    assert [str(amount) for amount in money(totals)] == ["0.00", "0.00", "0.00"]


# --- payer levels: which payer an adjudication belongs to ------------------------------------------


def test_carc_23_in_the_patient_group_is_no_prior_payer_reference() -> None:
    # The primary paid, then re-adjudicates (CLP02 4) to a denial leaving 24.00 to the patient under
    # PR-23. A PR adjustment is the patient's share, never a payer citing prior payers: the denial is
    # the primary's own and replaces its payment (not a secondary's denial beside it).
    denial = entry("D", "4", "0.00", [adj("CO-50", "126.00"), adj("PR-23", "24.00")], posted_at="2026-12-01")
    for entries in itertools.permutations([PRIMARY, denial]):
        assert _totals_and_outcome(list(entries)) == (
            (D("0.00"), D("126.00"), D("24.00")),
            [("CO", "50", D("126.00")), ("PR", "23", D("24.00"))],
            "denied",
        )


def test_secondary_denial_citing_the_primary_is_superseded_by_its_payment_on_appeal() -> None:
    # CLP02 4 citing OA-23 is the secondary's (level 2) denial; its later CLP02 2 payment replaces it.
    denial = entry("SD", "4", "0.00", [adj("OA-23", "126.00"), adj("CO-96", "24.00")], posted_at="2026-12-01")
    paid = SECONDARY.model_copy(update={"posted_at": "2026-12-10T00:00:00+00:00"})
    for entries in itertools.permutations([PRIMARY, denial, paid]):
        assert superseded_by(list(entries)) == {"SD": "S"}
        assert _totals_and_outcome(list(entries)) == (
            (D("120.00"), D("30.00"), D("0.00")),
            [("CO", "45", D("30.00"))],
            "paid",
        )


def test_a_different_payer_denying_after_a_secondary_paid_is_the_primary() -> None:
    # The secondary's payment arrived first; then another payer denies (CLP02 4, no CARC 23). Level 1
    # is the lowest no other payer holds: it is the primary's denial, and the secondary's payment stands.
    facts = {"PAYER-S": PaymentFacts("PAYERB", "20261201"), "PAYER-D": PaymentFacts("PAYERX", "20261205")}
    denial = entry("D", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-12-05")
    for entries in itertools.permutations([SECONDARY, denial]):
        assert superseded_by(list(entries), facts) == {}
        assert _totals_and_outcome(list(entries), facts) == (
            (D("24.00"), D("126.00"), D("0.00")),
            [("CO", "50", D("150.00")), ("OA", "23", D("-24.00"))],
            "short_paid",
        )


def test_a_different_payer_denying_after_the_primary_is_the_secondary_beside_a_tertiary() -> None:
    # Primary (payer A) paid; payer X denies (CLP02 4, no CARC 23): the secondary, level 2; a tertiary
    # (payer C) pays the coinsurance later. Three levels, nothing superseded: X's CO-27 stays listed.
    facts = {
        "PAYER-P": PaymentFacts("PAYERA", "20261120"),
        "PAYER-X": PaymentFacts("PAYERX", "20261201"),
        "PAYER-T": PaymentFacts("PAYERC", "20261210"),
    }
    denial = entry("X", "4", "0.00", [adj("CO-27", "150.00")], posted_at="2026-12-01")
    tertiary = entry("T", "3", "24.00", [adj("OA-23", "126.00")], posted_at="2026-12-10")
    for entries in itertools.permutations([PRIMARY, denial, tertiary]):
        assert superseded_by(list(entries), facts) == {}
        totals = claim_totals(_claim(), list(entries), facts)
        assert money(totals) == (D("120.00"), D("30.00"), D("0.00")) and balanced(totals)
        assert codes(totals) == [("CO", "27", D("150.00")), ("CO", "45", D("30.00")), ("OA", "23", D("-150.00"))]


def test_a_fourth_payer_denial_takes_the_tertiary_level() -> None:
    # Payers A, B and C hold levels 1-3; payer X's CLP02 4 (no CARC 23) after the tertiary paid is at
    # the last level there is (3): it supersedes the tertiary's payment.
    facts = {
        "PAYER-P": PaymentFacts("PAYERA", "20261101"),
        "PAYER-S": PaymentFacts("PAYERB", "20261110"),
        "PAYER-T": PaymentFacts("PAYERC", "20261120"),
        "PAYER-X": PaymentFacts("PAYERX", "20261201"),
    }
    primary = entry("P", "1", "96.00", [adj("CO-45", "30.00"), adj("PR-1", "10.00"), adj("PR-2", "14.00")])
    secondary = entry("S", "2", "14.00", [adj("OA-23", "126.00"), adj("PR-1", "10.00")])
    tertiary = entry("T", "3", "10.00", [adj("OA-23", "140.00")])
    denial = entry("X", "4", "0.00", [adj("CO-27", "150.00")])
    for entries in itertools.permutations([primary, secondary, tertiary, denial]):
        assert superseded_by(list(entries), facts) == {"T": "X"}
        assert _totals_and_outcome(list(entries), facts) == (
            (D("110.00"), D("40.00"), D("0.00")),
            [("CO", "27", D("150.00")), ("CO", "45", D("30.00")), ("OA", "23", D("-140.00"))],
            "denied",
        )


def test_a_later_payer_denying_after_paying_decides_the_claim_by_its_payment_facts() -> None:
    # Payer B paid as the secondary, then denies (CLP02 4 citing no CARC 23): by the payment facts it
    # is B, the secondary, re-adjudicating - its denial replaces its payment and decides the claim.
    facts = {
        "PAYER-P": PaymentFacts("PAYERA", "20261120"),
        "PAYER-S": PaymentFacts("PAYERB", "20261201"),
        "PAYER-BD": PaymentFacts("PAYERB", "20261210"),
    }
    denial = entry("BD", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-12-10")
    for entries in itertools.permutations([PRIMARY, SECONDARY, denial]):
        assert superseded_by(list(entries), facts) == {"S": "BD"}
        assert _totals_and_outcome(list(entries), facts) == (
            (D("96.00"), D("54.00"), D("0.00")),
            [("CO", "45", D("30.00")), ("CO", "50", D("150.00")), ("OA", "23", D("-126.00"))],
            "denied",
        )


def test_a_tertiary_reversal_takes_the_tertiary_level() -> None:
    # The reversal cites OA-23 (negated) like its original: it is still the tertiary's, so the
    # secondary's patient balance (PR-1 10.00) comes back, and nothing of the tertiary's is left.
    primary = entry("P", "1", "96.00", [adj("CO-45", "30.00"), adj("PR-1", "10.00"), adj("PR-2", "14.00")])
    secondary = entry("S", "2", "14.00", [adj("OA-23", "126.00"), adj("PR-1", "10.00")])
    tertiary = entry("T", "3", "10.00", [adj("OA-23", "140.00")], reversed_by="R")
    reversal = negated(tertiary.model_copy(update={"reversed_by": None}), "R")
    for entries in itertools.permutations([primary, secondary, tertiary, reversal]):
        assert _totals_and_outcome(list(entries)) == (
            (D("110.00"), D("30.00"), D("10.00")),
            [("CO", "45", D("30.00")), ("PR", "1", D("10.00"))],
            "short_paid",
        )


def test_a_secondary_undone_by_a_reversal_with_another_breakdown_leaves_the_primarys_patient_balance() -> None:
    # The secondary left a 4.00 copay (PR-3); its reversal takes back the 20.00 with another breakdown
    # (PR-3 -5.00). With only the primary in force, the patient owes the primary's PR-2 24.00, to the
    # cent: the secondary's PR and its reversal's do not count, whatever they say.
    secondary = entry("S", "2", "20.00", [adj("OA-23", "126.00"), adj("PR-3", "4.00")], reversed_by="R")
    reversal = entry("R", "22", "-20.00", [adj("OA-23", "-125.00"), adj("PR-3", "-5.00")], reverses="S")
    for entries in itertools.permutations([PRIMARY, secondary, reversal]):
        assert _totals_and_outcome(list(entries)) == (
            (D("96.00"), D("30.00"), D("24.00")),
            [("CO", "45", D("30.00")), ("PR", "2", D("24.00"))],
            "short_paid",
        )


# --- supersession: which adjudication of one payer level is the later one ---------------------------


def test_primary_re_adjudication_supersedes_across_a_secondary_between_them() -> None:
    # Primary paid (11-20), secondary paid (12-01), the primary pays in full on appeal (12-10): the
    # primary's first payment no longer counts; the secondary's 24.00 is now beyond what it owed.
    appeal = entry("P2", "1", "120.00", [adj("CO-45", "30.00")], posted_at="2026-12-10")
    for entries in itertools.permutations([PRIMARY, SECONDARY, appeal]):
        assert superseded_by(list(entries)) == {"P": "P2"}
        totals = claim_totals(_claim(), list(entries))
        assert money(totals) == (D("144.00"), D("6.00"), D("0.00")) and balanced(totals)
        assert codes(totals) == [("CO", "45", D("30.00")), ("OA", "23", D("-24.00"))]


def test_second_occurrence_in_one_payment_is_the_later_adjudication() -> None:
    # The same CLP01/CLP02/CLP07 twice in one payment, posted before segment positions were kept:
    # the source's occurrence (#2 after #1) orders them, whatever order the ledger lists them in.
    first = entry("PAYER-T1#CLM1#1#PCN1#1", "1", "96.00", [adj("CO-45", "30.00"), adj("PR-2", "24.00")])
    second = entry("PAYER-T1#CLM1#1#PCN1#2", "1", "120.00", [adj("CO-45", "30.00")])
    first, second = (e.model_copy(update={"era_id": "PAYER-T1", "posted_at": "2026-11-20"}) for e in (first, second))
    for entries in ([first, second], [second, first]):
        assert superseded_by(entries) == {first.source: second.source}
        assert money(claim_totals(_claim(), entries)) == (D("120.00"), D("30.00"), D("0.00"))


@pytest.mark.parametrize(
    ("posted_at", "later"),
    [
        ("2026-11-25T09:00:00+00:00", "B"),  # posted after A's payment date
        ("2026-11-18T09:00:00+00:00", "A"),  # posted before it
        ("2026-11-20T09:00:00+00:00", "A"),  # the same day: the payment decides (PAYER-T2 after PAYER-T1)
    ],
)
def test_posting_day_stands_in_for_a_payment_date_gone_missing(posted_at: str, later: str) -> None:
    # A's payment has its ERA record (BPR16 2026-11-20); B's has none: B's posting day is its date.
    a = entry("A", "1", "96.00", [adj("CO-45", "30.00"), adj("PR-2", "24.00")], era_id="PAYER-T2")
    b = entry("B", "1", "120.00", [adj("CO-45", "30.00")], era_id="PAYER-T1", posted_at=posted_at)
    facts = {"PAYER-T2": PaymentFacts("PAYER", "20261120")}
    earlier = "B" if later == "A" else "A"
    expected = {"A": (D("96.00"), D("30.00"), D("24.00")), "B": (D("120.00"), D("30.00"), D("0.00"))}[later]
    for entries in ([a, b], [b, a]):
        assert superseded_by(entries, facts) == {earlier: later}
        assert money(claim_totals(_claim(), entries, facts)) == expected


# --- COB adjustments: what a later payer's CARC 23 says beyond the earlier payers -------------------


def test_a_co_23_citation_carries_the_difference_under_its_own_group() -> None:
    # Primary denied (CO-50 150.00); the secondary pays 40.00 citing CO-23 110.00: the 40.00 it paid of
    # the written-off amount shows as CO-23 -40.00 (the group it cited), not OA-23.
    denial = entry("D", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-11-01")
    secondary = entry("S", "2", "40.00", [adj("CO-23", "110.00")], posted_at="2026-11-10")
    for entries in itertools.permutations([denial, secondary]):
        totals = claim_totals(_claim(), list(entries))
        assert money(totals) == (D("40.00"), D("110.00"), D("0.00")) and balanced(totals)
        assert codes(totals) == [("CO", "23", D("-40.00")), ("CO", "50", D("150.00"))]


def test_citing_both_oa_23_and_co_23_carries_the_difference_under_oa_23() -> None:
    denial = entry("D", "4", "0.00", [adj("CO-50", "150.00")], posted_at="2026-11-01")
    secondary = entry("S", "2", "40.00", [adj("OA-23", "60.00"), adj("CO-23", "50.00")], posted_at="2026-11-10")
    totals = claim_totals(_claim(), [denial, secondary])
    assert money(totals) == (D("40.00"), D("110.00"), D("0.00")) and balanced(totals)
    assert codes(totals) == [("CO", "50", D("150.00")), ("OA", "23", D("-40.00"))]


def test_a_repeated_write_off_split_over_lines_is_one_write_off() -> None:
    # Both payers report CO-45 per service line (20.00 + 10.00); the secondary cites OA-23 96.00, the
    # primary's payment only: its 30.00 of CO-45 repeats the primary's, all of it.
    primary = entry("P", "1", "96.00", [adj("CO-45", "20.00"), adj("CO-45", "10.00"), adj("PR-2", "24.00")])
    secondary = entry("S", "2", "24.00", [adj("CO-45", "20.00"), adj("CO-45", "10.00"), adj("OA-23", "96.00")])
    for entries in itertools.permutations([primary, secondary]):
        assert _totals_and_outcome(list(entries)) == (
            (D("120.00"), D("30.00"), D("0.00")),
            [("CO", "45", D("30.00"))],
            "paid",
        )


@pytest.mark.parametrize(
    ("paid", "co45", "oa23", "expected"),
    [
        # It repeats CO-45 30.00 but cites 110.00 (16.00 short of the primary's 126.00): 16.00 of its
        # CO-45 is the repeat, 14.00 is its own write-off on top of the primary's.
        ("10.00", "30.00", "110.00", [("CO", "45", D("44.00"))]),
        # Its CO-45 10.00 is all repeat; the other 6.00 its CARC 23 falls short by it paid (OA-23 -6.00).
        ("30.00", "10.00", "110.00", [("CO", "45", D("30.00")), ("OA", "23", D("-6.00"))]),
    ],
)
def test_only_what_the_carc_23_falls_short_by_is_a_repeated_write_off(
    paid: str, co45: str, oa23: str, expected: list[tuple[str, str, Decimal]]
) -> None:
    secondary = entry("S", "2", paid, [adj("CO-45", co45), adj("OA-23", oa23)])
    totals = claim_totals(_claim(), [PRIMARY, secondary])
    assert balanced(totals)
    assert totals["paid_amount"] == D("96.00") + D(paid)
    assert codes(totals) == expected


# --- line amounts -----------------------------------------------------------------------------------


def test_line_allowed_after_a_service_line_without_amt_b6() -> None:
    # The payer sent AMT*B6 on its second SVC only.
    paid = PRIMARY.model_copy(update={"lines": [line(1, "76.80"), line(2, "19.20", "24.00")]})
    totals = claim_totals(_claim(), [paid])
    assert [(ln.paid_amount, ln.allowed_amount) for ln in totals["lines"]] == [
        (D("76.80"), None),
        (D("19.20"), D("24.00")),
    ]


def test_a_service_line_split_over_two_svcs_adds_up_its_allowed() -> None:
    split = PRIMARY.model_copy(
        update={"lines": [line(1, "38.40", "48.00"), line(1, "38.40", "48.00"), line(2, "19.20", "24.00")]}
    )
    totals = claim_totals(_claim(), [split])
    assert [(ln.paid_amount, ln.allowed_amount) for ln in totals["lines"]] == [
        (D("76.80"), D("96.00")),
        (D("19.20"), D("24.00")),
    ]


# --- which posting a reversal undoes ----------------------------------------------------------------


def _posting(source: str, payment: str, posted_at: str, **kw: object) -> LedgerEntry:
    """A CLP02 1 posting of CLP07 PCN1 in `payment`: 120.00 paid, CO-45 30.00 (what REVERSAL mirrors)."""
    return entry(
        source,
        "1",
        "120.00",
        [adj("CO-45", "30.00")],
        era_id=payment,
        payment_key=payment,
        payer_claim_number="PCN1",
        posted_at=posted_at,
        **kw,
    )


REVERSAL = _remit("22", "-120.00", adj("CO-45", "-30.00"), charge="-150.00")  # in payment PAYER-T2


def test_a_reversal_undoes_the_earlier_payment_not_an_identical_copy_in_its_own_payment() -> None:
    original = _posting("O", "PAYER-T1", "2026-11-01")
    copy = _posting("C", "PAYER-T2", "2026-11-20")  # the payer re-sent the same payment with the reversal
    for ledger in ([original, copy], [copy, original]):
        assert reversal_target(ledger, REVERSAL) is original


def test_an_older_posting_of_a_conflicting_copy_of_the_reversals_payment_is_of_that_payment() -> None:
    # Posted before payment keys were kept, from a conflicting file of payment T2 (era_id
    # `<payment>~<file id>`): the same payment as the reversal's, and not its exact mirror (CO-97).
    posted = entry("X", "1", "120.00", [adj("CO-97", "30.00")], era_id="PAYER-T2~F9", payer_claim_number="PCN1")
    assert reversal_target([posted], REVERSAL) is None  # it waits for its original
    other = posted.model_copy(update={"era_id": "PAYER-T1~F9"})
    assert reversal_target([other], REVERSAL) is other


def test_a_posting_of_the_reversals_own_payment_must_mirror_its_patient_responsibility_too() -> None:
    # Paid and taken back in one payment: the exact mirror, CLP05 included, is the original.
    posted = entry(
        "X",
        "1",
        "96.00",
        [adj("CO-45", "30.00"), adj("PR-2", "24.00")],
        era_id="PAYER-T2",
        payment_key="PAYER-T2",
        payer_claim_number="PCN1",
        patient_responsibility="24.00",
    )
    reversal = _remit(
        "22", "-96.00", adj("CO-45", "-30.00"), adj("PR-2", "-24.00"), charge="-150.00", patient_responsibility="-24.00"
    )
    assert reversal_target([posted], reversal) is posted
    # The same adjustments but another CLP05: not its mirror; it waits for its original.
    other_clp05 = reversal.model_copy(update={"patient_responsibility": D("-20.00")})
    assert reversal_target([posted], other_clp05) is None


def test_a_repeated_reversal_names_the_other_payments_posting_it_repeats() -> None:
    # Two postings it mirrors were reversed already: one of its own payment (posted first, listed
    # first), one of another payment. Of its own payment only an exact mirror could have been its
    # original, so it repeats the other payment's reversal.
    own = _posting("OWN", "PAYER-T2", "2026-11-01", reversed_by="R-OWN")
    own = own.model_copy(update={"adjustments": [adj("CO-97", "30.00")]})
    other = _posting("OTHER", "PAYER-T1", "2026-11-10", reversed_by="R-OTHER")
    assert already_reversed([own, other], REVERSAL) is other
    assert reversal_target([own, other], REVERSAL) is None
