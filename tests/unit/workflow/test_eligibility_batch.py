"""Batch eligibility: appointments (JSON Lines / CSV) with a rejection report -> one 270 -> the
simulator's 271 -> matched back by TRN trace -> kept for the day -> the stage uses it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from infra.local.payer_eligibility import EligibilityResponder
from medbill.models.status import ClaimStatus as S
from medbill.workflow import eligibility_batch as batch
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import register, verify_eligibility
from medbill.x12.eligibility.reader271 import parse_270
from tests.factories import DEMO_ENCOUNTER, make_encounter
from tests.fakes import FakeEligibility, FakeStore

KEY = "appointments/clinic-northside-2026-11-20.jsonl"
RECEIVED = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
GOOD = {
    "appointment_id": "A1",
    "date_of_service": "2026-11-20",
    "payer_id": "PAYERA01",
    "payer_name": "Acme (demo)",
    "member_id": "ACM100200301",
    "last_name": "Testerson",
    "first_name": "Ada",
    "birth_date": "1968-04-12",
    "provider_npi": "1990000014",
    "provider_name": "Northside Family Medicine (demo)",
    "service_type": "98",
}
CHILD = GOOD | {
    "appointment_id": "A2",
    "payer_id": "PAYERC03",
    "member_id": "CCH-5520-0012",
    "patient_last_name": "Testerson",
    "patient_first_name": "Kid",
    "patient_birth_date": "2015-06-07",
    "relationship": "child",
}


def _file() -> bytes:
    lines = [
        json.dumps(GOOD),
        json.dumps(CHILD),
        json.dumps({k: v for k, v in GOOD.items() if k != "member_id"} | {"appointment_id": "A3"}),
        json.dumps(GOOD | {"provider_npi": "1234567890", "date_of_service": "2026-13-01"}),
        "{not json",
        json.dumps(GOOD | {"member_id": "ACM900000001", "appointment_id": "A6"}),
    ]
    return ("\n".join(lines) + "\n").encode()


def test_appointments_are_read_with_a_rejection_report_naming_fields_only() -> None:
    read = batch.read_appointments(KEY, _file())
    assert [i.trace_number for i in read.inquiries] == [batch.trace_for(KEY, n) for n in (1, 2, 6)]
    assert read.report(KEY) == {
        "source_key": KEY,
        "counts": {"rows": 6, "accepted": 3, "rejected": 3},
        "rejections": [
            {"row": 3, "reason": "missing member_id"},
            {"row": 4, "reason": "invalid date_of_service, provider_npi"},
            {"row": 5, "reason": "not a JSON object"},
        ],
        "file_error": None,
    }
    assert "ACM" not in json.dumps(read.report(KEY)) and "Testerson" not in json.dumps(read.report(KEY))


def test_csv_appointments_read_the_same() -> None:
    header = ",".join(GOOD)
    body = f"{header}\n{','.join(GOOD.values())}\n{','.join(v if k != 'payer_id' else '' for k, v in GOOD.items())}\n"
    read = batch.read_appointments("appointments/a.csv", body.encode())
    assert len(read.inquiries) == 1 and read.rejections == [{"row": 3, "reason": "missing payer_id"}]


def test_one_270_the_271_matched_back_and_the_stage_uses_the_answer() -> None:
    read = batch.read_appointments(KEY, _file())
    x12 = batch.write_batch_270(
        read.inquiries, sender_id="MEDBILL", receiver_id="CLEARINGHOUSE", control_number=7, created=RECEIVED
    )
    (request,), problems = parse_270(x12)
    assert problems == [] and len(request.subscribers) == 3
    assert [len(s.subscriber.dependents) for s in request.subscribers] == [0, 0, 1]  # grouped by payer
    answer_271 = EligibilityResponder().respond(x12)
    store = FakeStore()
    summary = batch.match_271(answer_271, batch.manifest(read.inquiries), store, RECEIVED)
    assert (summary.matched, summary.kept, summary.unknown_traces, summary.problems) == (3, 3, 0, 0)

    enc = make_encounter(base=DEMO_ENCOUNTER, encounter_id="E-BATCH")  # ACM100200301 at PAYERA01 on 2026-11-20
    claim = new_claim(enc, "encounters/a.json", 1)
    store.create_claim(claim)
    register(store, claim.claim_id)
    gateway = FakeEligibility()
    decision = verify_eligibility(store, gateway, claim.claim_id, now=lambda: RECEIVED, answers=store)
    assert decision.decision == "eligible" and gateway.checked == []  # the batch answer, not a new question
    saved = store.get_claim(claim.claim_id)
    assert saved.status == S.ELIGIBLE and saved.coverage is not None
    assert (saved.coverage.plan, saved.coverage.copay, saved.coverage.deductible_remaining) == (
        "Acme PPO Silver (demo)",
        Decimal("25.00"),
        Decimal("500.00"),
    )
    assert saved.coverage.checked_at == RECEIVED
