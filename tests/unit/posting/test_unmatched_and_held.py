"""Unmatched claim payments and held reversals, as billing staff see them: the unmatched work item and
the ERA's result when a CLP01 names no claim of ours, a person matching it (who the timeline names,
what is consumed, the exact refusals), payments posted when the claim's execution starts waiting, and
a reversal that arrives before its original: held once, then applied once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from medbill.billing.era import receive_era_file, release_era
from medbill.billing.posting import (
    PostingResult,
    UnmatchedNotFound,
    match_unmatched,
    post_remittance,
    post_waiting_unmatched,
)
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.ports import UnmatchedRemittance
from medbill.x12.remittance835 import ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.fakes import racing
from tests.posting_harness import Posting, make_claim, reversal_of

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]
STAFF = "staff:jdoe"


def _claim(p: Posting, claim_id: str, *, token: str | None = None) -> Claim:
    claim = make_claim(p.repo, claim_id, dos=DOS, lines=LINES)
    if token:
        p.repo.save(p.claim(claim_id).model_copy(update={"task_token": token}), actor="workflow")
    return claim


def _other_id(cp: ClaimPayment, clp01: str) -> ClaimPayment:
    """The claim payment with a CLP01 the payer garbled (no claim of ours has it)."""
    cp.claim_id = clp01
    return cp


def _receive(p: Posting, key: str, trace: str, *claims: ClaimPayment, payment_date: str = "20261125") -> str:
    summary = p.receive(
        key, era_for([], payer_id="PAYERA01", trace=trace, extra_claims=list(claims), payment_date=payment_date)
    )
    (era_id,) = summary.era_ids
    return era_id


def _unmatched_ids(p: Posting) -> list[str]:
    items, _ = p.repo.list_unmatched_remittance()
    return [item["unmatched_id"] for item in items]


def _result_fields(p: Posting, era_id: str, position: int = 10) -> tuple[object, ...]:
    got = p.repo.era_result(era_id, position)
    assert got is not None
    return (got["claim_id"], got["clp01"], got["result"], got.get("outcome"), got["problems"])


# --- an unknown CLP01: recorded, then matched by a person ------------------------------------------
def test_an_unknown_claim_payment_is_kept_as_an_unmatched_work_item(posting: Posting) -> None:
    p = posting
    ghost = make_claim(type(p.repo)(), "GHOST01", dos=DOS, lines=LINES)  # a claim this store does not know
    era_id = _receive(p, "era/u1.835", "U1", claim_payment(ghost, "paid"))

    (result,) = p.post_queued()

    assert result == PostingResult("GHOST01", "1PAYERA010-U1", 10, "unmatched")
    items, token = p.repo.list_unmatched_remittance()
    assert token is None
    assert [{k: v for k, v in item.items() if k != "updated_at"} for item in items] == [
        {
            "status": "UNMATCHED_REMITTANCE",
            "unmatched_id": "1PAYERA010-U1~10",
            "era_id": "1PAYERA010-U1",
            "position": 10,
            "clp01": "GHOST01",
            "status_code": "1",
            "charge": "150.00",
            "paid": "120.00",
            "payer_id": "1PAYERA010",
        }
    ]
    # On the ERA: no claim of ours ("" as the claim id), CLP01 as sent.
    recorded = p.repo.era_result(era_id, 10)
    assert recorded is not None and recorded.pop("recorded_at")
    assert recorded == {
        "position": 10,
        "claim_id": "",
        "clp01": "GHOST01",
        "result": "unmatched",
        "status_code": "1",
        "charge": "150.00",
        "paid": "120.00",
        "payer_claim_number": "PCNGHOST01",
        "problems": [],
    }


def test_a_person_matches_an_unmatched_payment_to_a_claim(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "REAL0001", token="TOKEN-REAL")
    era_id = _receive(p, "era/m1.835", "M1", _other_id(claim_payment(claim, "short_paid"), "REAL00O1"))
    p.post_queued()
    events_before = len(p.repo.events("REAL0001"))

    result = match_unmatched(p.repo, p.workflow, "1PAYERA010-M1~10", "REAL0001", actor=STAFF)

    assert result == PostingResult("REAL0001", era_id, 10, "posted", outcome="short_paid", resumed=True)
    got = p.claim("REAL0001")
    assert (got.status, got.paid_amount, got.adjustment_amount, got.patient_responsibility, got.task_token) == (
        S.SHORT_PAID,
        D("96.00"),
        D("30.00"),
        D("24.00"),
        None,
    )
    assert p.workflow.resumed == [("TOKEN-REAL", {"outcome": "short_paid"})]
    assert _unmatched_ids(p) == []
    assert _result_fields(p, era_id) == ("REAL0001", "REAL00O1", "posted", "short_paid", [])
    new = p.repo.events("REAL0001")[events_before:]
    assert [(e.actor, e.old_status, e.new_status, e.detail) for e in new] == [
        (
            STAFF,
            "AWAITING_REMITTANCE",
            "SHORT_PAID",
            {"era_id": era_id, "clp02": "1", "paid": "96.00", "outcome": "short_paid", "kind": "payment"},
        ),
        ("posting", None, "SHORT_PAID", {"resumed": True}),
    ]
    # Matched once: the item is gone, so a second match is refused.
    with pytest.raises(UnmatchedNotFound) as refused:
        match_unmatched(p.repo, p.workflow, "1PAYERA010-M1~10", "REAL0001", actor=STAFF)
    assert str(refused.value) == "no unmatched remittance 1PAYERA010-M1~10"


def test_matched_without_a_named_person_the_timeline_says_posting(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "NOACTOR1")
    _receive(p, "era/na.835", "NA1", _other_id(claim_payment(claim, "paid"), "NOACTORI"))
    p.post_queued()

    match_unmatched(p.repo, p.workflow, "1PAYERA010-NA1~10", "NOACTOR1")

    last = p.repo.events("NOACTOR1")[-1]
    assert (last.actor, last.new_status, last.detail["outcome"]) == ("posting", "PAID", "paid")


@pytest.mark.parametrize(
    "item_id",
    [
        "1PAYERA010-X1~ten",  # not a position
        "1PAYERA010-X1",  # no position at all
        "~10",  # no ERA
        "1PAYERA010-X1~10~",  # the position is empty
        "1PAYERA010-NONE~10",  # no such ERA result
        "1PAYERA010-X1~11",  # a position with no claim payment
        "1PAYERA010-X1~12",  # a claim payment that posted (not unmatched)
    ],
)
def test_matching_what_is_not_an_unmatched_payment_is_refused_and_changes_nothing(
    posting: Posting, item_id: str
) -> None:
    p = posting
    claim = _claim(p, "REFUSE01")
    other = _claim(p, "POSTED01")
    ghost = _other_id(claim_payment(claim, "paid"), "REFUSEO1")
    _receive(p, "era/x1.835", "X1", ghost, claim_payment(other, "paid"))
    p.post_queued()
    assert _unmatched_ids(p) == ["1PAYERA010-X1~10"]
    version = p.claim("REFUSE01").version

    with pytest.raises(UnmatchedNotFound) as refused:
        match_unmatched(p.repo, p.workflow, item_id, "REFUSE01", actor=STAFF)

    assert str(refused.value) == f"no unmatched remittance {item_id}"
    assert _unmatched_ids(p) == ["1PAYERA010-X1~10"]
    assert p.claim("REFUSE01").version == version


def test_an_item_another_person_took_meanwhile_is_refused(posting: Posting) -> None:
    """Between the result's read and the lookup of the payment, another match consumed it."""
    p = posting
    claim = _claim(p, "TAKEN001")
    _receive(p, "era/t1.835", "T1", _other_id(claim_payment(claim, "paid"), "TAKENOO1"))
    p.post_queued()
    (remit,) = p.repo.unmatched_remittances_for("TAKENOO1")
    p.repo.discard_work_item(UnmatchedRemittance(remit))

    with pytest.raises(UnmatchedNotFound) as refused:
        match_unmatched(p.repo, p.workflow, "1PAYERA010-T1~10", "TAKEN001", actor=STAFF)

    assert str(refused.value) == "no unmatched remittance 1PAYERA010-T1~10"
    assert p.repo.ledger_entries("TAKEN001") == []


def test_two_people_matching_one_payment_at_once_post_it_once(posting: Posting) -> None:
    """The second write finds the item consumed by the first: refused, as if it had never been there."""
    p = posting
    first = _claim(p, "RACEA001")
    _claim(p, "RACEB001")
    _receive(p, "era/r1.835", "R1", _other_id(claim_payment(first, "paid"), "RACE0001"))
    p.post_queued()
    won: list[PostingResult] = []

    with (
        racing(
            p.repo,
            "RACEB001",
            lambda: won.append(match_unmatched(p.repo, p.workflow, "1PAYERA010-R1~10", "RACEA001", actor="staff:a")),
        ),
        pytest.raises(UnmatchedNotFound) as lost,
    ):
        match_unmatched(p.repo, p.workflow, "1PAYERA010-R1~10", "RACEB001", actor="staff:b")

    assert str(lost.value) == "no unmatched remittance 1PAYERA010-R1~10"
    assert [(r.claim_id, r.result, r.outcome) for r in won] == [("RACEA001", "posted", "paid")]
    assert (p.claim("RACEA001").paid_amount, p.claim("RACEB001").paid_amount) == (D("120.00"), D("0.00"))
    assert p.repo.ledger_entries("RACEB001") == []
    assert _unmatched_ids(p) == []


def test_an_unmatched_payment_in_a_released_conflicting_file_is_matched_by_its_id(posting: Posting) -> None:
    """A conflicting file's ERA id is `<payment>~<file id>`: the unmatched id splits at its last `~`."""
    p = posting
    known, claim = _claim(p, "KNOWN001"), _claim(p, "CONFL001")
    _receive(p, "era/c1.835", "C1", claim_payment(known, "paid"))
    p.post_queued()
    text = era_for(
        [],
        payer_id="PAYERA01",
        trace="C1",
        extra_claims=[claim_payment(known, "paid"), _other_id(claim_payment(claim, "paid"), "CONFLOO1")],
    )
    resent = p.receive("era/c1-copy.835", text)
    (copy_id,) = resent.era_ids
    assert resent.quarantined and "~" in copy_id
    release_era(p.repo, p.releases, copy_id, "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/c1-copy.835", released=True, released_file_id=resent.file_id)
    assert [r.result for r in p.post_queued()] == ["already_posted", "unmatched"]
    (item_id,) = _unmatched_ids(p)
    assert item_id == f"{copy_id}~21"

    result = match_unmatched(p.repo, p.workflow, item_id, "CONFL001", actor=STAFF)

    assert (result.claim_id, result.era_id, result.position, result.result, result.outcome) == (
        "CONFL001",
        copy_id,
        21,
        "posted",
        "paid",
    )
    assert p.claim("CONFL001").paid_amount == D("120.00")
    assert _unmatched_ids(p) == []


# --- the claim turns up: its waiting payments post -------------------------------------------------
def test_payments_that_arrived_before_their_claim_post_when_its_execution_waits(posting: Posting) -> None:
    p = posting
    early = make_claim(type(p.repo)(), "EARLY001", dos=DOS, lines=LINES)
    first = _receive(p, "era/e1.835", "E1", claim_payment(early, "short_paid"), payment_date="20261101")
    p.post_queued()
    second = _receive(p, "era/e2.835", "E2", reversal_of(claim_payment(early, "short_paid")), payment_date="20261110")
    p.post_queued()
    assert _unmatched_ids(p) == ["1PAYERA010-E1~10", "1PAYERA010-E2~10"]
    # No claim yet: both stay unmatched.
    assert [(r.era_id, r.result) for r in post_waiting_unmatched(p.repo, p.workflow, "EARLY001")] == [
        (first, "unmatched"),
        (second, "unmatched"),
    ]
    assert _unmatched_ids(p) == ["1PAYERA010-E1~10", "1PAYERA010-E2~10"]
    _claim(p, "EARLY001", token="TOKEN-EARLY")

    results = post_waiting_unmatched(p.repo, p.workflow, "EARLY001")

    assert results == [
        PostingResult("EARLY001", first, 10, "posted", outcome="short_paid", resumed=True),
        # The first posting resumed the wait: the reversal lands on a claim nothing waits on.
        PostingResult(
            "EARLY001",
            second,
            10,
            "posted",
            outcome="reversed",
            problems=["claim EARLY001 was not waiting for remittance (status SHORT_PAID)"],
        ),
    ]
    assert p.workflow.resumed == [("TOKEN-EARLY", {"outcome": "short_paid"})]
    assert _unmatched_ids(p) == []
    got = p.claim("EARLY001")
    assert (got.status, got.paid_amount, got.remittance_outcome) == (S.REVERSED, D("0.00"), "reversed")
    assert [(e.era_id, e.kind, e.reversed_by is not None) for e in p.ledger("EARLY001")] == [
        (first, "payment", True),
        (second, "reversal", False),
    ]
    assert post_waiting_unmatched(p.repo, p.workflow, "EARLY001") == []


def test_a_redelivered_era_posts_a_payment_parked_as_unmatched_and_takes_the_item(posting: Posting) -> None:
    p = posting
    later = make_claim(type(p.repo)(), "LATER001", dos=DOS, lines=LINES)
    era_id = _receive(p, "era/l1.835", "L1", claim_payment(later, "paid"))
    messages = p.queue.take()
    assert [r.result for r in p.post(messages)] == ["unmatched"]
    _claim(p, "LATER001")

    assert [(r.result, r.outcome) for r in p.post(messages)] == [("posted", "paid")]  # SQS delivers it again

    assert _unmatched_ids(p) == []
    assert _result_fields(p, era_id) == ("LATER001", "LATER001", "posted", "paid", [])


# --- a reversal before its original ----------------------------------------------------------------
def test_a_reversal_before_its_original_is_held_once_then_applied_once(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "HOLD0001")
    original = claim_payment(claim, "paid")
    rev_era = _receive(p, "era/h-rev.835", "H2", reversal_of(original))
    messages = p.queue.take()

    (held,) = p.post(messages)

    assert held == PostingResult("HOLD0001", rev_era, 10, "held")
    assert _result_fields(p, rev_era) == ("HOLD0001", "HOLD0001", "held", None, [])
    last = p.repo.events("HOLD0001")[-1]
    assert (last.actor, last.old_status, last.new_status, last.detail) == (
        "posting",
        None,
        "AWAITING_REMITTANCE",
        {"era_id": rev_era, "held_reversal": "PCNHOLD0001"},
    )
    (kept,) = p.repo.held_reversals("HOLD0001")
    reversal_source = kept.remittance.source
    assert reversal_source == "1PAYERA010-H2#HOLD0001#22#PCNHOLD0001#1"
    events = len(p.repo.events("HOLD0001"))

    # SQS delivers it again: held already, the ERA keeps its result, nothing new on the timeline.
    assert p.post(messages) == [PostingResult("HOLD0001", rev_era, 10, "held")]
    assert [h.remittance.source for h in p.repo.held_reversals("HOLD0001")] == [reversal_source]
    assert len(p.repo.events("HOLD0001")) == events

    orig_era = _receive(p, "era/h-orig.835", "H1", original)
    (posted,) = p.post_queued()

    assert posted == PostingResult(
        "HOLD0001", orig_era, 10, "posted", outcome="paid", notes=[f"applied held reversal {reversal_source}"]
    )
    got = p.claim("HOLD0001")
    assert (got.status, got.paid_amount, got.remittance_outcome) == (S.REVERSED, D("0.00"), "reversed")
    assert p.repo.held_reversals("HOLD0001") == []
    # The original's posting, then the held reversal's, both by posting.
    assert [(e.actor, e.new_status, e.detail.get("kind")) for e in p.repo.events("HOLD0001")[-2:]] == [
        ("posting", "PAID", "payment"),
        ("posting", "REVERSED", "reversal"),
    ]
    # Applied after the original made the claim PAID: no execution waits on it any more.
    assert _result_fields(p, rev_era) == (
        "HOLD0001",
        "HOLD0001",
        "posted",
        "reversed",
        ["claim HOLD0001 was not waiting for remittance (status PAID)"],
    )
    assert [(e.era_id, e.kind, e.reverses, e.reversed_by) for e in p.ledger("HOLD0001")] == [
        (orig_era, "payment", None, reversal_source),
        (rev_era, "reversal", "1PAYERA010-H1#HOLD0001#1#PCNHOLD0001#1", None),
    ]


def test_a_copy_of_a_held_reversal_in_another_file_records_held_on_its_era(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "HOLDCOPY")
    reversal = reversal_of(claim_payment(claim, "paid"))
    first = _receive(p, "era/hc1.835", "HC", reversal)
    p.post_queued()
    copy = p.receive(
        "era/hc1-copy.835", era_for([], payer_id="PAYERA01", trace="HC", extra_claims=[reversal, reversal])
    )
    (copy_id,) = copy.era_ids
    release_era(p.repo, p.releases, copy_id, "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/hc1-copy.835", released=True, released_file_id=copy.file_id)
    events = len(p.repo.events("HOLDCOPY"))

    results = p.post_queued()

    # The first is the held one (same payment, same source); the second is the payment's second occurrence.
    assert [(r.claim_id, r.era_id, r.position, r.result) for r in results] == [
        ("HOLDCOPY", copy_id, 10, "held"),
        ("HOLDCOPY", copy_id, 19, "held"),
    ]
    assert _result_fields(p, copy_id, 10) == ("HOLDCOPY", "HOLDCOPY", "held", None, [])
    assert [h.remittance.source for h in p.repo.held_reversals("HOLDCOPY")] == [
        f"{first}#HOLDCOPY#22#PCNHOLDCOPY#1",
        f"{first}#HOLDCOPY#22#PCNHOLDCOPY#2",
    ]
    assert len(p.repo.events("HOLDCOPY")) == events + 1


def test_two_reversals_of_one_payment_from_two_payments_are_both_held_and_one_applies(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "TWOREV01")
    original = claim_payment(claim, "paid")
    a = _receive(p, "era/tr-a.835", "TRA", reversal_of(original))
    b = _receive(p, "era/tr-b.835", "TRB", reversal_of(original))
    assert [r.result for r in p.post_queued()] == ["held", "held"]
    assert [h.remittance.source for h in p.repo.held_reversals("TWOREV01")] == [
        f"{a}#TWOREV01#22#PCNTWOREV01#1",
        f"{b}#TWOREV01#22#PCNTWOREV01#1",
    ]

    _receive(p, "era/tr-o.835", "TRO", original)
    (posted,) = p.post_queued()

    # The original is undone once: the second reversal waits for another posting of that CLP07.
    assert posted.notes == [f"applied held reversal {a}#TWOREV01#22#PCNTWOREV01#1"]
    assert [h.remittance.source for h in p.repo.held_reversals("TWOREV01")] == [f"{b}#TWOREV01#22#PCNTWOREV01#1"]
    assert p.claim("TWOREV01").paid_amount == D("0.00")


def test_a_person_matching_a_reversal_before_its_original_holds_it(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "MHOLD001")
    rev_era = _receive(p, "era/mh.835", "MH", _other_id(reversal_of(claim_payment(claim, "paid")), "MH0LD001"))
    p.post_queued()
    assert _unmatched_ids(p) == ["1PAYERA010-MH~10"]

    result = match_unmatched(p.repo, p.workflow, "1PAYERA010-MH~10", "MHOLD001", actor=STAFF)

    assert result == PostingResult("MHOLD001", rev_era, 10, "held")
    assert _unmatched_ids(p) == []
    assert [h.remittance.source for h in p.repo.held_reversals("MHOLD001")] == [f"{rev_era}#MH0LD001#22#PCNMHOLD001#1"]
    last = p.repo.events("MHOLD001")[-1]
    assert (last.actor, last.detail) == (STAFF, {"era_id": rev_era, "held_reversal": "PCNMHOLD001"})
    assert _result_fields(p, rev_era) == ("MHOLD001", "MH0LD001", "held", None, [])


def test_a_person_matching_a_repeated_reversal_records_it_not_posted(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "MREP0001")
    original = claim_payment(claim, "paid")
    orig_era = _receive(p, "era/mr-o.835", "MRO", original)
    first_rev = _receive(p, "era/mr-r.835", "MRR", reversal_of(original))
    p.post_queued()
    again = _receive(p, "era/mr-again.835", "MRA", _other_id(reversal_of(original), "MREPOOO1"))
    assert [r.result for r in p.post_queued()] == ["unmatched"]
    before = p.claim("MREP0001")

    result = match_unmatched(p.repo, p.workflow, "1PAYERA010-MRA~10", "MREP0001", actor=STAFF)

    problem = (
        f"reverses payment {orig_era}#MREP0001#1#PCNMREP0001#1 already reversed by "
        f"{first_rev}#MREP0001#22#PCNMREP0001#1: not applied twice"
    )
    assert result == PostingResult("MREP0001", again, 10, "not_posted", problems=[problem])
    assert _unmatched_ids(p) == []
    assert _result_fields(p, again) == ("MREP0001", "MREPOOO1", "not_posted", None, [problem])
    last = p.repo.events("MREP0001")[-1]
    assert (last.actor, last.old_status, last.detail) == (
        STAFF,
        None,
        {"era_id": again, "clp02": "22", "problems": [problem]},
    )
    got = p.claim("MREP0001")
    assert (got.version, got.paid_amount, got.status) == (before.version + 1, D("0.00"), S.REVERSED)


def test_held_reversals_left_by_a_crash_are_all_applied_by_the_next_posting(posting: Posting) -> None:
    """Posting the primary's original crashed before its held reversal was applied; the secondary's
    original then applies both held reversals, each to its own original."""
    p = posting
    claim = _claim(p, "CRASH001")
    primary = claim_payment(claim, "short_paid")
    secondary = claim_payment(claim, "paid", allowed_pct=D("0.16"))
    secondary.status_code, secondary.payer_claim_control_number = "2", "PCNSECOND1"
    secondary.charge = D("150.00")
    r1 = _receive(p, "era/cr-r1.835", "CR1", reversal_of(primary))
    r2 = _receive(p, "era/cr-r2.835", "CR2", reversal_of(secondary))
    assert [r.result for r in p.post_queued()] == ["held", "held"]
    writes = {"n": 0}

    def crash_on_second_write(_claim: Claim) -> None:
        writes["n"] += 1
        if writes["n"] == 2:
            raise RuntimeError("the Lambda died")

    _receive(p, "era/cr-o1.835", "CO1", primary)
    (msg,) = p.queue.take()
    p.repo.before_write = crash_on_second_write
    with pytest.raises(RuntimeError):
        post_remittance(p.repo, p.workflow, msg)
    p.repo.before_write = None
    assert len(p.repo.held_reversals("CRASH001")) == 2

    _receive(p, "era/cr-o2.835", "CO2", secondary)
    (posted,) = p.post_queued()

    assert posted.notes == [
        f"applied held reversal {r1}#CRASH001#22#PCNCRASH001#1",
        f"applied held reversal {r2}#CRASH001#22#PCNSECOND1#1",
    ]
    assert p.repo.held_reversals("CRASH001") == []
    assert [(e.era_id, e.reversed_by is not None) for e in p.ledger("CRASH001") if e.kind != "reversal"] == [
        ("1PAYERA010-CO1", True),
        ("1PAYERA010-CO2", True),
    ]
    assert p.claim("CRASH001").paid_amount == D("0.00")


def test_a_waiting_payment_a_person_matched_elsewhere_meanwhile_is_not_posted_twice(posting: Posting) -> None:
    """The claim's wait posts its unmatched payment while a person matches it to another claim: the
    person's posting stands; the wait's is refused as not found (the item is gone)."""
    p = posting
    wait = make_claim(type(p.repo)(), "WAITS001", dos=DOS, lines=LINES)
    _receive(p, "era/ws.835", "WS", claim_payment(wait, "paid"))
    p.post_queued()
    _claim(p, "WAITS001")
    _claim(p, "OTHER001")

    def person() -> None:
        match_unmatched(p.repo, p.workflow, "1PAYERA010-WS~10", "OTHER001", actor=STAFF)

    with racing(p.repo, "WAITS001", person), pytest.raises(UnmatchedNotFound) as refused:
        post_waiting_unmatched(p.repo, p.workflow, "WAITS001")

    assert str(refused.value) == "no unmatched remittance 1PAYERA010-WS~10"
    assert (p.claim("OTHER001").paid_amount, p.claim("WAITS001").paid_amount) == (D("120.00"), D("0.00"))
    assert _unmatched_ids(p) == []


def test_a_person_matching_a_copy_of_a_posted_payment_posts_nothing_twice(posting: Posting) -> None:
    """The payment was matched from its ERA; a released copy of that file parks it as unmatched again.
    Matching the copy finds it posted: already_posted on the copy's ERA, and the item is gone."""
    p = posting
    claim = _claim(p, "COPYM001")
    ghost = _other_id(claim_payment(claim, "paid"), "COPYMOO1")
    _receive(p, "era/cm.835", "CM", ghost)
    p.post_queued()
    match_unmatched(p.repo, p.workflow, "1PAYERA010-CM~10", "COPYM001", actor=STAFF)
    text = era_for(
        [], payer_id="PAYERA01", trace="CM", extra_claims=[ghost, claim_payment(_claim(p, "COPYX001"), "paid")]
    )
    copy = p.receive("era/cm-copy.835", text)
    (copy_id,) = copy.era_ids
    release_era(p.repo, p.releases, copy_id, "biller")
    receive_era_file(p.repo, p.artifacts, p.queue, "era/cm-copy.835", released=True, released_file_id=copy.file_id)
    assert [r.result for r in p.post_queued()] == ["unmatched", "posted"]
    before = p.claim("COPYM001")

    result = match_unmatched(p.repo, p.workflow, f"{copy_id}~10", "COPYM001", actor=STAFF)

    assert result == PostingResult("COPYM001", copy_id, 10, "already_posted", outcome="paid")
    assert _unmatched_ids(p) == []
    assert _result_fields(p, copy_id) == ("COPYM001", "COPYMOO1", "already_posted", None, [])
    after = p.claim("COPYM001")
    assert (after.version, after.paid_amount) == (before.version, D("120.00"))
    assert len(p.repo.ledger_entries("COPYM001")) == 1


def test_a_reversal_of_a_denial_that_arrives_first_is_applied_when_the_denial_posts(posting: Posting) -> None:
    p = posting
    claim = _claim(p, "DENREV01")
    denial = claim_payment(claim, "denied")
    rev_era = _receive(p, "era/dr-r.835", "DRR", reversal_of(denial))
    assert [r.result for r in p.post_queued()] == ["held"]

    _receive(p, "era/dr-d.835", "DRD", denial)
    (posted,) = p.post_queued()

    assert (posted.result, posted.outcome, posted.notes) == (
        "posted",
        "denied",
        [f"applied held reversal {rev_era}#DENREV01#22#PCNDENREV01#1"],
    )
    assert p.repo.held_reversals("DENREV01") == []
    assert [(e.kind, e.reversed_by is not None) for e in p.ledger("DENREV01")] == [
        ("denial", True),
        ("reversal", False),
    ]
    assert p.claim("DENREV01").remittance_outcome == "reversed"


def test_a_redelivered_reversal_posted_directly_takes_its_held_copy_off_the_work_queue(posting: Posting) -> None:
    """The reversal came first and was held; its original posted but the Lambda died before the held
    pass. SQS delivers the reversal again: it posts directly (its original is there) and its held copy
    goes with that write, so no held reversal is left on the claim for a reversal already applied."""
    p = posting
    claim = _claim(p, "HELDCP01")
    original = claim_payment(claim, "paid")
    _receive(p, "era/hc-r.835", "HCR", reversal_of(original))
    (reversal_msg,) = p.queue.take()
    assert post_remittance(p.repo, p.workflow, reversal_msg).result == "held"
    _receive(p, "era/hc-o.835", "HCO", original)
    (original_msg,) = p.queue.take()
    writes = {"n": 0}

    def crash_on_second_write(_claim: Claim) -> None:
        writes["n"] += 1
        if writes["n"] == 2:
            raise RuntimeError("the Lambda died")

    p.repo.before_write = crash_on_second_write
    with pytest.raises(RuntimeError):
        post_remittance(p.repo, p.workflow, original_msg)
    p.repo.before_write = None
    assert len(p.repo.held_reversals("HELDCP01")) == 1

    again = post_remittance(p.repo, p.workflow, reversal_msg)
    redelivered_original = post_remittance(p.repo, p.workflow, original_msg)

    assert (again.result, redelivered_original.result) == ("posted", "already_posted")
    assert p.repo.held_reversals("HELDCP01") == []
    assert [(e.kind, e.reversed_by is not None) for e in p.ledger("HELDCP01")] == [
        ("payment", True),
        ("reversal", False),
    ]
    assert p.claim("HELDCP01").paid_amount == D("0.00")
