"""The public 835 samples posted against claims shaped like theirs: ledger and reconciliation to the cent.

Samples are read in place from ../shared/x12-samples/835 (see SOURCES.txt there); every test skips
with the reason when that folder is absent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from medbill.billing.era import reconciliation
from medbill.billing.ledger import superseded_by
from medbill.billing.posting import match_unmatched, payment_facts, unmatched_id
from medbill.models.status import ClaimStatus as S
from medbill.x12.remittance835 import Adjustment, ClaimPayment, Reference, RemittanceReader, ServiceLine
from testkit.era_builder import era_for
from tests.conformance.conftest import sample_text
from tests.posting_harness import Posting, make_claim
from tests.shared_data import require_dir

D = Decimal


@pytest.fixture(scope="module")
def samples_835() -> Path:
    return require_dir("x12-samples", "835")


def _no_money_moved(p: Posting, claim_ids: list[str]) -> None:
    for claim_id in claim_ids:
        assert p.repo.ledger_entries(claim_id) == [], claim_id
        claim = p.claim(claim_id)
        assert (claim.paid_amount, claim.adjustment_amount, claim.version) == (D("0.00"), D("0.00"), 0)


# --- Example1: reversals, a predetermination, denials, a PLB that BPR02 does not reflect ------------
EXAMPLE1_ERA = "1346000128-A04B001017.07504"


def _example1_claims(p: Posting) -> list[str]:
    """Every CLP01 of Example1 except 888888 (left unknown: it must land in the unmatched queue).
    Line control numbers are the REF*6R values the payer echoes."""
    spec = {
        "444444": (date(2004, 2, 5), [("H0005", ["HF", "H9"], "56.70")]),
        "999999": (date(2002, 12, 24), [("M2200", ["HE"], "25.95")]),
        "111111": (date(2003, 12, 9), [("H0005", ["HF", "H9"], "56.52")]),
        "121212": (date(2003, 12, 2), [("H0005", ["HF", "H9"], "56.52")]),
        "333333": (date(2004, 2, 3), [("A0230", ["HF"], "74.61")]),
        "777777": (date(2003, 9, 11), [("H0015", ["HF", "99", "H9"], "136.90")]),
        "123456": (date(2004, 1, 2), [("H0036", ["GT", "UK"], "42.58")]),
        "090909": (date(2004, 2, 10), [("H0004", ["HF", "H9"], "86.76")]),
    }
    for claim_id, (dos, lines) in spec.items():
        make_claim(p.repo, claim_id, dos=dos, lines=lines, control_numbers=[claim_id])
    return list(spec)


def test_example1_is_quarantined_then_released_and_reconciles_to_the_plb(posting: Posting, samples_835: Path) -> None:
    p = posting
    text = sample_text(samples_835 / "oop_835_Example1_reversals_plb.txt")
    claims = _example1_claims(p)
    key = "era/oop-example1.835"

    held = p.receive(key, text)
    assert held.quarantined and held.claims_queued == 0 and p.queue.sends == 0
    assert held.era_ids == [EXAMPLE1_ERA]
    assert any("total paid 5.75 but claims paid 5.75 - provider adjustments -1.27 = 7.02" in x for x in held.problems)
    assert any("(claim 090909): CLP03 charge and CLP04 paid are mandatory" in x for x in held.problems)
    rec = reconciliation(p.repo, EXAMPLE1_ERA)
    assert rec is not None
    assert (rec["era_status"], rec["claims_recorded"], rec["reconciled"]) == ("QUARANTINED", 0, False)
    assert p.repo.provider_adjustments(EXAMPLE1_ERA) == []  # nothing recorded from a quarantined file
    _no_money_moved(p, claims)

    released = p.receive(key, text, released=True, upload=False)
    assert not released.quarantined and released.claims_queued == 10 and released.provider_adjustments == 1
    results = {(r.claim_id, r.result) for r in p.post_queued()}
    assert results == {
        ("444444", "posted"),
        ("999999", "posted"),
        ("888888", "unmatched"),
        ("111111", "posted"),
        ("121212", "posted"),
        ("333333", "posted"),
        ("777777", "posted"),
        ("123456", "held"),
        ("090909", "held"),  # both 090909 reversals: their originals never came
    }

    rec = reconciliation(p.repo, EXAMPLE1_ERA)
    assert rec is not None
    assert rec["total_paid"] == "5.75" and rec["plb_total"] == "-1.27"
    assert (rec["posted_count"], rec["held_count"], rec["unmatched_count"]) == (6, 3, 1)
    assert (rec["posted_total"], rec["held_total"], rec["unmatched_total"]) == ("135.09", "-129.34", "0.00")
    # BPR02 5.75 = posted 135.09 + held -129.34 + unmatched 0 - PLB (-1.27) would need 7.02: off by the PLB.
    assert rec["difference"] == "-1.27" and rec["reconciled"] is False
    assert rec["era_status"] == "POSTED_WITH_UNMATCHED" and rec["claims_recorded"] == 10
    (plb,) = rec["provider_adjustments"]
    assert (plb["reason"], plb["reference"], plb["amount"], plb.get("claim_id")) == ("CV", "9876514", "-1.27", None)

    # The ledger, claim by claim.
    c = p.claim("444444")
    assert (c.status, c.paid_amount, c.adjustment_amount, c.patient_responsibility) == (
        S.SHORT_PAID,
        D("56.52"),
        D("0.18"),
        D("0.00"),
    )
    (entry,) = p.ledger("444444")
    assert (entry.kind, entry.payer_claim_number, entry.charge, entry.paid) == (
        "payment",
        "0000000655555555",
        D("56.70"),
        D("56.52"),
    )
    assert [(lp.claim_line_number, lp.match, lp.paid) for lp in entry.lines] == [(1, "control_number", D("56.52"))]
    assert c.lines[0].paid_amount == D("56.52")

    c = p.claim("999999")  # denied: CR-18 takes it all (CLP05 says 25.95, but no PR adjustment)
    assert (c.status, c.remittance_outcome, c.paid_amount, c.adjustment_amount, c.patient_responsibility) == (
        S.DENIED,
        "denied",
        D("0.00"),
        D("25.95"),
        D("0.00"),
    )
    assert [(a.group, a.reason, a.amount) for a in c.adjustments] == [("CR", "18", D("25.95"))]

    c = p.claim("111111")  # CLP02 2 (secondary), OA-23 prior payer
    assert (c.status, c.paid_amount, c.adjustment_amount) == (S.SHORT_PAID, D("18.88"), D("37.64"))

    c = p.claim("121212")  # denied; OA-23 57.60 and -1.08 net to 56.52
    assert (c.status, c.paid_amount) == (S.DENIED, D("0.00"))
    assert [(a.group, a.reason, a.amount) for a in c.adjustments] == [("OA", "23", D("56.52"))]

    c = p.claim("333333")  # patient responsibility PR-2
    assert (c.status, c.paid_amount, c.patient_responsibility, c.adjustment_amount) == (
        S.SHORT_PAID,
        D("59.69"),
        D("14.92"),
        D("0.00"),
    )

    c = p.claim("777777")  # predetermination: on the ledger, but no money and no status
    assert (c.status, c.remittance_outcome, c.paid_amount, c.adjustment_amount) == (
        S.AWAITING_REMITTANCE,
        None,
        D("0.00"),
        D("0.00"),
    )
    assert [e.kind for e in p.ledger("777777")] == ["predetermination"]

    for claim_id in ("123456", "090909"):  # held reversals: nothing on the ledger yet
        assert p.ledger(claim_id) == []
        assert p.claim(claim_id).paid_amount == D("0.00")
    held_items = p.repo.held_reversals("090909")
    assert sorted(str(i.remittance.payer_claim_number) for i in held_items) == ["", "0000000648484848"]

    unmatched = p.repo.unmatched_remittances_for("888888")
    assert [(u.claim_id, f"{u.charge:.2f}", f"{u.paid:.2f}", u.status_code) for u in unmatched] == [
        ("888888", "162.13", "0.00", "4")
    ]
    assert p.workflow.resumed == []  # none of these claims was waiting on a token

    # Released twice (a person clicks again): nothing posts twice.
    again = p.receive(key, text, released=True, upload=False)
    assert again.claims_queued == 10
    assert {r.result for r in p.post_queued()} == {"already_posted", "held", "unmatched"}
    assert len(p.repo.held_reversals("090909")) == 2
    assert len(p.repo.unmatched_remittances_for("888888")) == 1
    assert reconciliation(p.repo, EXAMPLE1_ERA)["difference"] == "-1.27"  # type: ignore[index]
    assert len(p.ledger("444444")) == 1 and p.claim("444444").paid_amount == D("56.52")


def test_example1_held_reversal_applies_when_its_original_arrives(posting: Posting, samples_835: Path) -> None:
    """The original payment for 090909 (CLP07 0000000648484848) comes in a later, balanced ERA: the
    held reversal applies and the claim nets to zero."""
    p = posting
    text = sample_text(samples_835 / "oop_835_Example1_reversals_plb.txt")
    _example1_claims(p)
    p.receive("era/oop-example1.835", text, released=True)
    p.post_queued()
    original = ClaimPayment(
        claim_id="090909",
        status_code="1",
        charge=D("86.76"),
        paid=D("86.76"),
        payer_claim_control_number="0000000648484848",
        lines=[
            ServiceLine(
                "HC",
                "H0004",
                D("86.76"),
                D("86.76"),
                modifiers=["HF", "H9"],
                references=[Reference("6R", "090909")],
                adjustments=[Adjustment("CO", "42", D("0"))],
            )
        ],
    )
    era = era_for([], payer_id="ASHTB", trace="LATE0001", extra_claims=[original])
    p.receive("era/late-original.835", era)
    (result,) = p.post_queued()
    assert result.result == "posted" and "applied held reversal" in result.notes[0]
    claim = p.claim("090909")
    assert claim.paid_amount == D("0.00") and claim.status == S.REVERSED
    kinds = {e.kind: e for e in p.ledger("090909")}
    assert set(kinds) == {"payment", "reversal"}
    assert kinds["payment"].reversed_by == kinds["reversal"].source
    assert kinds["reversal"].reverses == kinds["payment"].source
    assert (kinds["reversal"].paid, kinds["payment"].paid) == (D("-86.76"), D("86.76"))
    assert claim.lines[0].paid_amount == D("0.00")
    # The bare CLP*090909*22 (no CLP07) stays held; the Example1 ERA now has one held, not two.
    assert [str(i.remittance.payer_claim_number) for i in p.repo.held_reversals("090909")] == [""]
    rec = reconciliation(p.repo, EXAMPLE1_ERA)
    assert rec is not None
    assert (rec["posted_count"], rec["held_count"], rec["unmatched_count"]) == (7, 2, 1)
    assert (rec["posted_total"], rec["held_total"]) == ("48.33", "-42.58")
    assert rec["difference"] == "-1.27"
    late = reconciliation(p.repo, "1ASHTB0000-LATE0001")
    assert late is not None and late["difference"] == "0.00" and late["reconciled"] is True


# --- the 56-claim production file: de-identified into 9s, all three transactions unbalanced --------
NTH_TRANSACTIONS = [  # (ST02, BPR02, sum of CLP04, claims)
    ("8001", "999.99", "776.06", 19),
    ("9001", "9999.99", "3111.09", 23),
    ("10001", "482.13", "3439.89", 14),
]


def test_56_claim_file_quarantined_then_released_reconciles_each_transaction(
    posting: Posting, samples_835: Path
) -> None:
    p = posting
    text = sample_text(samples_835 / "oop_835_ExampleFromNth_56claims.txt")
    paid_by_clp01: dict[str, Decimal] = {}
    count_by_clp01: dict[str, int] = {}
    first_dos: dict[str, str] = {}
    for payment in RemittanceReader(text).payments():
        for clp in payment.iter_claims():
            paid_by_clp01[clp.claim_id] = paid_by_clp01.get(clp.claim_id, D(0)) + clp.paid
            count_by_clp01[clp.claim_id] = count_by_clp01.get(clp.claim_id, 0) + 1
            first_dos.setdefault(clp.claim_id, clp.dates["232"])
    assert len(paid_by_clp01) == 8 and sum(count_by_clp01.values()) == 56
    for clp01, dos in first_dos.items():
        d = date(int(dos[:4]), int(dos[4:6]), int(dos[6:]))
        make_claim(p.repo, clp01, dos=d, lines=[("99999", [], "999.99")])

    key = "era/oop-nth-56.835"
    held = p.receive(key, text)
    assert held.quarantined and held.claims_queued == 0 and held.payments == 3
    for _st02, bpr, clp_sum, _ in NTH_TRANSACTIONS:
        assert any(
            f"total paid {bpr} but claims paid {clp_sum} - provider adjustments 0.00" in x for x in held.problems
        )
    # One payer and one trace number for three transactions: three ERA records, not one.
    assert held.era_ids == ["9999999999-999999999", "9999999999-999999999-9001", "9999999999-999999999-10001"]
    assert any("appears again in this file at transaction 10001" in x for x in held.problems)
    for era_id in held.era_ids:
        rec = reconciliation(p.repo, era_id)
        assert rec is not None and rec["era_status"] == "QUARANTINED" and rec["claims_recorded"] == 0
    _no_money_moved(p, list(paid_by_clp01))

    released = p.receive(key, text, released=True, upload=False)
    assert released.claims_queued == 56 and released.era_ids == held.era_ids
    results = p.post_queued()
    assert [r.result for r in results] == ["posted"] * 56

    for era_id, (st02, bpr, clp_sum, n) in zip(released.era_ids, NTH_TRANSACTIONS, strict=True):
        rec = reconciliation(p.repo, era_id)
        assert rec is not None, st02
        assert (rec["total_paid"], rec["claim_count"], rec["claims_recorded"], rec["posted_count"]) == (bpr, n, n, n)
        assert rec["posted_total"] == clp_sum and rec["held_total"] == "0.00" and rec["unmatched_total"] == "0.00"
        assert rec["difference"] == f"{D(bpr) - D(clp_sum):.2f}" and rec["reconciled"] is False
        assert rec["era_status"] == "POSTED"
    assert [reconciliation(p.repo, e)["difference"] for e in released.era_ids] == [  # type: ignore[index]
        "223.93",
        "6888.90",
        "-2957.76",
    ]

    for clp01, paid in paid_by_clp01.items():
        entries = p.ledger(clp01)
        claim = p.claim(clp01)
        assert len(entries) == count_by_clp01[clp01], clp01
        # Every claim payment is on the ledger. The de-identified file gives many different claims one
        # CLP01, so to us they are one payer adjudicating one claim again and again: the later one of
        # the same service supersedes the earlier (decision 11), and only those in force count.
        assert sum((e.paid for e in entries), D(0)) == paid, clp01
        over = superseded_by(entries, payment_facts(p.repo, entries))
        entries = [e for e in entries if e.source not in over]
        assert claim.paid_amount == sum((e.paid for e in entries), D(0)), clp01
        net_adj = sum((a.amount for e in entries for a in e.adjustments), D(0))
        later = [e for e in entries if e.status_code == "4" and any(a.reason == "23" for a in e.adjustments)]
        if later:
            # A denial citing prior payers' adjudication (CARC 23) is a later payer's: its CAS 23 stands
            # for the earlier postings, so the claim balances as that payer's CLP does, not to every CAS.
            total = claim.paid_amount + claim.adjustment_amount + claim.patient_responsibility
            assert total == later[0].charge, clp01
        else:
            assert claim.adjustment_amount + claim.patient_responsibility == net_adj, clp01
        assert claim.version == count_by_clp01[clp01]  # one transaction per claim payment
    # 56 claim payments of 8 CLP01s, all dated 20120201: the last of each service in file order stands.
    # One date, one payer, one service line each: one adjudication per CLP01 stays in force (the last
    # by payment, then file order); for 9999999999-999 that is the 99.99 payment at segment 447, the
    # last of its 22 claim payments (was 1299.87 paid, every claim payment added up as if one claim
    # had been paid 13 times).
    for clp01 in paid_by_clp01:
        entries = p.ledger(clp01)
        assert len(entries) - len(superseded_by(entries, payment_facts(p.repo, entries))) == 1, clp01
    got = p.claim("9999999999-999")
    assert (got.paid_amount, got.remittance_outcome) == (D("99.99"), "paid")


# --- eMedNY (Medicaid): CLP01 is 22 characters, so none is ours until a person matches them ---------
EMEDNY_ERA = "1000000000-10100000000"


def test_emedny_unmatched_then_matched_by_a_person(posting: Posting, samples_835: Path) -> None:
    p = posting
    text = sample_text(samples_835 / "edi835p_emedny_sample.txt")
    summary = p.receive("era/emedny.835", text)
    assert not summary.quarantined and summary.problems == [] and summary.claims_queued == 3
    remits = p.queue.take()
    assert {r.claim_id for r in remits} == {"PATIENT ACCOUNT NUMBER"}
    assert [r.result for r in p.post(remits)] == ["unmatched"] * 3
    rec = reconciliation(p.repo, EMEDNY_ERA)
    assert rec is not None
    assert (rec["unmatched_count"], rec["unmatched_total"], rec["difference"], rec["reconciled"]) == (
        3,
        "45.75",
        "0.00",
        True,
    )
    assert rec["era_status"] == "POSTED_WITH_UNMATCHED"
    queue, _ = p.repo.list_unmatched_remittance()
    assert sorted(i["paid"] for i in queue) == ["0.00", "11.50", "34.25"]

    dos = date(2010, 1, 1)
    ours: dict[str, list[tuple[str, list[str], str]]] = {
        "EMEDNY-0001": [
            ("V2020", ["RB"], "6.00"),
            ("V2700", ["RB"], "2.75"),
            ("V2103", ["RB"], "5.50"),
            ("S0580", [], "20.00"),
        ],
        "EMEDNY-0002": [("V2020", [], "12.00"), ("V2103", [], "22.00")],
        "EMEDNY-0003": [
            ("V2020", ["RB"], "6.00"),
            ("V2103", ["RB"], "5.50"),
            ("V2700", ["RB"], "2.75"),
            ("S0580", [], "20.00"),
        ],
    }
    for claim_id, lines in ours.items():
        make_claim(p.repo, claim_id, dos=dos, lines=lines)
    by_position = sorted(remits, key=lambda r: r.position)
    for remit, claim_id in zip(by_position, ours, strict=True):
        result = match_unmatched(p.repo, p.workflow, unmatched_id(EMEDNY_ERA, remit.position), claim_id)  # type: ignore[arg-type]
        assert result.result == "posted" and result.claim_id == claim_id

    rec = reconciliation(p.repo, EMEDNY_ERA)
    assert rec is not None
    assert (rec["posted_count"], rec["posted_total"], rec["unmatched_count"], rec["difference"]) == (
        3,
        "45.75",
        0,
        "0.00",
    )
    assert rec["reconciled"] is True and rec["era_status"] == "POSTED"
    assert p.repo.list_unmatched_remittance()[0] == []

    c1, c2, c3 = (p.claim(c) for c in ours)
    assert (c1.status, c1.paid_amount, c1.adjustment_amount) == (S.PAID, D("34.25"), D("0.00"))
    assert [line.paid_amount for line in c1.lines] == [D("6.00"), D("2.75"), D("5.50"), D("20.00")]
    assert [line.allowed_amount for line in c1.lines] == [D("6.00"), D("2.75"), D("5.50"), D("20.00")]
    assert (c2.status, c2.paid_amount, c2.adjustment_amount) == (S.DENIED, D("0.00"), D("34.00"))
    assert [(a.group, a.reason, a.amount) for a in c2.adjustments] == [("CO", "29", D("34.00"))]
    assert (c3.status, c3.paid_amount, c3.adjustment_amount) == (S.SHORT_PAID, D("11.50"), D("22.75"))
    # Claim 3's V2103 SVC carries another date of service (20130917): kept on the ledger, unmatched.
    (entry,) = p.ledger("EMEDNY-0003")
    assert [(lp.procedure_code, lp.claim_line_number, lp.match) for lp in entry.lines] == [
        ("V2020", 1, "code_and_date"),
        ("V2103", None, "unmatched"),
        ("V2700", 3, "code_and_date"),
        ("S0580", 4, "code_and_date"),
    ]
    assert [line.paid_amount for line in c3.lines] == [D("6.00"), D("0.00"), D("0.00"), D("0.00")]
    assert sum((lp.paid for lp in entry.lines), D(0)) == c3.paid_amount
