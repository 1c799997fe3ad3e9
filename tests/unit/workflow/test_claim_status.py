"""Claim status inquiry (workflow.claim_status): which quiet claims a 276 asks about, per payer,
and the 277 answer recorded on the claim (a rejecting status sends a waiting claim to follow-up)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from medbill.models.claim import Acknowledgement, Claim, Filing
from medbill.models.status import ClaimStatus as S
from medbill.workflow.claim_status import InquiryPolicy, PayerTimes, due_for_inquiry, receive_277_file
from medbill.workflow.intake import new_claim
from medbill.x12.ack277ca import StatusCode
from medbill.x12.claim837 import ControlNumbers
from medbill.x12.status276 import StatusAnswer, write_277
from tests.factories import make_encounter
from tests.fakes import FakeArtifacts, FakeStore, FakeWorkflow

SENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _claim(n: int, status: S, *, acks: tuple[str, ...] = (), payer: str | None = None) -> Claim:
    enc = make_encounter(encounter_id=f"E{n}", clinic_id="clinic-northside")
    if payer:
        enc = enc.model_copy(update={"coverage": enc.coverage.model_copy(update={"payer_id": payer})})
    claim = new_claim(enc, "encounters/a.json", n)
    filing = Filing(
        outbox_key=f"outbox/837/{claim.claim_id}-{n:09d}.x12",
        interchange_control_number=f"{n:09d}",
        group_control_number=str(n),
        transaction_control_number=f"{n:04d}",
        written_at=SENT - timedelta(minutes=5),
        sent_at=SENT,
    )
    acknowledgements = [
        Acknowledgement(kind=k, key=f"acks/{k}", received_at=SENT + timedelta(hours=1), verdict="accepted")  # type: ignore[arg-type]
        for k in acks
    ]
    return claim.model_copy(update={"status": status, "filing": filing, "acknowledgements": acknowledgements})


def test_quiet_claims_are_asked_about_after_the_payers_times() -> None:
    policy = InquiryPolicy(default=PayerTimes(ack_hours=48, remittance_days=30), payers={"FAST": PayerTimes(6, 10)})
    no_277ca = _claim(1, S.AWAITING_REMITTANCE, acks=("999",))
    fast_payer = _claim(2, S.AWAITING_REMITTANCE, payer="FAST")
    accepted = _claim(3, S.ACCEPTED, acks=("999", "277CA"))
    answered = _claim(4, S.AWAITING_REMITTANCE, acks=("277CA",))
    paid = _claim(5, S.PAID)
    claims = [no_277ca, fast_payer, accepted, answered, paid]

    assert due_for_inquiry(claims, SENT + timedelta(hours=7), policy) == [fast_payer.claim_id]
    assert due_for_inquiry(claims, SENT + timedelta(hours=48), policy) == [no_277ca.claim_id, fast_payer.claim_id]
    assert due_for_inquiry(claims, SENT + timedelta(days=30), policy) == [
        no_277ca.claim_id,
        fast_payer.claim_id,
        accepted.claim_id,
    ]
    asked = accepted.model_copy(
        update={
            "acknowledgements": [
                *accepted.acknowledgements,
                Acknowledgement(
                    kind="277", key="status/277/a", received_at=SENT + timedelta(days=30), verdict="pending"
                ),
            ]
        }
    )
    assert due_for_inquiry([asked], SENT + timedelta(days=31), policy) == []  # asked a day ago
    assert due_for_inquiry([asked], SENT + timedelta(days=32), policy) == [asked.claim_id]


def test_a_277_answer_is_recorded_and_a_not_found_sends_a_waiting_claim_to_follow_up() -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    pending = _claim(1, S.ACCEPTED).model_copy(update={"task_token": "tok-1"})
    lost = _claim(2, S.AWAITING_REMITTANCE).model_copy(update={"task_token": "tok-2"})
    for claim in (pending, lost):
        assert store.create_claim(claim)
    answers = [
        StatusAnswer(
            claim_id=pending.claim_id,
            payer_id="P",
            status=StatusCode(category="P1", code="20"),
            effective=SENT,
            total_charge=D("100.00"),
        ),
        StatusAnswer(
            claim_id=lost.claim_id,
            payer_id="P",
            status=StatusCode(category="A4", code="35"),
            effective=SENT,
            total_charge=D("100.00"),
        ),
    ]
    files.write(
        "status/277/a.277",
        write_277(answers, sender_id="CH", receiver_id="MEDBILL", control_numbers=ControlNumbers(9, 9), created=SENT),
    )

    summary = receive_277_file(store, files, workflow, "status/277/a.277", received_at=SENT + timedelta(days=3))

    assert (summary.claims, summary.resumed) == (
        {pending.claim_id: "recorded", lost.claim_id: "rejected"},
        [lost.claim_id],
    )
    kept = store.get_claim(pending.claim_id)
    assert (kept.status, kept.task_token) == (S.ACCEPTED, "tok-1")
    assert [(a.kind, a.verdict, a.codes, a.reason) for a in kept.acknowledgements] == [
        ("277", "pending", ["P1:20"], "277 claim status: P1:20 Pending/In process: Accepted for processing")
    ]
    gone = store.get_claim(lost.claim_id)
    assert (gone.status, gone.rejection_reason) == (
        S.REJECTED,
        "277 claim status: A4:35 Acknowledgement/Not found: Claim/encounter not found",
    )
    assert workflow.resumed == [("tok-2", {"outcome": "rejected"})]
