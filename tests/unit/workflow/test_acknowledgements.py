"""Acknowledgements drive claims (workflow.acknowledgements) on the in-memory fakes, with real 837Ps
written by the project's writer and real 999s / 277CAs written by the simulator's writers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from medbill.entry.settings import ClearinghouseSettings
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.workflow.acknowledgements import receive_ack_file
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import (
    Submitter,
    code,
    enter_charges,
    follow_up,
    park_task_token,
    register,
    submit,
    verify_eligibility,
)
from medbill.x12.ack277ca import StatusCode, write_277ca
from medbill.x12.ack999 import ElementError, SegmentError, write_999
from medbill.x12.claim837 import ControlNumbers, write_837p
from tests.factories import make_encounter
from tests.fakes import FakeArtifacts, FakeEligibility, FakeStore, FakeWorkflow

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _write(claim: Claim, control: int, created: datetime) -> str:
    numbers = ControlNumbers(interchange=control, group=control)
    return write_837p([claim], settings=ClearinghouseSettings(), control_numbers=numbers, created=created)


def _submitted(store: FakeStore, files: FakeArtifacts, encounter_id: str = "E1", *, park: bool = True) -> str:
    from medbill.billing.fees import FeeSchedule

    claim = new_claim(make_encounter(encounter_id=encounter_id, clinic_id="clinic-northside"), "encounters/a.json", 1)
    assert store.create_claim(claim)
    register(store, claim.claim_id)
    verify_eligibility(store, FakeEligibility(), claim.claim_id)
    code(store, FeeSchedule.load, claim.claim_id)
    enter_charges(store, FeeSchedule.load, claim.claim_id)
    submit(store, files, Submitter(write=_write, outbox_prefix="outbox/837/"), claim.claim_id)
    if park:
        park_task_token(store, FakeWorkflow(), claim.claim_id, "remittance", "remittance", f"tok-{claim.claim_id}")
    return claim.claim_id


def _837(store: FakeStore, files: FakeArtifacts, claim_id: str) -> str:
    return files.read(store.get_claim(claim_id).outbox_key or "").decode()


def test_a_999_rejection_rejects_the_claim_with_its_ik3_ik4_error_and_resumes_it_to_follow_up() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    error = SegmentError(
        segment_id="NM1",
        position=12,
        loop_id="2010",
        code="8",
        elements=(ElementError(position="9", code="7", element_ref="67", bad_value="1234567890"),),
    )
    ack = write_999(
        _837(store, files, claim_id),
        control_numbers=ControlNumbers(900, 900),
        created=CREATED,
        rejected={"0001": [error]},
    )
    files.write("acks/999/a.999", ack)

    summary = receive_ack_file(store, files, workflow, "acks/999/a.999", received_at=RECEIVED)

    assert (summary.kind, summary.claims, summary.resumed, summary.problems) == (
        "999",
        {claim_id: "rejected"},
        [claim_id],
        [],
    )
    claim = store.get_claim(claim_id)
    reason = (
        "999 rejected transaction 0001 (IK5 R): segment NM1 at position 12 in loop 2010: "
        "segment has data element errors, NM109 (element 67) invalid code value"
    )
    assert (claim.status, claim.task_token, claim.rejection_reason) == (S.REJECTED, None, reason)
    assert [a.model_dump(mode="json") for a in claim.acknowledgements] == [
        {
            "kind": "999",
            "key": "acks/999/a.999",
            "received_at": "2026-03-02T09:30:00Z",
            "verdict": "rejected",
            "codes": ["IK5:R", "IK502:5", "IK3:NM1:12:2010:8", "IK4:9:7"],
            "reason": reason,
            "payer_claim_number": None,
        }
    ]
    assert "1234567890" not in claim.model_dump_json(exclude={"encounter"})  # IK404 (the bad value) never kept
    assert workflow.resumed == [(f"tok-{claim_id}", {"outcome": "rejected"})]
    # The state machine's FollowUp task runs next with that outcome:
    assert follow_up(store, claim_id, "rejected").model_dump(mode="json") == {
        "status": "FOLLOW_UP",
        "action": "correct_and_resubmit",
    }
    assert store.get_claim(claim_id).follow_up_reason == reason


def test_a_999_accepting_records_the_answer_and_keeps_the_claim_waiting() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    files.write(
        "acks/999/a.999", write_999(_837(store, files, claim_id), control_numbers=ControlNumbers(7, 7), created=CREATED)
    )

    summary = receive_ack_file(store, files, workflow, "acks/999/a.999", received_at=RECEIVED)

    assert summary.claims == {claim_id: "recorded"}
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.task_token) == (S.AWAITING_REMITTANCE, f"tok-{claim_id}")
    assert [(a.kind, a.verdict, a.codes) for a in claim.acknowledgements] == [("999", "accepted", ["IK5:A"])]
    assert workflow.resumed == []


@pytest.mark.parametrize(
    ("payer_rejects", "status", "verdict"),
    [(False, S.AWAITING_REMITTANCE, "accepted_with_errors"), (True, S.REJECTED, "rejected")],
)
def test_a_999_accepted_with_errors_rejects_only_for_payers_that_treat_it_so(
    payer_rejects: bool, status: S, verdict: str
) -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    payer = store.get_claim(claim_id).payer_id
    noted = {"0001": [SegmentError(segment_id="REF", position=20, loop_id="2300", code="8")]}
    ack = write_999(_837(store, files, claim_id), control_numbers=ControlNumbers(8, 8), created=CREATED, noted=noted)
    files.write("acks/999/e.999", ack)

    receive_ack_file(store, files, workflow, "acks/999/e.999", errors_reject=lambda p: payer_rejects and p == payer)

    claim = store.get_claim(claim_id)
    assert (claim.status, claim.acknowledgements[0].verdict) == (status, verdict)
    assert claim.acknowledgements[0].codes == ["IK5:E", "IK3:REF:20:2300:8"]


def test_a_277ca_acceptance_marks_the_claim_accepted_with_the_payer_claim_number() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    ca = write_277ca(
        _837(store, files, claim_id),
        control_numbers=ControlNumbers(31, 31),
        created=CREATED,
        payer_claim_number=lambda cid: "PCN-000042",
    )
    files.write("acks/277ca/a.277ca", ca)

    summary = receive_ack_file(store, files, workflow, "acks/277ca/a.277ca", received_at=RECEIVED)

    assert (summary.kind, summary.claims, summary.resumed) == ("277CA", {claim_id: "accepted"}, [])
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.payer_claim_number, claim.task_token) == (S.ACCEPTED, "PCN-000042", f"tok-{claim_id}")
    assert [(a.kind, a.verdict, a.codes, a.payer_claim_number) for a in claim.acknowledgements] == [
        ("277CA", "accepted", ["A2:20"], "PCN-000042")
    ]
    # Still waiting for its 835: a timeout follows up as before.
    assert follow_up(store, claim_id, "timed_out").model_dump(mode="json")["action"] == "status_inquiry"


def test_a_277ca_rejection_names_the_status_code_and_entity_in_words() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    codes = [StatusCode(category="A7", code="562", entity="85"), StatusCode(category="A3", code="116", entity="PR")]
    ca = write_277ca(
        _837(store, files, claim_id),
        control_numbers=ControlNumbers(32, 32),
        created=CREATED,
        rejected={claim_id: codes},
    )
    files.write("acks/277ca/r.277ca", ca)

    summary = receive_ack_file(store, files, workflow, "acks/277ca/r.277ca", received_at=RECEIVED)

    assert (summary.claims, summary.resumed) == ({claim_id: "rejected"}, [claim_id])
    claim = store.get_claim(claim_id)
    assert claim.status == S.REJECTED
    assert claim.rejection_reason == (
        "277CA rejected: A7:562:85 Acknowledgement/Rejected for invalid information: Entity's National Provider "
        "Identifier (NPI) (billing provider); A3:116:PR Acknowledgement/Returned as unprocessable claim: Claim "
        "submitted to incorrect payer (payer)"
    )
    assert claim.acknowledgements[0].codes == ["A7:562:85", "A3:116:PR"]
    assert workflow.resumed == [(f"tok-{claim_id}", {"outcome": "rejected"})]


def test_the_same_file_twice_changes_nothing_the_second_time() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    ca = write_277ca(
        _837(store, files, claim_id),
        control_numbers=ControlNumbers(33, 33),
        created=CREATED,
        rejected={claim_id: [StatusCode(category="A6", code="21")]},
    )
    files.write("acks/277ca/r.277ca", ca)
    receive_ack_file(store, files, workflow, "acks/277ca/r.277ca")
    events = len(store.events(claim_id))

    again = receive_ack_file(store, files, workflow, "acks/277ca/r.277ca")

    assert (again.claims, again.resumed) == ({claim_id: "duplicate"}, [])
    assert len(store.events(claim_id)) == events
    assert len(workflow.resumed) == 1


def test_a_rejection_before_the_wait_is_parked_resumes_the_wait_at_once() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files, park=False)
    ca = write_277ca(
        _837(store, files, claim_id),
        control_numbers=ControlNumbers(34, 34),
        created=CREATED,
        rejected={claim_id: [StatusCode(category="A7", code="562", entity="85")]},
    )
    files.write("acks/277ca/r.277ca", ca)
    assert receive_ack_file(store, files, workflow, "acks/277ca/r.277ca").resumed == []
    assert store.get_claim(claim_id).status == S.REJECTED

    parked = park_task_token(store, workflow, claim_id, "remittance", "remittance", "late-token")

    assert parked.model_dump(mode="json") == {"parked": False, "outcome": "rejected"}
    assert workflow.resumed == [("late-token", {"outcome": "rejected"})]
    assert store.get_claim(claim_id).task_token is None


def test_acknowledgements_for_claims_we_do_not_know_are_reported_not_applied() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    other, other_files = FakeStore(), FakeArtifacts()
    claim_id = _submitted(other, other_files)  # written by another store: unknown here
    text = _837(other, other_files, claim_id)
    files.write("acks/999/x.999", write_999(text, control_numbers=ControlNumbers(5, 5), created=CREATED))
    files.write("acks/277ca/x.277ca", write_277ca(text, control_numbers=ControlNumbers(6, 6), created=CREATED))

    nine = receive_ack_file(store, files, workflow, "acks/999/x.999")
    ca = receive_ack_file(store, files, workflow, "acks/277ca/x.277ca")

    assert (nine.claims, nine.problems) == ({}, ["999 answers group 1, which no claim of ours was sent in"])
    assert ca.claims == {claim_id: "unknown_claim"}


def test_an_acknowledgement_after_the_claim_was_paid_is_recorded_only() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    claim = store.get_claim(claim_id)
    store.save(claim.model_copy(update={"task_token": None}), actor="test", new_status=S.PAID)
    ca = write_277ca(
        _837(store, files, claim_id),
        control_numbers=ControlNumbers(35, 35),
        created=CREATED,
        rejected={claim_id: [StatusCode(category="A7", code="562", entity="85")]},
    )
    files.write("acks/277ca/late.277ca", ca)

    assert receive_ack_file(store, files, workflow, "acks/277ca/late.277ca").claims == {claim_id: "recorded"}
    assert store.get_claim(claim_id).status == S.PAID
    assert workflow.resumed == []


def test_a_277ca_rejecting_the_billing_provider_rejects_its_claims_with_that_code() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _submitted(store, files)
    ca = write_277ca(_837(store, files, claim_id), control_numbers=ControlNumbers(36, 36), created=CREATED)
    provider_stc = next(s.strip() for s in ca.split("~") if s.strip().startswith("STC*A1:19**WQ"))
    files.write("acks/277ca/p.277ca", ca.replace(provider_stc, provider_stc.replace("A1:19", "A7:562:85"), 1))

    summary = receive_ack_file(store, files, workflow, "acks/277ca/p.277ca")

    assert summary.claims == {claim_id: "rejected"}
    claim = store.get_claim(claim_id)
    assert claim.rejection_reason == (
        "277CA rejected: A7:562:85 Acknowledgement/Rejected for invalid information: Entity's National Provider "
        "Identifier (NPI) (billing provider)"
    )
    assert claim.acknowledgements[0].codes == ["A2:20", "A7:562:85"]
