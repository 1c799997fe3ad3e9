"""Posting audit regressions (in-process moto): coordination of benefits through the posting handler,
forwarded (CLP02 19) and not-our-claim (23) remittance, the posting a reversal undoes when it shares
its CLP07 with the corrected claim, and money posted on a claim no execution waits on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from medbill.billing.era import receive_era_file, reconciliation, release_era
from medbill.billing.followup import classify
from medbill.billing.posting import post_remittance
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.workflow.stages import follow_up
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.posting_harness import Posting, make_claim, reversal_of

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting, claim_id: str, status: S = S.AWAITING_REMITTANCE) -> Claim:
    return make_claim(p.repo, claim_id, dos=DOS, lines=LINES, status=status)


def _balanced(claim: Claim) -> bool:
    return claim.paid_amount + claim.adjustment_amount + claim.patient_responsibility == claim.total_charge


@pytest.mark.parametrize("correction_first", [True, False])
def test_reversal_sharing_its_clp07_with_the_correction_undoes_the_original(
    posting: Posting, correction_first: bool
) -> None:
    p = posting
    claim = _claim(p, f"SAMEPCN{int(correction_first)}")
    original = claim_payment(claim, "paid")  # allowed = paid = 120.00
    p.receive("era/sp1.835", era_for([], payer_id="PAYERA01", trace="Z900", extra_claims=[original]))
    p.post_queued()
    correction = claim_payment(claim, "short_paid", allowed_pct=D("0.70"))  # same CLP07, sorts first (A100)
    p.receive(
        "era/sp2.835",
        era_for([], payer_id="PAYERA01", trace="A100", extra_claims=[reversal_of(original), correction]),
    )
    reversal_msg, correction_msg = p.queue.take()
    order = [correction_msg, reversal_msg] if correction_first else [reversal_msg, correction_msg]
    for msg in order:
        post_remittance(p.repo, p.workflow, msg)
    got = p.claim(claim.claim_id)
    ledger = {e.era_id: e for e in p.ledger(claim.claim_id) if e.kind != "reversal"}
    assert ledger["1PAYERA010-Z900"].reversed_by is not None and ledger["1PAYERA010-A100"].reversed_by is None
    assert got.paid_amount == correction.paid == D("84.00")
    assert got.status == S.SHORT_PAID and got.remittance_outcome == "short_paid" and _balanced(got)
    # The reversal carries no AMT*B6: the original's allowed must not stay in (84.00 + 21.00, not doubled).
    assert [line.allowed_amount for line in got.lines] == [D("84.00"), D("21.00")]


def test_reversal_held_beside_its_correction_waits_for_the_original(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "HELDPCN1")
    original = claim_payment(claim, "paid")
    correction = claim_payment(claim, "short_paid")
    # The payer's reversal + correction arrive before the original's ERA is posted here.
    p.receive(
        "era/rc.835", era_for([], payer_id="PAYERA01", trace="A200", extra_claims=[reversal_of(original), correction])
    )
    assert sorted(r.result for r in p.post_queued()) == ["held", "posted"]
    assert p.claim(claim.claim_id).paid_amount == correction.paid  # not undone by its own reversal
    p.receive("era/o.835", era_for([], payer_id="PAYERA01", trace="Z200", extra_claims=[original]))
    (result,) = p.post_queued()
    assert result.result == "posted" and result.notes and "applied held reversal" in result.notes[0]
    got = p.claim(claim.claim_id)
    assert got.paid_amount == correction.paid and got.remittance_outcome == "short_paid" and _balanced(got)
    assert p.repo.held_reversals(claim.claim_id) == []


@pytest.mark.parametrize("status", [S.CHARGED, S.CLOSED, S.FAILED])
def test_money_posted_on_a_claim_not_waiting_is_a_problem_on_the_era(posting: Posting, status: S) -> None:
    p = posting
    claim = _claim(p, f"EARLY{status.value[:6]}", status=status)
    summary = p.receive("era/early.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace=f"E{status.value}"))
    (result,) = p.post_queued()
    got = p.claim(claim.claim_id)
    assert got.status == status and got.paid_amount == D("120.00")  # money posted, status kept
    assert result.problems == [
        f"status kept at {status.value}: remittance outcome paid",
        f"claim {claim.claim_id} was not waiting for remittance (status {status.value})",
    ]
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None and rec["claims"][0]["problems"] == result.problems
    assert p.repo.events(claim.claim_id)[-1].detail["problems"] == result.problems


def test_claim_waiting_for_remittance_posts_without_problems(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "WAITING01")
    summary = p.receive("era/w.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace="W1"))
    (result,) = p.post_queued()
    assert result.problems == []
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None and rec["claims"][0]["problems"] == []
    assert "problems" not in p.repo.events(claim.claim_id)[-1].detail


def test_not_our_claim_then_the_right_payer_counts_once(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "NOC01")
    disowned = claim_payment(claim, "denied")
    disowned.status_code = "23"
    for svc in disowned.lines:
        svc.adjustments = [Adjustment("OA", "109", svc.charge)]
    p.receive("era/noc.835", era_for([], payer_id="PAYERA01", trace="N1", extra_claims=[disowned]))
    p.post_queued()
    got = p.claim("NOC01")
    assert got.remittance_outcome == "not_our_claim" and got.status == S.DENIED
    assert (got.paid_amount, got.adjustment_amount, got.adjustments) == (D("0.00"), D("0.00"), [])
    assert [e.kind for e in p.ledger("NOC01")] == ["not_our_claim"]  # kept on the ledger
    assert follow_up(p.repo, "NOC01", "not_our_claim").action == "rebill_correct_payer"
    # Rebilled to the right payer, which pays: only its money counts.
    p.receive("era/right.835", era_for([(claim, "paid")], payer_id="PAYERB02", trace="R1"))
    p.post_queued()
    got = p.claim("NOC01")
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("120.00"), D("30.00"), D("0.00"))
    assert got.status == S.PAID and got.remittance_outcome == "paid" and _balanced(got)


# --- one payer level, two adjudications (re-audit 4): the later payment supersedes ---------------


def _dated(text: str, day: str) -> str:
    """The ERA with its payment date (BPR16) set to `day`."""
    head, bpr, tail = text.partition("~BPR*")
    segment, sep, rest = tail.partition("~")
    return f"{head}{bpr}{segment.rsplit('*', 1)[0]}*{day}{sep}{rest}"


def _cp(claim_id: str, status: str, paid: str, adjustments: list[tuple[str, str, str]], pcn: str) -> ClaimPayment:
    adjs = [Adjustment(g, r, D(a)) for g, r, a in adjustments]
    patient = sum((a.amount for a in adjs if a.group == "PR"), D("0.00"))
    return ClaimPayment(claim_id, status, D("150.00"), D(paid), patient, "CI", pcn, adjustments=adjs)


PAID = [("CO", "45", "30.00"), ("PR", "2", "24.00")]


@pytest.mark.parametrize("denial_lands_first", [True, False])
def test_denial_then_paid_resubmission_counts_the_payment_whatever_order_it_lands(
    posting: Posting, denial_lands_first: bool
) -> None:
    p = posting
    claim_id = f"DENPAY{int(denial_lands_first)}"
    _claim(p, claim_id)
    denial = era_for(
        [], payer_id="PAYERA01", trace="Z1", extra_claims=[_cp(claim_id, "4", "0.00", [("CO", "16", "150.00")], "PCN1")]
    )
    # The paid resubmission comes a month later, in a payment whose trace sorts first.
    paid = era_for([], payer_id="PAYERA01", trace="A1", extra_claims=[_cp(claim_id, "1", "96.00", PAID, "PCN2")])
    files = [("era/den.835", _dated(denial, "20261101")), ("era/pay.835", _dated(paid, "20261201"))]
    for key, text in files if denial_lands_first else files[::-1]:
        p.receive(key, text)
    messages = p.queue.take()
    for msg in messages if denial_lands_first else messages[::-1]:
        post_remittance(p.repo, p.workflow, msg)
    got = p.claim(claim_id)
    # Not paid 96.00, adjustments 180.00, PR 24.00 (300.00 of a 150.00 claim, follow-up resubmitting again).
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("96.00"), D("30.00"), D("24.00"))
    assert got.remittance_outcome == "short_paid" and got.status == S.SHORT_PAID and _balanced(got)
    assert follow_up(p.repo, claim_id, "short_paid").action == "bill_patient"
    assert sorted(e.kind for e in p.ledger(claim_id)) == ["denial", "payment"]  # the denial stays on the ledger


def test_a_different_payer_denying_after_the_primary_paid_is_the_secondary(posting: Posting) -> None:
    p = posting
    _claim(p, "SECDEN1")
    p.receive(
        "era/m1.835",
        era_for([], payer_id="PAYERA01", trace="M1", extra_claims=[_cp("SECDEN1", "1", "96.00", PAID, "PCNM1")]),
    )
    p.post_queued()
    # Coverage terminated (CARC 27), CLP02 4, no CARC 23: not the primary re-adjudicating its payment.
    p.receive(
        "era/m2.835",
        era_for(
            [],
            payer_id="PAYERB02",
            trace="M2",
            extra_claims=[_cp("SECDEN1", "4", "0.00", [("CO", "27", "150.00")], "SECM1")],
        ),
    )
    p.post_queued()
    got = p.claim("SECDEN1")
    assert got.paid_amount == D("96.00") and _balanced(got)  # was 96 + 180 + 24 = 300
    assert got.remittance_outcome == "denied"
    # Issue 10: CO-27 is the secondary's contractual denial (coverage terminated), never the patient's
    # bill (this asserted bill_patient with a patient balance of 0.00): find the coverage in force for
    # the 24.00 the secondary did not take over from the primary.
    assert got.patient_responsibility == D("0.00")
    assert follow_up(p.repo, "SECDEN1", "denied").action == "rebill_other_payer"
    assert p.claim("SECDEN1").follow_up_amount == D("24.00")


def test_secondary_repeating_co45_closes_the_claim_paid(posting: Posting) -> None:
    p = posting
    _claim(p, "REPCO45")
    p.receive(
        "era/c1.835",
        era_for([], payer_id="PAYERA01", trace="C1", extra_claims=[_cp("REPCO45", "1", "96.00", PAID, "PCNC1")]),
    )
    p.post_queued()
    secondary = _cp("REPCO45", "2", "24.00", [("CO", "45", "30.00"), ("OA", "23", "96.00")], "SECC1")
    p.receive("era/c2.835", era_for([], payer_id="PAYERB02", trace="C2", extra_claims=[secondary]))
    p.post_queued()
    got = p.claim("REPCO45")
    assert [(a.group, a.reason, a.amount) for a in got.adjustments] == [("CO", "45", D("30.00"))]
    assert (got.paid_amount, got.patient_responsibility) == (D("120.00"), D("0.00")) and _balanced(got)
    assert got.remittance_outcome == "paid" and got.status == S.PAID


def test_primary_reversed_after_the_secondary_paid_goes_to_review(posting: Posting) -> None:
    """Design limit (decision 11): the secondary's OA-23 still stands for the primary's 126.00, so
    nothing shows as outstanding for the patient; the claim must not look settled, though."""
    p = posting
    _claim(p, "REVPRIM")
    p.receive(
        "era/d1.835",
        era_for([], payer_id="PAYERA01", trace="D1", extra_claims=[_cp("REVPRIM", "1", "96.00", PAID, "PCND1")]),
    )
    p.post_queued()
    secondary = _cp("REVPRIM", "2", "24.00", [("OA", "23", "126.00")], "SECD1")
    p.receive("era/d2.835", era_for([], payer_id="PAYERB02", trace="D2", extra_claims=[secondary]))
    p.post_queued()
    assert p.claim("REVPRIM").remittance_outcome == "paid"
    back = ClaimPayment(
        "REVPRIM",
        "22",
        D("-150.00"),
        D("-96.00"),
        D("-24.00"),
        "CI",
        "PCND1",
        adjustments=[Adjustment("CO", "45", D("-30.00")), Adjustment("PR", "2", D("-24.00"))],
    )
    p.receive("era/d3.835", era_for([], payer_id="PAYERA01", trace="D3", extra_claims=[back]))
    p.post_queued()
    got = p.claim("REVPRIM")
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("24.00"), D("126.00"), D("0.00"))
    assert [(a.group, a.reason, a.amount) for a in got.adjustments] == [("OA", "23", D("126.00"))]
    assert got.remittance_outcome == "short_paid" and got.status == S.SHORT_PAID and _balanced(got)
    reason, action = classify(got, "short_paid")
    assert action == "review_underpayment" and "OA-23 126.00" in reason


# --- a reversal repeated, a corrected copy of a posted payment (re-audit 4) ------------------------


def test_a_second_reversal_of_a_reversed_payment_is_not_applied_to_the_correction(posting: Posting) -> None:
    p = posting
    _claim(p, "TWOREV1")
    p.receive(
        "era/h1.835",
        era_for([], payer_id="PAYERA01", trace="H1", extra_claims=[_cp("TWOREV1", "1", "96.00", PAID, "PCNH1")]),
    )
    p.post_queued()
    back = ClaimPayment(
        "TWOREV1",
        "22",
        D("-150.00"),
        D("-96.00"),
        D("-24.00"),
        "CI",
        "PCNH1",
        adjustments=[Adjustment("CO", "45", D("-30.00")), Adjustment("PR", "2", D("-24.00"))],
    )
    corrected = _cp("TWOREV1", "1", "84.00", [("CO", "45", "45.00"), ("PR", "2", "21.00")], "PCNH1")
    p.receive("era/h2.835", era_for([], payer_id="PAYERA01", trace="H2", extra_claims=[back, corrected]))
    p.post_queued()
    first_reversal = next(e.source for e in p.ledger("TWOREV1") if e.kind == "reversal")
    # The payer repeats the reversal in a later payment: it mirrors the original, already reversed.
    again = p.receive("era/h3.835", era_for([], payer_id="PAYERA01", trace="H3", extra_claims=[back]))
    messages = p.queue.take()
    (result,) = p.post(messages)
    assert result.result == "not_posted"
    original = "1PAYERA010-H1#TWOREV1#1#PCNH1#1"
    expected = [f"reverses payment {original} already reversed by {first_reversal}: not applied twice"]
    assert result.problems == expected
    got = p.claim("TWOREV1")
    # Not paid -12.00, REVERSED: the correction stands.
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("84.00"), D("45.00"), D("21.00"))
    assert got.remittance_outcome == "short_paid" and _balanced(got)
    assert [e.reversed_by is None for e in p.ledger("TWOREV1") if e.kind == "payment"].count(True) == 1
    assert p.repo.held_reversals("TWOREV1") == []  # not held for an original that never comes
    rec = reconciliation(p.repo, again.era_ids[0])
    assert rec is not None and rec["claims"][0]["result"] == "not_posted" and rec["claims"][0]["problems"] == expected
    assert rec["not_posted_total"] == "-96.00" and rec["reconciled"] is False
    assert p.repo.events("TWOREV1")[-1].detail["problems"] == expected
    # SQS delivers the message again: the same answer, and no second timeline event.
    version, events = p.claim("TWOREV1").version, len(p.repo.events("TWOREV1"))
    assert [r.result for r in p.post(messages)] == ["not_posted"]
    assert (p.claim("TWOREV1").version, len(p.repo.events("TWOREV1"))) == (version, events)


def test_a_released_copy_of_a_posted_payment_with_other_amounts_is_not_posted(posting: Posting) -> None:
    p = posting
    _claim(p, "RESENT1")
    first = era_for([], payer_id="PAYERA01", trace="TRNR1", extra_claims=[_cp("RESENT1", "1", "96.00", PAID, "PCNR1")])
    p.receive("era/r1.835", first)
    p.post_queued()
    # The same payer + TRN02 again, the claim now paid 100.00: quarantined as a copy, a person releases it.
    corrected = _cp("RESENT1", "1", "100.00", [("CO", "45", "30.00"), ("PR", "2", "20.00")], "PCNR1")
    resent = p.receive("era/r1-c.835", era_for([], payer_id="PAYERA01", trace="TRNR1", extra_claims=[corrected]))
    [copy_id] = resent.era_ids
    assert resent.quarantined
    release_era(p.repo, p.releases, copy_id, "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/r1-c.835", released=True, released_file_id=resent.file_id)
    (result,) = p.post_queued()
    problem = (
        "claim payment 1PAYERA010-TRNR1#RESENT1#1#PCNR1#1 was posted from 1PAYERA010-TRNR1 with charge 150.00 "
        "paid 96.00 patient responsibility 24.00; this copy has charge 150.00 paid 100.00 patient responsibility "
        "20.00: not posted"
    )
    assert result.result == "not_posted" and result.problems == [problem]
    rec = reconciliation(p.repo, copy_id)
    assert rec is not None and rec["claims"][0]["result"] == "not_posted" and rec["claims"][0]["problems"] == [problem]
    # Was already_posted 100.00 and reconciled, with 4.00 on no ledger.
    assert (rec["already_posted_total"], rec["not_posted_total"], rec["reconciled"]) == ("0.00", "100.00", False)
    assert p.claim("RESENT1").paid_amount == D("96.00")
    # An identical copy is still simply already posted.
    same = p.receive("era/r1-same.835", first.replace("TEST CLINIC", "TEST CLINIC B"))
    release_era(p.repo, p.releases, same.era_ids[0], "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/r1-same.835", released=True, released_file_id=same.file_id)
    (result,) = p.post_queued()
    assert result.result == "already_posted" and result.problems == []
    rec = reconciliation(p.repo, same.era_ids[0])
    assert rec is not None and rec["reconciled"] is True


@pytest.mark.parametrize("original_lands_last", [False, True])
def test_a_correction_with_the_same_paid_amount_is_not_taken_for_the_reversed_original(
    posting: Posting, original_lands_last: bool
) -> None:
    """Reversal + correction (same CLP07, same CLP03/CLP04, another breakdown) in one payment: the
    reversal undoes the original whatever order the messages land in, never the correction."""
    p = posting
    claim_id = f"SAMEPAID{int(original_lands_last)}"
    _claim(p, claim_id)
    original = _cp(claim_id, "1", "96.00", PAID, "PCNS")  # CO-45 30.00, PR-2 24.00
    back = ClaimPayment(
        claim_id,
        "22",
        D("-150.00"),
        D("-96.00"),
        D("-24.00"),
        "CI",
        "PCNS",
        adjustments=[Adjustment("CO", "45", D("-30.00")), Adjustment("PR", "2", D("-24.00"))],
    )
    corrected = _cp(claim_id, "1", "96.00", [("CO", "45", "30.00"), ("PR", "1", "24.00")], "PCNS")  # PR-1 now
    first = era_for([], payer_id="PAYERA01", trace="S1", extra_claims=[original])
    second = era_for([], payer_id="PAYERA01", trace="S2", extra_claims=[back, corrected])
    if original_lands_last:
        p.receive("era/s2.835", second)
        p.post(p.queue.take()[::-1])  # the correction posts before its reversal
        p.receive("era/s1.835", first)
        p.post_queued()
    else:
        for key, text in (("era/s1.835", first), ("era/s2.835", second)):
            p.receive(key, text)
            p.post_queued()
    standing = [e for e in p.ledger(claim_id) if e.kind == "payment" and e.reversed_by is None]
    assert [(e.era_id.endswith("S2"), [a.reason for a in e.adjustments if a.group == "PR"]) for e in standing] == [
        (True, ["1"])
    ]
    got = p.claim(claim_id)
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("96.00"), D("30.00"), D("24.00"))
    assert [a.reason for a in got.adjustments if a.group == "PR"] == ["1"]
    assert p.repo.held_reversals(claim_id) == []
