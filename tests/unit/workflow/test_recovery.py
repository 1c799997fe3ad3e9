"""Recovery (issue 12, item 3) on the in-memory fakes: a FAILED claim is retried from its last good
stage by a new execution `<claim id>-r<n>`; a claim whose MarkFailed failed is found as stuck and
recovered the same way; a recheck keeps the hold's token until SendTaskSuccess succeeded."""

from __future__ import annotations

from datetime import datetime

import pytest

from medbill.billing.fees import FeeSchedule
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.models.status import check_transition
from medbill.ports import claim_of_execution, execution_name
from medbill.workflow.intake import new_claim
from medbill.workflow.recovery import (
    NotRetryable,
    StuckClaim,
    restore_status,
    retry_claim,
    stuck_claims,
)
from medbill.workflow.results import AlreadyAdjudicated
from medbill.workflow.stages import (
    NotOnHold,
    Submitter,
    code,
    enter_charges,
    fail,
    follow_up,
    park_task_token,
    recheck_hold,
    register,
    submit,
    verify_eligibility,
)
from tests.factories import make_encounter
from tests.fakes import FakeArtifacts, FakeEligibility, FakeStore, FakeWorkflow

STAFF = "staff:bea.biller:sub-123"


def _schedules(clinic_id: str) -> FeeSchedule:
    return FeeSchedule.load(clinic_id)


def _submitter() -> Submitter:
    def write(claim: Claim, control: int, created: datetime) -> str:
        return f"ISA*{control:09d}*{claim.claim_id}~"

    return Submitter(write=write, outbox_prefix="outbox/837/")


def _charged(store: FakeStore, encounter_id: str = "E1") -> str:
    """A claim through registration, eligibility, coding and charges (status CHARGED)."""
    claim = new_claim(make_encounter(encounter_id=encounter_id, clinic_id="clinic-northside"), "encounters/a.json", 1)
    assert store.create_claim(claim)
    register(store, claim.claim_id)
    verify_eligibility(store, FakeEligibility(), claim.claim_id)
    code(store, _schedules, claim.claim_id)
    enter_charges(store, _schedules, claim.claim_id)
    assert store.get_claim(claim.claim_id).status == S.CHARGED
    return claim.claim_id


def test_execution_names_round_trip() -> None:
    assert execution_name("CLMABC", 1) == "CLMABC"
    assert execution_name("CLMABC", 2) == "CLMABC-r2"
    assert claim_of_execution("CLMABC-r12") == ("CLMABC", 12)
    assert claim_of_execution("CLMABC") == ("CLMABC", 1)
    assert claim_of_execution("CLM-PAID") == ("CLM-PAID", 1)  # a hyphen alone is not an attempt


def test_failed_claim_is_retried_from_its_last_good_stage_by_a_new_execution() -> None:
    """Hostile case: on main FAILED had no way out and the execution name (the claim id) was taken."""
    store, workflow, files = FakeStore(), FakeWorkflow(), FakeArtifacts()
    claim_id = _charged(store)
    assert fail(store, claim_id, "ConcurrentUpdate").model_dump(mode="json") == {"status": "FAILED"}
    failed = store.get_claim(claim_id)
    assert (failed.status, failed.failed_from, failed.failure, failed.attempt) == (
        S.FAILED,
        S.CHARGED,
        "ConcurrentUpdate",
        1,
    )
    assert failed.hold_reasons == ["workflow error: ConcurrentUpdate"]
    workflow.statuses[claim_id] = "FAILED"  # the first execution ended in its Failed state

    result = retry_claim(store, workflow, claim_id, STAFF)

    assert result == {
        "claim_id": claim_id,
        "status": "CHARGED",
        "attempt": 2,
        "execution": f"{claim_id}-r2",
        "started": True,
    }
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.attempt, claim.failed_from, claim.failure, claim.hold_reasons) == (
        S.CHARGED,
        2,
        None,
        None,
        [],
    )
    assert workflow.started == {f"{claim_id}-r2": "clinic-northside"}
    event = store.events(claim_id)[-1]
    assert (event.actor, event.old_status, event.new_status) == (STAFF, "FAILED", "CHARGED")
    assert event.detail == {"retry_by": STAFF, "attempt": 2, "execution": f"{claim_id}-r2", "from": "FAILED"}
    # The new execution carries on: the stages before are skipped, submission files the 837P once.
    assert register(store, claim_id).patient_id == claim.patient_id
    assert code(store, _schedules, claim_id).decision == "coded"
    submit(store, files, _submitter(), claim_id)
    assert store.get_claim(claim_id).status == S.SUBMITTED
    assert len(files.keys("outbox/837/")) == 1


def test_a_claim_failed_after_submission_is_not_filed_again() -> None:
    store, workflow, files = FakeStore(), FakeWorkflow(), FakeArtifacts()
    claim_id = _charged(store)
    submit(store, files, _submitter(), claim_id)
    fail(store, claim_id, "Lambda.Unknown")
    retry_claim(store, workflow, claim_id, STAFF)
    assert store.get_claim(claim_id).status == S.SUBMITTED
    version = store.get_claim(claim_id).version
    assert submit(store, files, _submitter(), claim_id).interchange_control_number == "000000001"
    assert store.get_claim(claim_id).version == version  # skipped: already past submission
    assert files.keys("outbox/837/") == [f"outbox/837/{claim_id}-000000001.x12"]


def test_a_retry_is_refused_while_the_workflow_runs_and_counts_attempts() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim_id = _charged(store)
    workflow.start_claim(claim_id, "clinic-northside")
    with pytest.raises(NotRetryable, match=f"claim {claim_id} is CHARGED; its workflow is RUNNING"):
        retry_claim(store, workflow, claim_id, STAFF)
    fail(store, claim_id, "Lambda.Unknown")
    assert retry_claim(store, workflow, claim_id, STAFF)["execution"] == f"{claim_id}-r2"
    with pytest.raises(NotRetryable, match="its workflow is RUNNING"):  # a second click: r2 runs
        retry_claim(store, workflow, claim_id, STAFF)
    fail(store, claim_id, "Lambda.Unknown")
    assert retry_claim(store, workflow, claim_id, STAFF)["execution"] == f"{claim_id}-r3"
    assert sorted(workflow.started) == [claim_id, f"{claim_id}-r2", f"{claim_id}-r3"]


def test_a_retry_whose_execution_cannot_start_leaves_the_claim_failed() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim_id = _charged(store)
    fail(store, claim_id, "Lambda.Unknown")
    workflow.start_error = RuntimeError("ServiceUnavailable")
    with pytest.raises(RuntimeError):
        retry_claim(store, workflow, claim_id, STAFF)
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.failed_from, claim.failure, claim.attempt) == (
        S.FAILED,
        S.CHARGED,
        "RetryNotStarted",
        2,
    )
    workflow.start_error = None
    assert retry_claim(store, workflow, claim_id, STAFF)["execution"] == f"{claim_id}-r3"
    assert store.get_claim(claim_id).status == S.CHARGED


def test_a_claim_failed_before_this_change_has_no_recorded_stage_and_is_refused() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim_id = _charged(store)
    fail(store, claim_id, "Lambda.Unknown")
    legacy = store.get_claim(claim_id).model_copy(update={"failed_from": None})
    store.save(legacy, actor="test")
    with pytest.raises(NotRetryable, match="no recorded stage"):
        retry_claim(store, workflow, claim_id, STAFF)


def test_a_payment_posted_while_failed_makes_the_retry_restore_the_posted_status() -> None:
    store = FakeStore()
    claim_id = _charged(store)
    claim = store.get_claim(claim_id)
    waiting = claim.model_copy(update={"status": S.FAILED, "failed_from": S.AWAITING_REMITTANCE})
    assert restore_status(waiting) == S.AWAITING_REMITTANCE
    assert restore_status(waiting.model_copy(update={"remittance_outcome": "denied"})) == S.DENIED
    assert restore_status(waiting.model_copy(update={"remittance_outcome": "paid"})) == S.PAID
    # Failed in follow-up after a posting: back to the posted status, follow-up runs again.
    denied = claim.model_copy(update={"status": S.FAILED, "failed_from": S.DENIED, "remittance_outcome": "denied"})
    assert restore_status(denied) == S.DENIED


def test_every_status_a_claim_can_fail_from_is_one_a_retry_may_restore() -> None:
    for status in set(S) - {S.CLOSED, S.FAILED}:
        check_transition(status, S.FAILED)
        check_transition(S.FAILED, status)


def test_mark_failed_failing_leaves_a_stuck_claim_that_is_found_and_recovered() -> None:
    """Hostile case: MarkFailed itself failed, the claim kept its old status and no work queue
    showed it. The failed execution makes it a stuck claim, and the same retry recovers it."""
    store, workflow, files = FakeStore(), FakeWorkflow(), FakeArtifacts()
    claim_id = _charged(store)
    other = _charged(store, "E2")
    done = _charged(store, "E3")
    workflow.start_claim(claim_id, "clinic-northside")
    workflow.start_claim(other, "clinic-northside")
    workflow.start_claim(done, "clinic-northside")
    workflow.statuses[claim_id] = "FAILED"  # ended in MarkFailedFailed: the claim is still CHARGED
    workflow.statuses[done] = "FAILED"
    fail(store, done, "Lambda.Unknown")  # MarkFailed worked here: FAILED, on the FAILED work queue

    assert stuck_claims(store, workflow) == [StuckClaim(claim_id, "clinic-northside", "CHARGED", 1, claim_id)]

    assert retry_claim(store, workflow, claim_id, STAFF)["execution"] == f"{claim_id}-r2"
    assert stuck_claims(store, workflow) == []  # r2 runs; the old attempt no longer counts
    submit(store, files, _submitter(), claim_id)
    assert store.get_claim(claim_id).status == S.SUBMITTED
    with pytest.raises(NotRetryable, match="its workflow is RUNNING"):
        retry_claim(store, workflow, other, STAFF)


@pytest.mark.parametrize(
    ("outcome", "adjudicated", "resumed_with"),
    [
        ("short_paid", {"status": S.SHORT_PAID, "remittance_outcome": "short_paid"}, "short_paid"),
        ("denied", {"status": S.DENIED, "remittance_outcome": "denied"}, "denied"),
        ("rejected", {"status": S.REJECTED, "rejection_reason": "277CA A7:21"}, "rejected"),
        ("timed_out", {}, "timed_out"),
    ],
)
def test_a_claim_retried_after_its_follow_up_is_not_left_waiting_for_remittance(
    outcome: str, adjudicated: dict[str, object], resumed_with: str
) -> None:
    """Found by the 1,000-claim fault run: the follow-up stage did its work (FOLLOW_UP), then its
    invocation timed out and the claim went FAILED. The retry's execution runs every stage again and
    parked a remittance wait that nothing would ever resume (the 835 was posted long ago)."""
    store, workflow, files = FakeStore(), FakeWorkflow(), FakeArtifacts()
    claim_id = _charged(store)
    submit(store, files, _submitter(), claim_id)
    assert park_task_token(store, workflow, claim_id, "remittance", "remittance", "tok-1").parked
    waiting = store.get_claim(claim_id)
    new_status = adjudicated.pop("status", None)
    store.save(waiting.model_copy(update={"task_token": None, **adjudicated}), actor="posting", new_status=new_status)
    routed = follow_up(store, claim_id, outcome)
    assert store.get_claim(claim_id).status == S.FOLLOW_UP
    fail(store, claim_id, "Sandbox.Timedout")
    workflow.statuses[claim_id] = "FAILED"
    assert retry_claim(store, workflow, claim_id, STAFF)["status"] == "FOLLOW_UP"

    assert park_task_token(store, workflow, claim_id, "remittance", "remittance", "tok-2") == AlreadyAdjudicated(
        outcome=resumed_with
    )
    assert workflow.resumed == [("tok-2", {"outcome": resumed_with})]
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.task_token) == (S.FOLLOW_UP, None)
    assert follow_up(store, claim_id, resumed_with) == routed  # what follow-up decided stays
    assert store.get_claim(claim_id).version == claim.version


def test_a_claim_before_its_remittance_still_parks_its_wait() -> None:
    store, workflow, files = FakeStore(), FakeWorkflow(), FakeArtifacts()
    claim_id = _charged(store)
    submit(store, files, _submitter(), claim_id)
    fail(store, claim_id, "Lambda.Unknown")
    workflow.statuses[claim_id] = "FAILED"
    retry_claim(store, workflow, claim_id, STAFF)
    assert park_task_token(store, workflow, claim_id, "remittance", "remittance", "tok-2").parked
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.task_token, workflow.resumed) == (S.AWAITING_REMITTANCE, "tok-2", [])


def test_recheck_keeps_the_token_until_send_task_success_succeeds() -> None:
    """Hostile case: on main the token was cleared before SendTaskSuccess, so a failed call left
    the hold silent until its timeout. Now the failed call changes nothing and a second try works."""
    store, workflow = FakeStore(), FakeWorkflow()
    claim = new_claim(make_encounter(encounter_id="E9", clinic_id="clinic-northside"), "encounters/a.json", 1)
    store.create_claim(claim)
    claim_id = claim.claim_id
    register(store, claim_id)
    held = store.get_claim(claim_id).model_copy(update={"hold_reasons": ["coverage inactive"]})
    store.save(held, actor="eligibility", new_status=S.ELIGIBILITY_HOLD)
    park_task_token(store, workflow, claim_id, "staff", "eligibility", "hold-tok")

    workflow.resume_error = RuntimeError("ThrottlingException")
    with pytest.raises(RuntimeError):
        recheck_hold(store, workflow, claim_id, STAFF)
    assert store.get_claim(claim_id).task_token == "hold-tok"
    assert workflow.resumed == []

    workflow.resume_error = None
    assert recheck_hold(store, workflow, claim_id, STAFF) == {
        "claim_id": claim_id,
        "status": "ELIGIBILITY_HOLD",
        "rechecked": True,
    }
    assert workflow.resumed == [("hold-tok", {"rechecked": True})]
    assert store.get_claim(claim_id).task_token is None
    assert store.events(claim_id)[-1].detail == {"recheck_by": STAFF}


def test_recheck_of_an_ended_hold_clears_the_stale_token_and_says_so() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim = new_claim(make_encounter(encounter_id="E8", clinic_id="clinic-northside"), "encounters/a.json", 1)
    store.create_claim(claim)
    register(store, claim.claim_id)
    held = store.get_claim(claim.claim_id)
    store.save(held, actor="eligibility", new_status=S.ELIGIBILITY_HOLD)
    park_task_token(store, workflow, claim.claim_id, "staff", "eligibility", "old-tok")
    workflow.ended.add("old-tok")
    with pytest.raises(NotOnHold, match="its hold already ended"):
        recheck_hold(store, workflow, claim.claim_id, STAFF)
    assert store.get_claim(claim.claim_id).task_token is None
    with pytest.raises(NotOnHold, match="not waiting on a hold"):
        recheck_hold(store, workflow, claim.claim_id, STAFF)
