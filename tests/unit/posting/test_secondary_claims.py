"""Issue 10 item 2 on the in-memory fakes: a primary that leaves a patient share sends the same claim
to the secondary (then the tertiary) with its adjudication in 2320 / 2430; the secondary's 835 posts
to the same ledger; a crossover sends no duplicate; a retry writes no second file.

The claim: 99213-25 120.00 and 36415 30.00 (150.00). The primary allows 96.00 + 24.00 and pays 80%:
line 1 pays 76.80 with CO-45 24.00 and PR-2 19.20, line 2 pays 19.20 with CO-45 6.00 and PR-2 4.80:
paid 96.00, patient share 24.00.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from medbill.models.claim import Claim
from medbill.models.encounter import OtherCoverage
from medbill.models.status import ClaimStatus as S
from medbill.workflow.next_payer import CannotBillNextPayer, submit_next_payer
from medbill.workflow.stages import Submitter, follow_up
from medbill.workflow.views import claim_view
from medbill.x12.claim837 import ControlNumbers, read_submission, write_837p
from medbill.x12.remittance835 import Adjustment, ClaimPayment, Reference, ServiceLine
from testkit.era_builder import era_for
from testkit.x12_oracle import pyx12_errors
from tests.fakes import FakeArtifacts
from tests.posting_harness import Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


class _Envelope:
    sender_id = "MEDBILL01"
    receiver_id = "CLEARHOUSE"
    submitter_name = "MEDBILL"
    submitter_contact = "EDI DESK"
    submitter_phone = "5555550100"
    receiver_name = "ACME CLEARINGHOUSE"
    usage_indicator = "T"


def _submitter() -> Submitter:
    def write(claim: Claim, control: int, created: datetime) -> str:
        numbers = ControlNumbers(interchange=control, group=control)
        return write_837p([claim], settings=_Envelope(), control_numbers=numbers, created=created)

    return Submitter(write=write, outbox_prefix="outbox/837/")


def _coverage(payer_id: str, member_id: str) -> OtherCoverage:
    return OtherCoverage.model_validate(
        {"coverage": {"payer_id": payer_id, "payer_name": f"PLAN {payer_id}", "member_id": member_id}}
    )


def _claim(p: Posting, claim_id: str, *others: OtherCoverage) -> Claim:
    claim = make_claim(p.repo, claim_id, dos=DOS, lines=LINES, payer_id="PRIM01")
    enc = claim.encounter.model_copy(update={"other_coverages": list(others)})
    return p.repo.save(claim.model_copy(update={"encounter": enc}), actor="test")


def _line(claim_id: str, n: int, code: str, mods: list[str], charge: str, paid: str, adjs: list[Any]) -> ServiceLine:
    return ServiceLine(
        "HC",
        code,
        D(charge),
        D(paid),
        modifiers=mods,
        adjustments=[Adjustment(g, r, D(a)) for g, r, a in adjs],
        references=[Reference("6R", f"{claim_id}-{n:02d}")],
    )


def _primary(claim_id: str, status: str = "1") -> ClaimPayment:
    lines = [
        _line(claim_id, 1, "99213", ["25"], "120.00", "76.80", [("CO", "45", "24.00"), ("PR", "2", "19.20")]),
        _line(claim_id, 2, "36415", [], "30.00", "19.20", [("CO", "45", "6.00"), ("PR", "2", "4.80")]),
    ]
    return ClaimPayment(claim_id, status, D("150.00"), D("96.00"), D("24.00"), "CI", f"PCN-P-{claim_id}", lines=lines)


def _secondary(claim_id: str, paid: str, left: str) -> ClaimPayment:
    """The secondary: OA-23 for what the primary paid and wrote off; pays `paid` of the 24.00, PR-1 `left`."""
    adjs = [Adjustment("OA", "23", D("126.00"))]
    if D(left):
        adjs.append(Adjustment("PR", "1", D(left)))
    return ClaimPayment(claim_id, "2", D("150.00"), D(paid), D(left), "CI", f"PCN-S-{claim_id}", adjustments=adjs)


def _post(p: Posting, payment: ClaimPayment, payer_id: str, trace: str, paid_on: str = "20261125") -> None:
    era = era_for([], payer_id=payer_id, trace=trace, extra_claims=[payment], payment_date=paid_on)
    p.receive(f"era/{trace}.835", era)
    p.post_queued()


def test_the_primarys_patient_share_goes_to_the_secondary_as_an_837p_that_passes_pyx12(posting: Posting) -> None:
    p, store = posting, FakeArtifacts()
    _claim(p, "SEC1", _coverage("SECOND02", "S998877"))
    _post(p, _primary("SEC1"), "PRIM01", "P1", paid_on="20261118")  # BPR16: the primary paid on Nov 18
    assert p.claim("SEC1").remittance_outcome == "short_paid"
    assert follow_up(p.repo, "SEC1", "short_paid").action == "bill_secondary"
    routed = p.claim("SEC1")
    assert (routed.follow_up_amount, routed.follow_up_reason) == (
        D("24.00"),
        "patient responsibility 24.00 goes to payer SECOND02: CO-45 30.00; PR-2 24.00",
    )

    first = submit_next_payer(p.repo, store, _submitter(), "SEC1")
    claim = p.claim("SEC1")
    assert (claim.status, claim.payer_sequence, claim.follow_up_action) == (S.SUBMITTED, 2, None)
    assert claim.interchange_control_number == first.interchange_control_number
    assert list(store.files) == [f"outbox/837/SEC1-{first.interchange_control_number}.x12"]
    text = store.read(claim.outbox_key or "").decode()
    assert pyx12_errors(text) == []
    segs = [s for s in text.replace("\n", "").split("~") if s]
    assert "SBR*S*18*******CI" in segs
    assert "NM1*PR*2*PLAN SECOND02*****PI*SECOND02" in segs
    i = segs.index("SBR*P*18*******CI")
    assert segs[i : i + 3] == ["SBR*P*18*******CI", "AMT*D*96.00", "AMT*EAF*24.00"]
    assert segs[segs.index("REF*6R*SEC1-01") + 1 : segs.index("REF*6R*SEC1-01") + 5] == [
        "SVD*PRIM01*76.80*HC:99213:25**1",
        "CAS*CO*45*24.00",
        "CAS*PR*2*19.20",
        # The primary's adjudication (BPR16), not the day we posted its 835 (was: the posting day).
        "DTP*573*D8*20261118",
    ]
    assert claim.prior_adjudications[0].adjudicated_on == date(2026, 11, 18)
    assert p.repo.ledger_entries("SEC1")[0].payment_date == "20261118"
    read = read_submission(text).claims[0]
    assert (read.claim_id, read.payer_id, read.payer_responsibility) == ("SEC1", "SECOND02", "S")

    view = claim_view(claim, p.repo.events("SEC1")).model_dump(mode="json")
    assert view["billed_payer"] == {"sequence": "S", "payer_id": "SECOND02"}
    assert [(a["sequence"], a["paid"], a["patient_liability"]) for a in view["prior_adjudications"]] == [
        (1, "96.00", "24.00")
    ]

    # A retry (Step Functions) returns what was done: no second file, no second control number.
    assert submit_next_payer(p.repo, store, _submitter(), "SEC1") == first
    assert len(store.files) == 1

    # The secondary pays the 24.00: the claim is paid across both payers, nothing left to the patient.
    p.repo.save(p.claim("SEC1").model_copy(update={"status": S.AWAITING_REMITTANCE}), actor="await")
    _post(p, _secondary("SEC1", "24.00", "0.00"), "SECOND02", "S1")
    paid = p.claim("SEC1")
    assert (paid.status, paid.remittance_outcome) == (S.PAID, "paid")
    assert (paid.paid_amount, paid.adjustment_amount, paid.patient_balance) == (D("120.00"), D("30.00"), D("0.00"))


def test_after_the_secondary_the_tertiary_gets_both_earlier_payers(posting: Posting) -> None:
    p, store = posting, FakeArtifacts()
    _claim(p, "TER1", _coverage("SECOND02", "S998877"), _coverage("THIRD03", "T445566"))
    _post(p, _primary("TER1"), "PRIM01", "P2")
    follow_up(p.repo, "TER1", "short_paid")
    submit_next_payer(p.repo, store, _submitter(), "TER1")
    p.repo.save(p.claim("TER1").model_copy(update={"status": S.AWAITING_REMITTANCE}), actor="await")
    _post(p, _secondary("TER1", "14.00", "10.00"), "SECOND02", "S2")
    assert p.claim("TER1").patient_balance == D("10.00")
    assert follow_up(p.repo, "TER1", "short_paid").action == "bill_secondary"
    assert p.claim("TER1").follow_up_reason == (
        "patient responsibility 10.00 goes to payer THIRD03: CO-45 30.00; PR-1 10.00"
    )
    third = submit_next_payer(p.repo, store, _submitter(), "TER1")
    claim = p.claim("TER1")
    assert (claim.payer_sequence, [a.sequence for a in claim.prior_adjudications]) == (3, [1, 2])
    text = store.read(f"outbox/837/TER1-{third.interchange_control_number}.x12").decode()
    assert pyx12_errors(text) == []
    segs = [s for s in text.replace("\n", "").split("~") if s]
    assert "SBR*T*18*******CI" in segs
    i = segs.index("SBR*S*18*******CI")
    assert segs[i : i + 5] == [
        "SBR*S*18*******CI",
        "CAS*OA*23*126.00",
        "CAS*PR*1*10.00",
        "AMT*D*14.00",
        "AMT*EAF*10.00",
    ]
    assert "REF*F8*PCN-S-TER1" in segs
    assert len(store.files) == 2  # the secondary's file and the tertiary's: each once


def test_no_further_coverage_bills_the_patient(posting: Posting) -> None:
    p = posting
    _claim(p, "ONE1")
    _post(p, _primary("ONE1"), "PRIM01", "P3")
    assert follow_up(p.repo, "ONE1", "short_paid").action == "bill_patient"
    with pytest.raises(CannotBillNextPayer, match="ONE1 is FOLLOW_UP \\(bill_patient\\)"):
        submit_next_payer(p.repo, FakeArtifacts(), _submitter(), "ONE1")


def test_a_crossover_sends_no_duplicate_secondary(posting: Posting) -> None:
    p, store = posting, FakeArtifacts()
    _claim(p, "XOV1", _coverage("SECOND02", "S998877"))
    _post(p, _primary("XOV1", status="19"), "PRIM01", "P4")  # processed as primary, forwarded
    assert follow_up(p.repo, "XOV1", "short_paid").action == "await_crossover_payer"
    with pytest.raises(CannotBillNextPayer):
        submit_next_payer(p.repo, store, _submitter(), "XOV1")
    assert store.files == {}
    assert p.claim("XOV1").payer_sequence == 1


def test_a_secondary_that_never_answers_gets_a_status_inquiry_not_the_primarys_outcome(posting: Posting) -> None:
    p, store = posting, FakeArtifacts()
    _claim(p, "SIL1", _coverage("SECOND02", "S998877"))
    _post(p, _primary("SIL1"), "PRIM01", "P5")
    follow_up(p.repo, "SIL1", "short_paid")
    submit_next_payer(p.repo, store, _submitter(), "SIL1")
    assert p.claim("SIL1").remittance_outcome is None
    p.repo.save(p.claim("SIL1").model_copy(update={"status": S.AWAITING_REMITTANCE}), actor="await")
    assert follow_up(p.repo, "SIL1", "timed_out").action == "status_inquiry"
    claim = p.claim("SIL1")
    assert (claim.remittance_outcome, claim.payer_sequence, claim.patient_balance) == ("timed_out", 2, D("24.00"))


@pytest.mark.parametrize(
    ("payment_date", "facts_date", "expected"),
    [
        ("20261118", "", date(2026, 11, 18)),  # BPR16 on the entry
        ("", "20261119", date(2026, 11, 19)),  # an entry posted before it was kept: its ERA record's BPR16
        ("20002316", "", date(2026, 12, 1)),  # not a date (a real sample's BPR16): the day it was posted
        ("", "", date(2026, 12, 1)),  # no BPR16 at all: the day it was posted
    ],
)
def test_the_adjudication_date_is_the_payments_bpr16_else_the_posting_day(
    payment_date: str, facts_date: str, expected: date
) -> None:
    from medbill.billing.cob import adjudication_date
    from medbill.billing.ledger import PaymentFacts
    from medbill.models.remittance import LedgerEntry

    entry = LedgerEntry(
        source="PRIM01-P9#X#1##1",
        kind="payment",
        era_id="PRIM01-P9",
        payment_key="PRIM01-P9",
        posted_at="2026-12-01T10:00:00+00:00",
        payment_date=payment_date,
    )
    payments = {"PRIM01-P9": PaymentFacts(payer="PRIM01", date=facts_date)}
    assert adjudication_date(entry, payments) == expected
