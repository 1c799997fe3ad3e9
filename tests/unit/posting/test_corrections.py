"""Corrected (7) and void (8) claims (issue 10, item 3) on the in-memory fakes: the replacement is a
new claim linked both ways, scrubbed, priced and submitted again with CLM05-3 and REF*F8; postings
land on the right claim; a retried request changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from medbill.billing.fees import FeeSchedule
from medbill.entry.settings import ClearinghouseSettings
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.workflow.corrections import REPLACED, CannotCorrect, CorrectionRequest, correct_claim
from medbill.workflow.stages import Submitter, code, enter_charges, register, submit, verify_eligibility
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.fakes import FakeArtifacts, FakeEligibility
from tests.posting_harness import Posting, make_claim, reversal_of

D = Decimal
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _submitter() -> Submitter:
    def write(claim: Claim, control: int, created: datetime) -> str:
        numbers = ControlNumbers(interchange=control, group=control)
        return write_837p([claim], settings=ClearinghouseSettings(), control_numbers=numbers, created=created)

    return Submitter(write=write, outbox_prefix="outbox/837/")


def _pay(
    claim_id: str, status: str, paid: str, adjs: list[tuple[str, str, str]], pcn: str, freq: str = "1"
) -> ClaimPayment:
    adjustments = [Adjustment(g, r, D(a)) for g, r, a in adjs]
    patient = sum((a.amount for a in adjustments if a.group == "PR"), D("0.00"))
    return ClaimPayment(
        claim_id, status, D("150.00"), D(paid), patient, "CI", pcn, adjustments=adjustments, frequency_code=freq
    )


def _denied(p: Posting, claim_id: str) -> ClaimPayment:
    claim = make_claim(p.repo, claim_id, dos=date(2026, 10, 5), lines=LINES)
    p.repo.save(claim.model_copy(update={"clinic_id": "clinic-northside"}), actor="test")
    denial = _pay(claim_id, "4", "0.00", [("CO", "16", "150.00")], "PCN-ORIG")
    p.receive(f"era/{claim_id}.835", era_for([], payer_id="PAYERA01", trace=f"D{claim_id}", extra_claims=[denial]))
    p.post_queued()
    return denial


def _request(frequency: str = "7", request_id: str = "fix-1") -> CorrectionRequest:
    return CorrectionRequest.model_validate(
        {"request_id": request_id, "frequency": frequency, "reason": "coding_error", "diagnoses": ["I10", "E119"]}
    )


def test_corrected_claim_is_linked_both_ways_and_a_retry_changes_nothing(posting: Posting) -> None:
    p = posting
    _denied(p, "ORIG1")
    done = correct_claim(p.repo, p.workflow, "ORIG1", _request(), "biller-a")
    again = correct_claim(p.repo, p.workflow, "ORIG1", _request(), "biller-a")
    new_id = done["replacement_claim_id"]
    assert (done["repeated"], again["repeated"], again["replacement_claim_id"]) == (False, True, new_id)
    original, replacement = p.claim("ORIG1"), p.claim(new_id)
    assert (original.replaced_by, original.follow_up_action, original.status) == (new_id, REPLACED, S.FOLLOW_UP)
    assert (replacement.replaces, replacement.frequency_code, replacement.payer_claim_number) == (
        "ORIG1",
        "7",
        "PCN-ORIG",
    )
    assert (replacement.status, replacement.encounter.diagnoses, replacement.paid_amount) == (
        S.RECEIVED,
        ["I10", "E119"],
        D("0.00"),
    )
    assert [line.line_control_number for line in replacement.lines] == [f"{new_id}-01", f"{new_id}-02"]
    assert list(p.workflow.started) == [new_id]
    assert [e.detail.get("replaced_by") for e in p.repo.events("ORIG1")][-1] == new_id
    assert [e.detail.get("replaces") for e in p.repo.events(new_id)][-1] == "ORIG1"
    assert p.repo.worklist(REPLACED).items == [] and p.repo.worklist("correct_and_resubmit").items == []
    with pytest.raises(CannotCorrect, match=f"already replaced by {new_id}"):
        correct_claim(p.repo, p.workflow, "ORIG1", _request(request_id="fix-2"), "biller-a")


def test_the_replacement_is_scrubbed_priced_and_submitted_with_frequency_7_and_ref_f8(posting: Posting) -> None:
    p = posting
    _denied(p, "ORIG2")
    new_id = correct_claim(p.repo, p.workflow, "ORIG2", _request(), "biller-a")["replacement_claim_id"]
    files = FakeArtifacts()
    register(p.repo, new_id)
    verify_eligibility(p.repo, FakeEligibility(), new_id)
    assert code(p.repo, FeeSchedule.load, new_id).decision == "coded"
    assert enter_charges(p.repo, FeeSchedule.load, new_id).total_charge == p.claim(new_id).total_charge.__format__(
        ".2f"
    )
    submitted = submit(p.repo, files, _submitter(), new_id)
    text = files.read(p.claim(new_id).outbox_key or "").decode()
    assert f"CLM*{new_id}*" in text and ":B:7*" in text and "REF*F8*PCN-ORIG~" in text
    assert submitted.interchange_control_number == p.claim(new_id).interchange_control_number


def test_postings_land_on_the_right_claim(posting: Posting) -> None:
    p = posting
    _denied(p, "ORIG3")
    new_id = correct_claim(p.repo, p.workflow, "ORIG3", _request(), "biller-a")["replacement_claim_id"]
    p.repo.save(
        p.claim(new_id).model_copy(update={"status": S.AWAITING_REMITTANCE, "total_charge": D("150.00")}), actor="t"
    )
    # The payer pays the replacement under its own CLP01 and takes back the original's denial under it too.
    paid = _pay(new_id, "1", "120.00", [("CO", "45", "30.00")], "PCN-NEW", freq="7")
    undo = reversal_of(_pay(new_id, "4", "0.00", [("CO", "16", "150.00")], "PCN-ORIG"))
    p.receive("era/corr.835", era_for([], payer_id="PAYERA01", trace="C1", extra_claims=[undo, paid]))
    p.post_queued()
    assert p.claim(new_id).paid_amount == D("120.00") and p.claim(new_id).remittance_outcome == "paid"
    original = p.claim("ORIG3")
    assert [e.kind for e in sorted(p.ledger("ORIG3"), key=lambda e: e.posted_at)] == ["denial", "reversal"]
    assert (original.remittance_outcome, original.adjustment_amount) == ("reversed", D("0.00"))


def test_a_void_sends_frequency_8_and_its_reversal_lands_on_the_original(posting: Posting) -> None:
    p = posting
    claim = make_claim(p.repo, "PAIDV", dos=date(2026, 10, 5), lines=LINES)
    payment = _pay("PAIDV", "1", "120.00", [("CO", "45", "30.00")], "PCN-V")
    p.receive("era/v1.835", era_for([], payer_id="PAYERA01", trace="V1", extra_claims=[payment]))
    p.post_queued()
    void_id = correct_claim(p.repo, p.workflow, claim.claim_id, _request("8", "void-1"), "biller-a")[
        "replacement_claim_id"
    ]
    void = p.claim(void_id)
    assert (void.frequency_code, void.replaces, void.encounter.diagnoses) == ("8", "PAIDV", claim.encounter.diagnoses)
    undo = reversal_of(_pay(void_id, "1", "120.00", [("CO", "45", "30.00")], "PCN-V", freq="8"))
    p.receive("era/v2.835", era_for([], payer_id="PAYERA01", trace="V2", extra_claims=[undo]))
    p.post_queued()
    assert p.ledger(void_id) == [] and p.claim("PAIDV").paid_amount == D("0.00")
    with pytest.raises(CannotCorrect, match="is a void"):
        correct_claim(p.repo, p.workflow, void_id, _request("7", "x"), "biller-a")


def test_only_an_adjudicated_claim_can_be_corrected(posting: Posting) -> None:
    make_claim(posting.repo, "NEW1", dos=date(2026, 10, 5), lines=LINES)
    with pytest.raises(CannotCorrect, match="only an adjudicated claim"):
        correct_claim(posting.repo, posting.workflow, "NEW1", _request(), "biller-a")
