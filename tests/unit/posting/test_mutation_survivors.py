"""Posting behaviours no test pinned before issue 16 (each one a mutant that survived the suite):
a redelivered reversal, a forwarded claim paid in full, a 0.00 claim payment that is not posted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from medbill.billing.era import receive_era_file, reconciliation, release_era
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.posting_harness import Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]
PAID = [("CO", "45", "30.00"), ("PR", "2", "24.00")]


def _claim(p: Posting, claim_id: str) -> Claim:
    return make_claim(p.repo, claim_id, dos=DOS, lines=LINES)


def _cp(claim_id: str, status: str, paid: str, adjustments: list[tuple[str, str, str]], pcn: str) -> ClaimPayment:
    adjs = [Adjustment(g, r, D(a)) for g, r, a in adjustments]
    patient = sum((a.amount for a in adjs if a.group == "PR"), D("0.00"))
    return ClaimPayment(claim_id, status, D("150.00"), D(paid), patient, "CI", pcn, adjustments=adjs)


def _reversal(claim_id: str, pcn: str) -> ClaimPayment:
    return ClaimPayment(
        claim_id,
        "22",
        D("-150.00"),
        D("-96.00"),
        D("-24.00"),
        "CI",
        pcn,
        adjustments=[Adjustment("CO", "45", D("-30.00")), Adjustment("PR", "2", D("-24.00"))],
    )


def test_a_redelivered_applied_reversal_is_already_posted_and_changes_nothing(posting: Posting) -> None:
    """Killed mutant: posting without the "source already on the ledger" check (the redelivery then
    took the held path: a held reversal for an original that never comes, retried into the DLQ)."""
    p = posting
    _claim(p, "REVAGAIN")
    p.receive(
        "era/ra1.835",
        era_for([], payer_id="PAYERA01", trace="RA1", extra_claims=[_cp("REVAGAIN", "1", "96.00", PAID, "PCNRA")]),
    )
    p.post_queued()
    summary = p.receive(
        "era/ra2.835", era_for([], payer_id="PAYERA01", trace="RA2", extra_claims=[_reversal("REVAGAIN", "PCNRA")])
    )
    messages = p.queue.take()
    assert [r.result for r in p.post(messages)] == ["posted"]
    before = p.claim("REVAGAIN")
    ledger, events = p.ledger("REVAGAIN"), p.repo.events("REVAGAIN")
    assert (before.paid_amount, before.status, before.remittance_outcome) == (D("0.00"), S.REVERSED, "reversed")

    (again,) = p.post(messages)  # SQS delivers the reversal again

    assert (again.result, again.outcome, again.problems, again.notes) == ("already_posted", "reversed", [], [])
    after = p.claim("REVAGAIN")
    assert (after.version, after.paid_amount, after.status) == (before.version, D("0.00"), S.REVERSED)
    assert p.ledger("REVAGAIN") == ledger
    assert p.repo.events("REVAGAIN") == events
    assert p.repo.held_reversals("REVAGAIN") == []
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None
    # The ERA keeps the first result recorded for the position: posted once, nothing held.
    assert [c["result"] for c in rec["claims"]] == ["posted"]
    assert (rec["posted_total"], rec["held_count"], rec["difference"], rec["reconciled"]) == (
        "-96.00",
        0,
        "0.00",
        True,
    )


def test_a_forwarded_claim_paid_in_full_waits_for_no_crossover(posting: Posting) -> None:
    """Killed mutant: the crossover wait set whatever the outcome (CLP02 19 paid in full has nothing
    for the next payer to pay: no follow-up)."""
    p = posting
    _claim(p, "FWDPAID")
    forwarded = _cp("FWDPAID", "19", "120.00", [("CO", "45", "30.00")], "PCNFP")
    p.receive("era/fp.835", era_for([], payer_id="PAYERA01", trace="FP1", extra_claims=[forwarded]))
    (result,) = p.post_queued()
    got = p.claim("FWDPAID")
    assert (result.result, result.outcome) == ("posted", "paid")
    assert (got.status, got.remittance_outcome) == (S.PAID, "paid")
    assert (got.follow_up_action, got.follow_up_reason) == (None, None)
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("120.00"), D("30.00"), D("0.00"))
    assert p.repo.events("FWDPAID")[-1].detail == {
        "era_id": "1PAYERA010-FP1",
        "clp02": "19",
        "paid": "120.00",
        "outcome": "paid",
        "kind": "payment",
        "forwarded": True,
    }


def test_a_forwarded_claim_short_paid_waits_for_the_crossover_payer(posting: Posting) -> None:
    """The other side of the rule above: a patient balance on a forwarded claim waits."""
    p = posting
    _claim(p, "FWDSHORT")
    forwarded = _cp("FWDSHORT", "19", "96.00", PAID, "PCNFS")
    p.receive("era/fs.835", era_for([], payer_id="PAYERA01", trace="FS1", extra_claims=[forwarded]))
    p.post_queued()
    got = p.claim("FWDSHORT")
    assert (got.status, got.follow_up_action) == (S.SHORT_PAID, "await_crossover_payer")
    assert got.follow_up_reason == (
        "processed as primary and forwarded to the next payer (CLP02 19): "
        "patient responsibility 24.00 goes to the crossover payer first"
    )


def test_a_zero_dollar_claim_payment_not_posted_leaves_the_era_unreconciled(posting: Posting) -> None:
    """Killed mutant: `reconciled` ignoring the not-posted count. A released copy of a denial (paid
    0.00) with another patient responsibility is not posted; its amount is 0.00, so only the count
    tells the ERA is not settled."""
    p = posting
    _claim(p, "ZERONP")
    denial = _cp("ZERONP", "4", "0.00", [("CO", "16", "150.00")], "PCNZ")
    p.receive("era/z1.835", era_for([], payer_id="PAYERA01", trace="TRNZ1", extra_claims=[denial]))
    p.post_queued()
    changed = _cp("ZERONP", "4", "0.00", [("CO", "16", "100.00"), ("PR", "1", "50.00")], "PCNZ")
    resent = p.receive("era/z1-c.835", era_for([], payer_id="PAYERA01", trace="TRNZ1", extra_claims=[changed]))
    [copy_id] = resent.era_ids
    assert resent.quarantined
    release_era(p.repo, p.releases, copy_id, "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/z1-c.835", released=True, released_file_id=resent.file_id)
    (result,) = p.post_queued()
    assert result.result == "not_posted"
    rec = reconciliation(p.repo, copy_id)
    assert rec is not None
    assert (rec["total_paid"], rec["not_posted_count"], rec["not_posted_total"], rec["difference"]) == (
        "0.00",
        1,
        "0.00",
        "0.00",
    )
    assert rec["claims_recorded"] == 1 and rec["reconciled"] is False
    got = p.claim("ZERONP")
    assert (got.paid_amount, got.patient_responsibility, got.remittance_outcome) == (D("0.00"), D("0.00"), "denied")
