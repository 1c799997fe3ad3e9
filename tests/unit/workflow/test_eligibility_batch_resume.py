"""A claim held because the payer did not answer its real-time check is resumed when a batch 271
answer for it arrives (same member, payer and date of service, asked as its clinic's billing
provider for its visit's service type), through the recheck's use case, once; its stage then uses
the batch answer. A kept answer for another service type is not the visit's: the stage asks live."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from infra.local.payer_eligibility import EligibilityResponder
from medbill.models.eligibility import EligibilityResult
from medbill.models.status import ClaimStatus as S
from medbill.workflow import eligibility_files as files
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import park_task_token, register, verify_eligibility
from tests.factories import DEMO_ENCOUNTER, make_encounter
from tests.fakes import FakeEligibility, FakeStore, FakeWorkflow
from tests.unit.workflow.test_eligibility_files import EVENING, KEY, MORNING, TOMORROW, Bucket

ANSWER_KEY = "eligibility/271/0a1b2c3d4e5f-B000000001.271"
UNANSWERED = EligibilityResult(False, "unavailable", rejection_codes=("42",), retry_after_seconds=900)
LATER = MORNING + timedelta(minutes=5)  # the 271 comes in after the morning's claims were held


class _Bucket(Bucket):
    def __init__(self) -> None:
        super().__init__()
        self.workflow = FakeWorkflow()  # the executions the 271 consumer resumes


def _bucket(*rows: dict[str, str]) -> _Bucket:
    b = _Bucket()
    if rows:
        b.artifacts.write(KEY, ("\n".join(json.dumps(r) for r in rows) + "\n").encode())
    return b


def _held(store: FakeStore, workflow: FakeWorkflow, eid: str, token: str, **overrides: Any) -> str:
    """A claim of tomorrow's visit whose real-time check the payer did not answer, parked on its token."""
    enc = make_encounter(base=DEMO_ENCOUNTER, encounter_id=eid, date_of_service="2026-11-21", **overrides)
    claim = new_claim(enc, "encounters/a.json", 1)
    store.create_claim(claim)
    register(store, claim.claim_id)
    gateway = FakeEligibility({(enc.coverage.payer_id, enc.coverage.member_id): UNANSWERED})
    held = verify_eligibility(store, gateway, claim.claim_id, now=lambda: MORNING, answers=store)
    assert held.rules == ["ELIG-UNAVAILABLE"]
    park_task_token(store, workflow, claim.claim_id, "staff", "VerifyEligibility", token)
    return claim.claim_id


def _answer(b: _Bucket) -> dict[str, Any]:
    (outbox,) = b.run().outbox_keys
    b.artifacts.write(ANSWER_KEY, EligibilityResponder().respond(b.artifacts.read(outbox).decode(), EVENING))
    return files.ingest_271(b.artifacts, b.ledger, b.store, ANSWER_KEY, LATER, claims=b.store, workflow=b.workflow)


def test_a_claim_held_for_an_unanswered_check_is_resumed_by_its_batch_answer_once() -> None:
    b = _bucket()
    claim_id = _held(b.store, b.workflow, "E-HELD", "tok-held")
    # Another clinic's claim (another billing provider) for the same member, payer and day: the 270
    # was asked as the first clinic, so its answer is not this clinic's.
    other_clinic = _held(
        b.store, b.workflow, "E-OTHER", "tok-other", clinic_id="clinic-lakeview", billing_provider__npi="1245319599"
    )

    report = _answer(b)

    # Was: nothing resumed; the claim waited for the 15-minute recheck to ask the live endpoint again.
    assert (report["kept"], report["resumed"]) == (3, 1)
    assert b.workflow.resumed == [("tok-held", {"rechecked": True})]
    saved = b.store.get_claim(claim_id)
    assert saved.task_token is None and saved.status == S.ELIGIBILITY_HOLD
    assert b.store.events(claim_id)[-1].actor == "eligibility-271"
    assert b.store.get_claim(other_clinic).task_token == "tok-other"
    assert b.artifacts.read_json(f"eligibility/reports/{ANSWER_KEY.rsplit('/', 1)[-1]}.json")["resumed"] == 1

    # S3 / SQS deliver again: the same answers are kept again, nothing is resumed twice.
    again = files.ingest_271(b.artifacts, b.ledger, b.store, ANSWER_KEY, LATER, claims=b.store, workflow=b.workflow)
    assert again["resumed"] == 0 and len(b.workflow.resumed) == 1

    # The resumed execution runs the stage again: it takes the batch answer, it does not ask.
    gateway = FakeEligibility({("PAYERA01", TOMORROW["member_id"]): UNANSWERED})
    decision = verify_eligibility(b.store, gateway, claim_id, now=lambda: LATER, answers=b.store)
    assert decision.decision == "eligible" and gateway.checked == []
    saved = b.store.get_claim(claim_id)
    assert saved.status == S.ELIGIBLE and saved.coverage is not None and saved.coverage.checked_at == LATER


def test_a_failed_resume_keeps_the_hold_for_the_next_delivery() -> None:
    b = _bucket()
    claim_id = _held(b.store, b.workflow, "E-HELD", "tok-held")
    b.workflow.resume_error = RuntimeError("ThrottlingException")
    try:
        _answer(b)
    except RuntimeError:
        pass
    else:  # pragma: no cover - the failure must reach SQS (the message is retried)
        raise AssertionError("a failed SendTaskSuccess must fail the message")
    assert b.store.get_claim(claim_id).task_token == "tok-held"
    b.workflow.resume_error = None
    retried = files.ingest_271(b.artifacts, b.ledger, b.store, ANSWER_KEY, LATER, claims=b.store, workflow=b.workflow)
    assert retried["resumed"] == 1 and b.workflow.resumed == [("tok-held", {"rechecked": True})]


def test_answers_that_do_not_cover_the_held_claim_resume_nothing() -> None:
    # The appointment was asked for service type 30; the held visit (99213) needs 98.
    b = _bucket(TOMORROW | {"service_type": "30"})
    other_type = _held(b.store, b.workflow, "E-98", "tok-98")
    # Held for a reason a person fixes (coverage ended): never resumed by an answer.
    ended = make_encounter(base=DEMO_ENCOUNTER, encounter_id="E-ENDED", date_of_service="2026-11-21")
    claim = new_claim(ended, "encounters/a.json", 2)
    b.store.create_claim(claim)
    register(b.store, claim.claim_id)
    b.store.save(
        b.store.get_claim(claim.claim_id).model_copy(update={"task_token": "tok-ended"}),
        actor="test",
        new_status=S.ELIGIBILITY_HOLD,
    )

    report = _answer(b)

    assert (report["kept"], report["resumed"]) == (1, 0)
    assert b.workflow.resumed == []
    for claim_id in (other_type, claim.claim_id):
        assert b.store.get_claim(claim_id).task_token is not None

    # When the 15-minute recheck resumes the 98 visit, the kept answer for 30 is not its answer: live.
    gateway = FakeEligibility()
    decision = verify_eligibility(b.store, gateway, other_type, now=lambda: LATER, answers=b.store)
    assert decision.decision == "eligible" and gateway.checked == [("PAYERA01", TOMORROW["member_id"], MORNING.date())]
    assert b.store.get_claim(other_type).coverage.service_type == "98"  # type: ignore[union-attr]


def test_a_person_rechecking_a_claim_held_for_another_reason_still_gets_a_fresh_answer() -> None:
    b = _bucket()
    (outbox,) = b.run().outbox_keys
    b.artifacts.write(ANSWER_KEY, EligibilityResponder().respond(b.artifacts.read(outbox).decode(), EVENING))
    files.ingest_271(b.artifacts, b.ledger, b.store, ANSWER_KEY, LATER)
    enc = make_encounter(base=DEMO_ENCOUNTER, encounter_id="E-FIXED", date_of_service="2026-11-21")
    claim = new_claim(enc, "encounters/a.json", 1)
    b.store.create_claim(claim)
    register(b.store, claim.claim_id)
    inactive = EligibilityResult(False, "coverage_inactive")
    held = verify_eligibility(
        b.store, FakeEligibility({("PAYERA01", enc.coverage.member_id): inactive}), claim.claim_id, answers=None
    )
    assert held.decision == "hold" and b.store.get_claim(claim.claim_id).eligibility_retry_at is None
    gateway = FakeEligibility()
    verify_eligibility(b.store, gateway, claim.claim_id, now=lambda: LATER, answers=b.store)
    assert len(gateway.checked) == 1  # asked again, though an answer is kept for today


def test_a_kept_answer_for_another_service_type_is_not_used_for_a_new_claim() -> None:
    b = _bucket(TOMORROW | {"service_type": "30"})  # the evening batch asked 30 (plan coverage)
    (outbox,) = b.run().outbox_keys
    b.artifacts.write(ANSWER_KEY, EligibilityResponder().respond(b.artifacts.read(outbox).decode(), EVENING))
    files.ingest_271(b.artifacts, b.ledger, b.store, ANSWER_KEY, EVENING.replace(minute=50))
    enc = make_encounter(base=DEMO_ENCOUNTER, encounter_id="E-NEW", date_of_service="2026-11-21")
    claim = new_claim(enc, "encounters/a.json", 1)
    b.store.create_claim(claim)
    register(b.store, claim.claim_id)
    gateway = FakeEligibility()
    verify_eligibility(b.store, gateway, claim.claim_id, now=lambda: MORNING, answers=b.store)
    # Was: the answer for 30 used for the 99213 visit (98), its copay and "not covered" unread.
    assert gateway.checked == [("PAYERA01", TOMORROW["member_id"], MORNING.date())]
    assert b.store.get_claim(claim.claim_id).coverage.service_type == "98"  # type: ignore[union-attr]
