"""The stage use cases on the in-memory fakes: each stage's typed result gives the JSON the state
machine reads (claim.asl.json), each stage is safe to run twice, and every status change is checked
before the store is called."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from medbill.billing.claim_updates import save_claim, with_lock_retry
from medbill.billing.fees import FeeSchedule
from medbill.models.claim import Claim
from medbill.models.eligibility import EligibilityResult
from medbill.models.status import ClaimStatus as S
from medbill.models.status import InvalidTransition
from medbill.ports import ConcurrentUpdate
from medbill.workflow.intake import ingest_encounter_file, new_claim
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
from tests.fakes import FakeArtifacts, FakeEligibility, FakeStore, FakeWorkflow, racing


def _schedules(clinic_id: str) -> FeeSchedule:
    return FeeSchedule.load(clinic_id)


def _submitter() -> Submitter:
    def write(claim: Claim, control: int, created: datetime) -> str:
        return f"ISA*{control:09d}*{claim.claim_id}~"

    return Submitter(write=write, outbox_prefix="outbox/837/")


def _new(store: FakeStore, encounter_id: str = "E1") -> str:
    claim = new_claim(make_encounter(encounter_id=encounter_id, clinic_id="clinic-northside"), "encounters/a.json", 1)
    assert store.create_claim(claim)
    return claim.claim_id


def test_the_happy_path_returns_the_json_the_state_machine_reads() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    claim_id = _new(store)
    registered = register(store, claim_id).model_dump(mode="json")
    assert list(registered) == ["patient_id"] and registered["patient_id"].startswith("PAT")
    assert verify_eligibility(store, FakeEligibility(), claim_id).model_dump(mode="json") == {
        "decision": "eligible",
        "rules": [],
    }
    assert code(store, _schedules, claim_id).model_dump(mode="json") == {"decision": "coded", "rules": []}
    charged = enter_charges(store, _schedules, claim_id).model_dump(mode="json")
    assert charged == {"total_charge": f"{store.get_claim(claim_id).total_charge:.2f}"}
    assert submit(store, files, _submitter(), claim_id).model_dump(mode="json") == {
        "interchange_control_number": "000000001"
    }
    assert files.keys("outbox/837/") == [f"outbox/837/{claim_id}-000000001.x12"]
    assert park_task_token(store, workflow, claim_id, "remittance", "Submit", "tok").model_dump(mode="json") == {
        "parked": True
    }
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.task_token) == (S.AWAITING_REMITTANCE, "tok")
    assert follow_up(store, claim_id, "timed_out").model_dump(mode="json") == {
        "status": "FOLLOW_UP",
        "action": store.get_claim(claim_id).follow_up_action,
    }
    assert fail(store, claim_id, "States.TaskFailed").model_dump(mode="json") == {"status": "FAILED"}
    assert [e.new_status for e in store.events(claim_id)][-1] == "FAILED"


def test_every_stage_run_twice_returns_the_recorded_result() -> None:
    store, files = FakeStore(), FakeArtifacts()
    claim_id = _new(store)
    first = [
        register(store, claim_id),
        verify_eligibility(store, FakeEligibility(), claim_id),
        code(store, _schedules, claim_id),
        enter_charges(store, _schedules, claim_id),
        submit(store, files, _submitter(), claim_id),
    ]
    version = store.get_claim(claim_id).version
    again = [
        register(store, claim_id),
        verify_eligibility(store, FakeEligibility(), claim_id),
        code(store, _schedules, claim_id),
        enter_charges(store, _schedules, claim_id),
        submit(store, files, _submitter(), claim_id),
    ]
    assert again == first and store.get_claim(claim_id).version == version
    assert len(files.keys("outbox/837/")) == 1


def test_an_inactive_coverage_holds_the_claim_with_a_reason_and_a_person_rechecks_it() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim_id = _new(store)
    register(store, claim_id)
    enc = store.get_claim(claim_id).encounter
    gateway = FakeEligibility(
        {(enc.coverage.payer_id, enc.coverage.member_id): EligibilityResult(False, "coverage_inactive")}
    )
    held = verify_eligibility(store, gateway, claim_id).model_dump(mode="json")
    assert held == {"decision": "hold", "rules": ["ELIG-COVERAGE-INACTIVE"]}
    assert "is not active" in store.get_claim(claim_id).hold_reasons[0]
    with pytest.raises(NotOnHold):
        recheck_hold(store, workflow, claim_id, "staff")  # no token parked yet
    park_task_token(store, workflow, claim_id, "staff", "VerifyEligibility", "hold-tok")
    assert recheck_hold(store, workflow, claim_id, "staff") == {
        "claim_id": claim_id,
        "status": "ELIGIBILITY_HOLD",
        "rechecked": True,
    }
    assert workflow.resumed == [("hold-tok", {"rechecked": True})]


def test_a_transition_the_workflow_does_not_allow_never_reaches_the_store() -> None:
    store = FakeStore()
    claim_id = _new(store)
    with pytest.raises(InvalidTransition):
        save_claim(store, store.get_claim(claim_id), actor="t", new_status=S.PAID)
    assert store.get_claim(claim_id).version == 0 and store.writes == 0


def test_a_stage_that_loses_the_race_reads_again_and_retries() -> None:
    store = FakeStore()
    claim_id = _new(store)

    def rival() -> None:  # another writer touches the claim between our read and our write
        store.save(store.get_claim(claim_id), actor="rival", detail={})

    with racing(store, claim_id, rival):
        register(store, claim_id)
    claim = store.get_claim(claim_id)
    assert (claim.status, claim.version) == (S.REGISTERED, 2)
    assert [e.actor for e in store.events(claim_id)] == ["intake", "rival", "registration"]


def test_with_lock_retry_gives_up_after_its_attempts() -> None:
    store = FakeStore()
    claim_id = _new(store)
    calls = []

    def always_loses(claim: Claim) -> None:
        calls.append(claim.version)
        raise ConcurrentUpdate(claim.claim_id)

    with pytest.raises(ConcurrentUpdate):
        with_lock_retry(store, claim_id, always_loses)
    assert len(calls) == 5


def test_intake_creates_each_claim_once_and_starts_one_execution_each() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    encounter = make_encounter(encounter_id="E9")
    files.write("encounters/one.json", f"[{encounter.model_dump_json()}]")
    first = ingest_encounter_file(store, files, workflow, "encounters/one.json")
    again = ingest_encounter_file(store, files, workflow, "encounters/one.json")  # S3 delivered it twice
    assert (first.claims_created, again.claims_created, again.claims_existing) == (1, 0, 1)
    assert list(workflow.started) == first.claim_ids == again.claim_ids
    assert files.read_json("rejections/encounters/one.json")["complete"] is True


def test_paid_before_the_wait_began_resumes_at_once() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim_id = _new(store)
    claim = store.get_claim(claim_id).model_copy(update={"status": S.PAID, "remittance_outcome": "paid"})
    store._claims[claim_id] = claim  # as if the 835 had been posted before the wait task ran
    result = park_task_token(store, workflow, claim_id, "remittance", "Submit", "late-tok")
    assert result.model_dump(mode="json") == {"parked": False, "outcome": "paid"}
    assert workflow.resumed == [("late-tok", {"outcome": "paid"})]
    assert store.get_claim(claim_id).task_token is None
    assert Decimal(store.get_claim(claim_id).paid_amount) == Decimal("0.00")
