"""What billing staff read after posting, to the character: the staff API's ledger view of a claim whose
adjudication a later one superseded, the payment facts (payer, payment date) that decide which of two
adjudications at one level counts, and which claim line a remittance line lands on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from medbill.billing import claim_updates
from medbill.billing.ledger import PaymentFacts
from medbill.billing.posting import claim_ledger, payment_facts, post_remittance
from medbill.models.claim import Claim
from medbill.models.remittance import LedgerEntry
from medbill.models.status import ClaimStatus as S
from medbill.ports import ConcurrentUpdate
from medbill.x12.remittance835 import ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.fakes import FakeStore
from tests.posting_harness import Posting, make_claim, reversal_of

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting, claim_id: str) -> Claim:
    return make_claim(p.repo, claim_id, dos=DOS, lines=LINES)


def _receive(p: Posting, trace: str, payment_date: str, *claims: ClaimPayment, trn03: bool = True) -> str:
    text = era_for([], payer_id="PAYERA01", trace=trace, extra_claims=list(claims), payment_date=payment_date)
    if not trn03:  # a payer that sends no TRN03 (originating company id): the ERA id is REF*2U + TRN02
        text = text.replace(f"TRN*1*{trace}*1PAYERA010", f"TRN*1*{trace}")
    (era_id,) = p.receive(f"era/{trace}.835", text).era_ids
    p.post_queued()
    return era_id


def _later_dated_second(p: Posting, claim: Claim, *, trn03: bool = True) -> tuple[str, str]:
    """The primary payer's full payment dated 2026-11-10 (TRN02 Z1) posts first; its short payment
    dated 2026-11-25 (TRN02 A1), the later adjudication, posts second. Posted the same day, only the
    ERA's payment date tells them apart (by payment key, Z1 would be the later)."""
    older = _receive(p, "Z1", "20261110", claim_payment(claim, "paid"), trn03=trn03)
    later = _receive(p, "A1", "20261125", claim_payment(claim, "short_paid"), trn03=trn03)
    return later, older


def test_the_ledger_view_of_a_claim_whose_adjudication_was_superseded(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "LEDGER01")
    p.repo.save(p.claim("LEDGER01").model_copy(update={"replaces": "ORIGINAL1"}), actor="corrections")
    later, older = _later_dated_second(p, claim)
    later_src, older_src = f"{later}#LEDGER01#1#PCNLEDGER01#1", f"{older}#LEDGER01#1#PCNLEDGER01#1"

    view = claim_ledger(p.repo, "LEDGER01")

    # The totals are the later-dated adjudication's (the short payment), whatever order they posted in.
    assert {k: v for k, v in view.items() if k != "entries"} == {
        "claim_id": "LEDGER01",
        "paid_amount": "96.00",
        "adjustment_amount": "30.00",
        "patient_responsibility": "24.00",
        "patient_balance": "24.00",
        "replaces": "ORIGINAL1",
        "replaced_by": None,
    }
    # Oldest posting first (not source order: A1 sorts before Z1), each saying what superseded it.
    assert [
        (e["source"], e["payment_key"], e["paid"], e["patient_responsibility"], e["payment_date"], e["superseded_by"])
        for e in view["entries"]
    ] == [
        (older_src, older, "120.00", "0.00", "20261110", later_src),
        (later_src, later, "96.00", "24.00", "20261125", None),
    ]
    # Every entry is the stored posting as JSON (amounts as strings), plus superseded_by.
    stored = {e.source: e for e in p.repo.ledger_entries("LEDGER01")}
    for entry in view["entries"]:
        assert entry == {**stored[entry["source"]].model_dump(mode="json"), "superseded_by": entry["superseded_by"]}
        assert set(entry) == {*LedgerEntry.model_fields, "superseded_by"}
    assert [line["paid"] for e in view["entries"] for line in e["lines"]] == ["96.00", "24.00", "76.80", "19.20"]


def test_the_ledger_view_of_a_claim_nothing_superseded(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "LEDGER02")
    era_id = _receive(p, "L2", "20261125", claim_payment(claim, "paid"))

    view = claim_ledger(p.repo, "LEDGER02")

    assert {k: v for k, v in view.items() if k != "entries"} == {
        "claim_id": "LEDGER02",
        "paid_amount": "120.00",
        "adjustment_amount": "30.00",
        "patient_responsibility": "0.00",
        "patient_balance": "0.00",
        "replaces": None,
        "replaced_by": None,
    }
    assert [(e["source"], e["kind"], e["paid"], e["superseded_by"]) for e in view["entries"]] == [
        (f"{era_id}#LEDGER02#1#PCNLEDGER02#1", "payment", "120.00", None)
    ]


def test_payment_facts_name_the_payer_and_date_of_two_adjudications_at_one_level(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "FACTS001")
    later, older = _later_dated_second(p, claim)

    assert (later, older) == ("1PAYERA010-A1", "1PAYERA010-Z1")
    assert payment_facts(p.repo, p.repo.ledger_entries("FACTS001")) == {
        "1PAYERA010-A1": PaymentFacts(payer="1PAYERA010", date="20261125"),
        "1PAYERA010-Z1": PaymentFacts(payer="1PAYERA010", date="20261110"),
    }
    got = p.claim("FACTS001")
    assert (got.paid_amount, got.patient_responsibility, got.remittance_outcome) == (
        D("96.00"),
        D("24.00"),
        "short_paid",
    )


def test_payment_facts_without_a_trn03_take_the_payer_from_the_era_id(posting: Posting) -> None:
    """No TRN03: the ERA record has no payer id, and the ERA id is `<REF*2U>-<TRN02>`."""
    p = posting
    claim = _claim(p, "FACTS002")
    later, older = _later_dated_second(p, claim, trn03=False)

    assert (later, older) == ("PAYERA01-A1", "PAYERA01-Z1")
    assert payment_facts(p.repo, p.repo.ledger_entries("FACTS002")) == {
        "PAYERA01-A1": PaymentFacts(payer="PAYERA01", date="20261125"),
        "PAYERA01-Z1": PaymentFacts(payer="PAYERA01", date="20261110"),
    }
    got = p.claim("FACTS002")
    assert (got.paid_amount, got.patient_responsibility, got.remittance_outcome) == (
        D("96.00"),
        D("24.00"),
        "short_paid",
    )


def test_payment_facts_without_the_era_records_are_empty(posting: Posting) -> None:
    """ERA records gone (or another store): no payer, no date; the posting day then stands in."""
    p = posting
    claim = _claim(p, "FACTS005")
    _later_dated_second(p, claim)

    assert payment_facts(FakeStore(), p.repo.ledger_entries("FACTS005")) == {
        "1PAYERA010-A1": PaymentFacts(payer="", date=""),
        "1PAYERA010-Z1": PaymentFacts(payer="", date=""),
    }


def test_payment_facts_are_not_read_when_the_levels_alone_decide(posting: Posting) -> None:
    """One adjudication, or one per payer level (primary CLP02 1, secondary 2): nothing to read."""
    p = posting
    denied = _claim(p, "FACTS003")
    _receive(p, "D3", "20261110", claim_payment(denied, "denied"))
    assert [e.status_code for e in p.repo.ledger_entries("FACTS003")] == ["4"]
    assert payment_facts(p.repo, p.repo.ledger_entries("FACTS003")) == {}

    cob = _claim(p, "FACTS004")
    _receive(p, "P4", "20261110", claim_payment(cob, "short_paid"))
    secondary = claim_payment(cob, "paid", allowed_pct=D("0.16"))
    secondary.status_code, secondary.payer_claim_control_number = "2", "PCNSECOND4"
    _receive(p, "S4", "20261120", secondary)
    assert sorted(e.status_code for e in p.repo.ledger_entries("FACTS004")) == ["1", "2"]
    assert payment_facts(p.repo, p.repo.ledger_entries("FACTS004")) == {}


def test_a_remittance_line_with_other_modifiers_lands_on_the_unmatched_line_of_its_code(posting: Posting) -> None:
    """No REF*6R: code + modifiers + date. The second 99213 (modifier 59, on no line of ours) goes to
    the 99213 line not matched yet, not back to the one the first took."""
    p = posting
    claim = make_claim(p.repo, "SPLIT001", dos=DOS, lines=[("99213", ["25"], "120.00"), ("99213", [], "30.00")])
    cp = claim_payment(claim, "paid")
    for svc, mods in zip(cp.lines, (["25"], ["59"]), strict=True):
        svc.references, svc.modifiers = [], mods
    _receive(p, "SP1", "20261110", cp)

    (entry,) = p.repo.ledger_entries("SPLIT001")
    assert [(line.claim_line_number, line.match, line.modifiers, line.paid) for line in entry.lines] == [
        (1, "code_and_date", ["25"], D("96.00")),
        (2, "code_and_date", ["59"], D("24.00")),
    ]


def test_claim_remarks_and_the_statement_date_reach_the_ledger_entry(posting: Posting) -> None:
    """MOA remark codes are the entry's remarks. Lines with no date of their own (no DTM*472) and no
    REF*6R take the claim's statement date (DTM*232): a date that is not the claim's date of service
    matches no line."""
    p = posting
    for claim_id, statement in (("STMT0001", "20261005"), ("STMT0002", "20261006")):
        cp = claim_payment(_claim(p, claim_id), "paid")
        cp.dates, cp.outpatient = {"232": statement}, ["", "", "MA01", "N130"]
        for svc in cp.lines:
            svc.references, svc.dates = [], {}
        _receive(p, f"ST{claim_id[-1]}", "20261110", cp)

    (same_day,) = p.repo.ledger_entries("STMT0001")
    (other_day,) = p.repo.ledger_entries("STMT0002")
    assert (same_day.remarks, other_day.remarks) == (["MA01", "N130"], ["MA01", "N130"])
    assert [(line.claim_line_number, line.match) for line in same_day.lines] == [
        (1, "code_and_date"),
        (2, "code_and_date"),
    ]
    assert [(line.claim_line_number, line.match) for line in other_day.lines] == [
        (None, "unmatched"),
        (None, "unmatched"),
    ]


def test_an_older_adjudication_delivered_late_does_not_end_the_crossover_wait(posting: Posting) -> None:
    """The payer's forwarded adjudication (CLP02 19, dated 2026-11-25) posts first and the claim waits
    for the crossover payer; its older one (CLP02 1, dated 2026-11-10) arrives after it and is
    superseded by it, so the wait stays."""
    p = posting
    claim = _claim(p, "XOVER001")
    forwarded = claim_payment(claim, "short_paid")
    forwarded.status_code = "19"
    _receive(p, "A1", "20261125", forwarded)
    reason = (
        "processed as primary and forwarded to the next payer (CLP02 19): "
        "patient responsibility 24.00 goes to the crossover payer first"
    )
    assert (p.claim("XOVER001").follow_up_action, p.claim("XOVER001").follow_up_reason) == (
        "await_crossover_payer",
        reason,
    )

    _receive(p, "Z1", "20261110", claim_payment(claim, "short_paid"))

    got = p.claim("XOVER001")
    assert (got.follow_up_action, got.follow_up_reason) == ("await_crossover_payer", reason)
    assert (got.remittance_outcome, got.paid_amount, got.patient_responsibility) == (
        "short_paid",
        D("96.00"),
        D("24.00"),
    )
    view = claim_ledger(p.repo, "XOVER001")
    assert [(e["status_code"], e["superseded_by"]) for e in view["entries"]] == [
        ("19", None),
        ("1", "1PAYERA010-A1#XOVER001#19#PCNXOVER001#1"),
    ]


def test_the_crossover_payers_posting_clears_the_wait_and_its_reason(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "XOVER002")
    forwarded = claim_payment(claim, "short_paid")
    forwarded.status_code = "19"
    _receive(p, "X2P", "20261110", forwarded)
    assert p.claim("XOVER002").follow_up_action == "await_crossover_payer"
    secondary = claim_payment(claim, "paid", allowed_pct=D("0.16"))
    secondary.status_code, secondary.payer_claim_control_number = "2", "PCNSECOND2"

    _receive(p, "X2S", "20261120", secondary)

    got = p.claim("XOVER002")
    assert (got.follow_up_action, got.follow_up_reason) == (None, None)


def test_a_reversal_keeps_the_claims_payer_claim_number_of_the_correction(posting: Posting) -> None:
    """The payer's correction (CLP07 PCNNEW) posts after the original (PCNLEDGER…); the reversal of the
    original carries the old CLP07: the claim keeps the correction's number."""
    p = posting
    claim = _claim(p, "PCNKEEP1")
    original = claim_payment(claim, "paid")
    _receive(p, "K1", "20261101", original)
    correction = claim_payment(claim, "short_paid")
    correction.payer_claim_control_number = "PCNNEW01"
    _receive(p, "K2", "20261110", correction)
    assert p.claim("PCNKEEP1").payer_claim_number == "PCNNEW01"

    _receive(p, "K3", "20261112", reversal_of(original))

    got = p.claim("PCNKEEP1")
    assert (got.payer_claim_number, got.paid_amount, got.remittance_outcome) == ("PCNNEW01", D("96.00"), "short_paid")


def test_a_line_the_payer_recoded_but_sent_with_our_code_keeps_its_code_match(posting: Posting) -> None:
    """SVC01 is a code on our claim; SVC06 names another (99214, on no line of ours): the line matches
    by its code and date, the original code is not needed."""
    p = posting
    claim = make_claim(
        p.repo, "RECODE01", dos=DOS, lines=[("99213", ["25"], "120.00"), ("36415", [], "30.00")], units=["2", "1"]
    )
    cp = claim_payment(claim, "paid")
    for svc in cp.lines:
        svc.references = []
    cp.lines[0].original_procedure = ["HC", "99214"]
    cp.lines[0].remarks = [("HE", "M15")]
    _receive(p, "RC1", "20261110", cp)

    view = claim_ledger(p.repo, "RECODE01")
    (entry,) = view["entries"]
    assert [
        (line["claim_line_number"], line["match"], line["procedure_code"], line["units"], line["remarks"])
        for line in entry["lines"]
    ] == [(1, "code_and_date", "99213", "2", ["M15"]), (2, "code_and_date", "36415", "1", [])]


def test_a_claim_losing_every_write_race_is_retried_five_times_with_growing_jitter(
    posting: Posting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each posting attempt loses the version race to another writer: five reads, a back-off of up to
    0.02 s x 2^attempt between them, then ConcurrentUpdate (SQS delivers the message again)."""
    p = posting
    claim = _claim(p, "RACING01")
    p.receive("era/race.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace="RACE1"))
    (msg,) = p.queue.take()
    slept: list[object] = []
    monkeypatch.setattr(claim_updates.time, "sleep", slept.append)
    monkeypatch.setattr(claim_updates.random, "uniform", lambda low, high: (low, high))

    def rival(_claim: Claim) -> None:
        p.repo.before_write = None
        p.repo.save(p.claim("RACING01"), actor="rival")
        p.repo.before_write = rival

    p.repo.before_write = rival
    with pytest.raises(ConcurrentUpdate) as lost:
        post_remittance(p.repo, p.workflow, msg)
    p.repo.before_write = None

    assert str(lost.value) == "claim RACING01 was changed concurrently"
    assert slept == [(0, 0.02), (0, 0.04), (0, 0.08), (0, 0.16), (0, 0.32)]
    assert p.repo.ledger_entries("RACING01") == []
    assert [e.actor for e in p.repo.events("RACING01")] == ["intake", *["rival"] * 5]

    (result,) = p.post([msg])  # the redelivery, with no rival
    assert (result.result, result.outcome) == ("posted", "paid")


def test_money_on_a_failed_claim_does_not_resume_its_stale_wait(posting: Posting) -> None:
    """A FAILED claim keeps its status (only a staff retry leaves it), so the token it still carries
    is not resumed, even with a remittance outcome on the claim."""
    p = posting
    claim = make_claim(p.repo, "FAILTOK1", dos=DOS, lines=LINES, status=S.FAILED)
    p.repo.save(p.claim("FAILTOK1").model_copy(update={"task_token": "TOKEN-FAILED"}), actor="workflow")
    p.receive("era/ft.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace="FT1"))

    (result,) = p.post_queued()

    assert (result.result, result.outcome, result.resumed, result.problems) == (
        "posted",
        "paid",
        False,
        ["status kept at FAILED: remittance outcome paid"],
    )
    got = p.claim("FAILTOK1")
    assert (got.status, got.task_token, got.remittance_outcome) == (S.FAILED, "TOKEN-FAILED", "paid")
    assert p.workflow.resumed == []


def test_a_redelivery_after_a_failed_resume_resumes_the_wait(posting: Posting) -> None:
    """The posting committed but SendTaskSuccess failed (throttled): the message comes again, finds it
    posted, and resumes the execution the first delivery could not."""
    p = posting
    _claim(p, "RESUME01")
    p.repo.save(p.claim("RESUME01").model_copy(update={"task_token": "TOKEN-R1"}), actor="workflow")
    p.receive("era/rs.835", era_for([(p.claim("RESUME01"), "paid")], payer_id="PAYERA01", trace="RS1"))
    (msg,) = p.queue.take()
    p.workflow.resume_error = RuntimeError("ThrottlingException")
    with pytest.raises(RuntimeError):
        post_remittance(p.repo, p.workflow, msg)
    p.workflow.resume_error = None
    assert (p.claim("RESUME01").status, p.claim("RESUME01").task_token) == (S.PAID, "TOKEN-R1")

    (again,) = p.post([msg])

    assert (again.result, again.outcome, again.resumed, again.notes) == ("already_posted", "paid", True, [])
    assert p.workflow.resumed == [("TOKEN-R1", {"outcome": "paid"})]
    assert p.claim("RESUME01").task_token is None
