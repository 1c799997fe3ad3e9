"""ERA (835) ingestion audit findings: each test failed before its fix (the last PLB one guards it).

Claim payments that cannot become posting messages, copies and races for one payment, PLB links by
CLP07, claim payments with no result (pending) and a file that changed after its release."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from medbill.billing.era import EraNotReleasable, receive_era_file, reconciliation, release_era
from medbill.x12.remittance835 import Adjustment, ClaimPayment, ProviderAdjustment, ServiceLine
from testkit.era_builder import claim_payment, era_for
from tests.posting_harness import Posting, era_text, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _era(p: Posting, era_id: str) -> dict[str, Any]:
    rec = reconciliation(p.repo, era_id)
    assert rec is not None
    return rec


def _report(p: Posting, key: str) -> dict[str, Any]:
    return json.loads(p.artifacts.read(f"era-reports/{key}.json"))


# --- 1. a balanced 835 whose claim payment cannot become a posting message -----------------------
def _odd(kind: str) -> ClaimPayment:
    """A balanced claim payment with a legal-but-unexpected value the posting message refuses."""
    if kind == "cas_group":
        return ClaimPayment(
            "ODD01", "1", D("10.00"), D("5.00"), None, "CI", "X2", adjustments=[Adjustment("ZQ", "45", D("5.00"))]
        )
    if kind == "long_carc":
        return ClaimPayment(
            "ODD01", "1", D("10.00"), D("5.00"), None, "CI", "X6", adjustments=[Adjustment("CO", "A1234X", D("5.00"))]
        )
    if kind == "empty_procedure":
        return ClaimPayment(
            "ODD01",
            "1",
            D("10.00"),
            D("10.00"),
            None,
            "CI",
            "X3",
            lines=[ServiceLine("HC", "", D("10.00"), D("10.00"))],
        )
    if kind == "three_decimals":
        return ClaimPayment(
            "ODD01",
            "1",
            D("100.00"),
            D("80.005"),
            D("0"),
            "CI",
            "X4",
            adjustments=[Adjustment("CO", "45", D("19.995"))],
        )
    assert kind == "whole_digits"
    return ClaimPayment(
        "ODD01",
        "1",
        D("100.00"),
        D("12345678901.00"),
        D("0"),
        "CI",
        "X5",
        adjustments=[Adjustment("CO", "45", D("-12345678801.00"))],
    )


ODD = {
    # kind: (field named in the problem, the value that must not be quoted)
    "cas_group": ("claim-level CAS adjustment 1: CAS01 group code", "ZQ"),
    "long_carc": ("claim-level CAS adjustment 1: reason code: String should have at most 5 characters", "A1234X"),
    "empty_procedure": ("SVC01-2 procedure code: String should have at least 1 character", "input_value"),
    "three_decimals": ("CLP04 paid: Decimal input should have no more than 2 decimal places", "80.005"),
    "whole_digits": ("CLP04 paid: Decimal input should have no more than 10 digits", "12345678901"),
}


@pytest.mark.parametrize("kind", sorted(ODD))
def test_claim_that_cannot_become_a_posting_message_quarantines_the_file(
    p: Posting, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # botocore's DEBUG lines echo requests; ours must not quote values
    good = make_claim(p.repo, "GOOD01", dos=DOS, lines=LINES)
    text = era_for([(good, "paid")], payer_id="PAYERA01", trace=f"ODD{kind}", extra_claims=[_odd(kind)])
    key = f"era/odd-{kind}.835"

    summary = p.receive(key, text)  # raised pydantic's ValidationError before: nothing queued, no report

    field, value = ODD[kind]
    assert summary.quarantined and summary.claims_queued == 0 and p.queue.sends == 0
    [problem] = [x for x in summary.problems if "cannot be posted" in x][:1]
    assert problem.startswith("claim payment (CLP) at segment ") and field in problem
    everything = json.dumps(_report(p, key)) + json.dumps(reconciliation(p.repo, summary.era_ids[0])) + caplog.text
    assert value not in everything and "input_value" not in everything
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None and rec["era_status"] == "QUARANTINED" and any(field in x for x in rec["problems"])
    assert p.repo.ledger_entries("GOOD01") == []

    # A person releases it: the good claim posts, the odd one is recorded as not posted, with why.
    released = p.receive(key, text, released=True, upload=False)
    assert released.claims_queued == 1 and [r.result for r in p.post_queued()] == ["posted"]
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None
    odd = next(c for c in rec["claims"] if c["result"] == "not_posted")
    assert any(field in x for x in odd["problems"]) and rec["not_posted_count"] == 1
    assert rec["era_status"] == "POSTED" and rec["reconciled"] is False  # a person must see the money left out


@pytest.mark.parametrize(
    ("segment", "broken"),
    [
        ("SVC*HC:99213*77.77*77.77", "SVC*HC:99213*77.77*7A.77"),  # a line amount: the claim cannot balance
        ("CLP*ODD02*1*77.77*77.77*0*", "CLP*ODD02*1*77.77*77.77*A0*"),  # CLP05: outside balancing, still money
    ],
)
def test_claim_with_an_amount_that_is_not_a_number_is_never_posted_as_zero(
    p: Posting, segment: str, broken: str
) -> None:
    good = make_claim(p.repo, "GOOD02", dos=DOS, lines=LINES)
    odd = ClaimPayment(
        "ODD02",
        "1",
        D("77.77"),
        D("77.77"),
        D("0.00"),
        "CI",
        "X9",
        lines=[ServiceLine("HC", "99213", D("77.77"), D("77.77"))],
    )
    text = era_for([(good, "paid")], payer_id="PAYERA01", trace="ODDNUM", extra_claims=[odd])
    assert segment in text
    text = text.replace(segment, broken)
    key = "era/odd-number.835"

    summary = p.receive(key, text)
    assert summary.quarantined and p.queue.sends == 0
    assert any("amount(s) in it are not X12 numbers" in x for x in summary.problems)

    released = p.receive(key, text, released=True, upload=False)
    assert released.claims_queued == 1 and [r.result for r in p.post_queued()] == ["posted"]
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None
    [odd_result] = [c for c in rec["claims"] if c["result"] == "not_posted"]
    assert odd_result["clp01"] == "ODD02" and "not X12 numbers" in odd_result["problems"][0]
    assert (odd_result["charge"], odd_result["paid"]) == ("77.77", "77.77")  # formatted like every result
    assert rec["reconciled"] is False


def test_unexpected_reader_failure_is_an_unreadable_file_not_a_retry(p: Posting, monkeypatch: Any) -> None:
    from medbill.billing import era_ingestion as era

    def boom(*_: Any) -> Any:
        raise ArithmeticError("value 123-45-6789 in the message")

    monkeypatch.setattr(era, "check_whole_file", boom)
    summary = p.receive("era/boom.835", "ISA*...")
    assert summary.quarantined and summary.file_error and "ArithmeticError" in summary.file_error
    assert "123-45-6789" not in json.dumps(_report(p, "era/boom.835"))


# --- 2. copies and races for one payment ----------------------------------------------------------
def test_copy_of_a_released_era_keeps_its_record_and_posts_nothing(p: Posting) -> None:
    claim = make_claim(p.repo, "REG01", dos=DOS, lines=LINES)
    bad = era_for([(claim, "paid")], payer_id="PAYERA01", trace="REG1").replace("BPR*I*120.00*", "BPR*I*119.00*")
    first = p.receive("era/reg.835", bad)
    [era_id] = first.era_ids
    assert first.quarantined
    release_era(p.repo, p.releases, era_id, "biller")
    p.receive("era/reg.835", bad, released=True, upload=False)
    p.post_queued()
    assert _era(p, era_id)["era_status"] == "POSTED"

    copy = p.receive("era/reg-copy.835", bad)  # the same bytes under another key
    again = p.receive("era/reg.835", bad, upload=False)  # and the same key again

    assert copy.era_ids == [era_id] and copy.duplicate_of == "era/reg.835" and not copy.quarantined
    assert not again.quarantined and p.queue.take() == []  # nothing posts from either
    era = _era(p, era_id)  # went back to QUARANTINED under the copy's key before
    assert (era["era_status"], era["source_key"], era["duplicate_keys"]) == (
        "POSTED",
        "era/reg.835",
        ["era/reg-copy.835"],
    )
    assert _report(p, "era/reg-copy.835")["status"] == "DUPLICATE"
    with pytest.raises(EraNotReleasable):  # and could be released again
        release_era(p.repo, p.releases, era_id, "biller")
    assert len(p.ledger("REG01")) == 1


def test_copy_of_a_quarantined_era_stays_quarantined_under_its_first_key(p: Posting) -> None:
    claim = make_claim(p.repo, "QCOPY01", dos=DOS, lines=LINES)
    bad = era_for([(claim, "paid")], payer_id="PAYERA01", trace="QC1").replace("BPR*I*120.00*", "BPR*I*119.00*")
    first = p.receive("era/qc.835", bad)
    copy = p.receive("era/qc-copy.835", bad)
    assert copy.quarantined and copy.era_ids == first.era_ids
    header = p.repo.get_era(first.era_ids[0])
    assert (
        header is not None and header["source_key"] == "era/qc.835" and header["duplicate_keys"] == {"era/qc-copy.835"}
    )


# --- 5. PLB linked to a claim by the CLP07 its reference names ------------------------------------
def test_plb_reference_naming_a_payer_claim_number_links_to_that_claim(p: Posting) -> None:
    claim = make_claim(p.repo, "PLB01", dos=DOS, lines=LINES)
    other = make_claim(p.repo, "PLB02", dos=DOS, lines=LINES)
    cp, cp2 = claim_payment(claim, "paid"), claim_payment(other, "paid")
    cp2.payer_claim_control_number = "SHAREDPCN"
    plbs = [
        ProviderAdjustment("1234567893", "20261231", "WO", D("10.00"), cp.payer_claim_control_number),
        ProviderAdjustment("1234567893", "20261231", "FB", D("2.00"), f"{cp.payer_claim_control_number} RECOUP"),
        ProviderAdjustment("1234567893", "20261231", "L6", D("-1.23"), "PLB01"),
        ProviderAdjustment("1234567893", "20261231", "WO", D("1.00"), "NOSUCHPCN"),
    ]
    s = p.receive("era/plb.835", era_text([cp, cp2], plbs, "PLBT1"))
    p.post_queued()
    rec = reconciliation(p.repo, s.era_ids[0])
    assert rec is not None and rec["reconciled"] is True
    links = [(x["reason"], x.get("claim_id"), x.get("linked_by")) for x in rec["provider_adjustments"]]
    assert links == [("WO", "PLB01", "CLP07"), ("FB", "PLB01", "CLP07"), ("L6", "PLB01", "CLP01"), ("WO", None, None)]
    entries = [(e.plb_reason, e.plb_reference, e.paid) for e in p.ledger("PLB01") if e.kind == "provider_adjustment"]
    assert sorted(entries) == sorted(
        [
            ("WO", cp.payer_claim_control_number, D("-10.00")),
            ("FB", f"{cp.payer_claim_control_number} RECOUP", D("-2.00")),
            ("L6", "PLB01", D("1.23")),
        ]
    )


def test_plb_of_a_re_sent_payment_released_under_its_own_record_is_on_the_ledger_once(p: Posting) -> None:
    claim = make_claim(p.repo, "PLBR01", dos=DOS, lines=LINES)
    plbs = [ProviderAdjustment("1234567893", "20261231", "WO", D("10.00"), "PLBR01")]
    first_text = era_text([claim_payment(claim, "paid")], plbs, "PLBR1")
    first = p.receive("era/plbr.835", first_text)
    p.post_queued()
    # The payer re-sends the payment with a changed header: its own quarantined `~<file>` record.
    resent = p.receive("era/plbr-resent.835", first_text.replace("TEST CLINIC", "TEST CLINIC B"))
    [copy_id] = resent.era_ids
    assert resent.quarantined and copy_id != first.era_ids[0]
    release_era(p.repo, p.releases, copy_id, "biller")
    receive_era_file(
        p.repo, p.artifacts, p.queue, "era/plbr-resent.835", released=True, released_file_id=resent.file_id
    )
    p.post_queued()
    plb_entries = [e for e in p.ledger("PLBR01") if e.kind == "provider_adjustment"]
    assert [(e.plb_reason, e.paid) for e in plb_entries] == [("WO", D("-10.00"))]
    assert len([e for e in p.ledger("PLBR01") if e.kind == "payment"]) == 1


def test_plb_reference_to_a_payer_claim_number_two_claims_share_links_to_neither(p: Posting) -> None:
    a = make_claim(p.repo, "SHARE01", dos=DOS, lines=LINES)
    b = make_claim(p.repo, "SHARE02", dos=DOS, lines=LINES)
    cpa, cpb = claim_payment(a, "paid"), claim_payment(b, "paid")
    cpa.payer_claim_control_number = cpb.payer_claim_control_number = "SAMEPCN"
    plbs = [ProviderAdjustment("1234567893", "20261231", "WO", D("5.00"), "SAMEPCN")]
    s = p.receive("era/share.835", era_text([cpa, cpb], plbs, "SHR1"))
    p.post_queued()
    rec = reconciliation(p.repo, s.era_ids[0])
    assert rec is not None and rec["provider_adjustments"][0].get("claim_id") is None
    assert not [e for c in ("SHARE01", "SHARE02") for e in p.ledger(c) if e.kind == "provider_adjustment"]


# --- 6. a claim payment with no result; a released file that changed before its release ran -----
def test_claim_payment_whose_message_never_posts_is_named_pending(p: Posting) -> None:
    claims = [make_claim(p.repo, f"PEND{i:02d}", dos=DOS, lines=LINES) for i in range(3)]
    s = p.receive("era/pend.835", era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="PD1"))
    first, lost, third = p.queue.take()  # the second message ends in the posting DLQ
    p.post([first, third])
    rec = _era(p, s.era_ids[0])
    assert (rec["era_status"], rec["claims_recorded"], rec["claims_pending"]) == ("POSTING", 2, 1)
    assert rec["pending_positions"] == [lost.position] and rec["reconciled"] is False
    assert [(c["clp01"], c["result"]) for c in rec["claims"]] == [
        ("PEND00", "posted"),
        ("PEND01", "pending"),
        ("PEND02", "posted"),
    ]
    p.post([lost])  # redriven from the DLQ
    rec = _era(p, s.era_ids[0])
    assert (rec["era_status"], rec["claims_pending"], rec["pending_positions"], rec["reconciled"]) == (
        "POSTED",
        0,
        [],
        True,
    )


def test_release_of_a_changed_file_requarantines_the_era_so_it_can_be_released_again(p: Posting) -> None:
    claim = make_claim(p.repo, "CHG01", dos=DOS, lines=LINES)
    bad = era_for([(claim, "paid")], payer_id="PAYERA01", trace="CHG1").replace("BPR*I*120.00*", "BPR*I*119.00*")
    first = p.receive("era/chg.835", bad)
    [era_id] = first.era_ids
    release_era(p.repo, p.releases, era_id, "biller")
    p.artifacts.write("era/chg.835", (bad + "\n").encode())  # changed before the release ran

    after = receive_era_file(
        p.repo,
        p.artifacts,
        p.queue,  # type: ignore[arg-type]
        "era/chg.835",
        released=True,
        released_file_id=first.file_id,
    )

    assert after.quarantined and after.era_ids == [era_id] and p.queue.take() == []
    era = _era(p, era_id)
    assert era["era_status"] == "QUARANTINED"  # stayed RELEASED before, and could not be released again
    assert any("changed after it was released" in x for x in era["problems"])
    assert release_era(p.repo, p.releases, era_id, "biller")["era_status"] == "RELEASED"
    assert p.repo.ledger_entries("CHG01") == []
