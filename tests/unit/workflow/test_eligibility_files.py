"""Batch eligibility on the bucket (workflow/eligibility_files.py): the evening run turns every
appointments file not batched yet into one 270 in `outbox/270/` (upcoming, unverified appointments
only), once, with the same bytes after a crash; the exchange sends it like an 837P; the 271 is
matched back through the manifest, kept for the day it came and the appointment's day, and
reported; the claim's stage on the day of service uses it instead of asking."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.payer_eligibility import EligibilityResponder
from medbill.models.status import ClaimStatus as S
from medbill.workflow import eligibility_batch as batch
from medbill.workflow import eligibility_cache
from medbill.workflow import eligibility_files as files
from medbill.workflow.clearinghouse import ClearinghouseExchange
from medbill.workflow.filing import record_sent
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import register, verify_eligibility
from medbill.x12.eligibility.reader271 import parse_270
from tests import clearinghouse_fakes as ch
from tests.factories import DEMO_ENCOUNTER, make_encounter
from tests.fakes import FakeArtifacts, FakeEligibility, FakeStore

KEY = "appointments/clinic-northside-2026-11-21.jsonl"
EVENING = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # the batch run, the evening before
MORNING = datetime(2026, 11, 21, 6, 45, tzinfo=UTC)  # the 271 came back overnight... or not
ENVELOPE = files.BatchEnvelope(sender_id="MEDBILL", receiver_id="CLEARINGHOUSE", usage="T")
TOMORROW = {
    "appointment_id": "A1",
    "date_of_service": "2026-11-21",
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
CHILD = TOMORROW | {
    "appointment_id": "A2",
    "payer_id": "PAYERC03",
    "member_id": "CCH-5520-0012",
    "patient_last_name": "Testerson",
    "patient_first_name": "Kid",
    "patient_birth_date": "2015-06-07",
    "relationship": "child",
}
ENDED = TOMORROW | {"appointment_id": "A3", "member_id": "ACM900000001"}  # plan ended 2026-10-31
YESTERDAY = TOMORROW | {"appointment_id": "A4", "member_id": "ACM100200302", "date_of_service": "2026-11-19"}
NO_MEMBER = {k: v for k, v in TOMORROW.items() if k != "member_id"} | {"appointment_id": "A5"}


def _file(*rows: dict[str, str]) -> bytes:
    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


@dataclass
class Listing:
    """The appointments listing (Outbox port) over the fake bucket."""

    bucket: FakeArtifacts
    prefix: str = "appointments/"

    def waiting(self) -> Sequence[str]:
        return self.bucket.keys(self.prefix)


class Bucket:
    def __init__(self) -> None:
        self.artifacts, self.ledger, self.store = FakeArtifacts(), ch.FakeLedger(), FakeStore()
        self.artifacts.write(KEY, _file(TOMORROW, CHILD, NO_MEMBER, ENDED, YESTERDAY))

    def run(self, now: datetime = EVENING) -> files.BatchRun:
        return files.run_batches(
            self.artifacts,
            Listing(self.artifacts),
            self.ledger,
            self.store,
            lambda: self.store.next_counter("x12-interchange"),
            ENVELOPE,
            now,
        )


def test_the_evening_run_writes_one_270_of_upcoming_appointments_with_its_report_and_manifest() -> None:
    b = Bucket()
    b.store.next_counter("x12-interchange")  # an 837P took ISA13 1: the 270 gets the next one
    run = b.run()
    outbox = "outbox/270/B000000002-clinic-northside-2026-11-21.jsonl.x12"
    assert run.as_dict() == {
        "files": [KEY],
        "outbox_keys": [outbox],
        "already_batched": 0,
        "asked": 3,
        "rejected": 1,
        "skipped_past": 1,
        "skipped_answered": 0,
    }
    assert b.artifacts.read_json(f"rejections/{KEY}.json")["rejections"] == [{"row": 3, "reason": "missing member_id"}]
    (request,), problems = parse_270(b.artifacts.read(outbox).decode())
    assert problems == [] and request.reference == "B000000002"
    asked = [t.number for s in request.subscribers for m in (s.subscriber, *s.subscriber.dependents) for t in m.traces]
    assert sorted(asked) == sorted(batch.trace_for(KEY, n) for n in (1, 2, 4))  # row 5 is yesterday's
    assert sorted(b.ledger.records["manifest/B000000002"]) == sorted(asked)
    assert b.ledger.records[f"file/{KEY}"] == {"control_number": 2, "created": EVENING.isoformat()}
    assert b.ledger.records[f"done/{KEY}"]["outbox_key"] == outbox
    assert (
        b.artifacts.read(outbox)
        .decode()
        .startswith("ISA*00*          *00*          *ZZ*MEDBILL        *ZZ*CLEARINGHOUSE")
    )
    assert "*T*:~" in b.artifacts.read(outbox).decode()[:110]  # ISA15 from the envelope


def test_a_file_is_batched_once_and_a_crash_before_done_rewrites_the_same_270() -> None:
    b = Bucket()
    original_write = b.artifacts.write
    crashed: list[str] = []

    def crash_on_outbox(key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        if key.startswith("outbox/270/") and not crashed:
            crashed.append(key)
            original_write(key, body, content_type)
            raise RuntimeError("Lambda timed out after the put")
        original_write(key, body, content_type)

    b.artifacts.write = crash_on_outbox  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        b.run()
    first = b.artifacts.read(crashed[0])
    assert f"done/{KEY}" not in b.ledger.records

    retry = b.run(EVENING.replace(minute=35))  # the schedule's retry, minutes later
    assert retry.outbox_keys == crashed and b.artifacts.read(crashed[0]) == first  # same number, same bytes
    assert b.store.next_counter("x12-interchange") == 2  # one control number was used, not two
    again = b.run(EVENING.replace(day=21))
    assert (again.files, again.already_batched, again.asked) == ([], 1, 0)


def test_an_appointment_already_answered_today_is_not_asked_again() -> None:
    b = Bucket()
    member = TOMORROW["member_id"]
    key = eligibility_cache.answer_key("PAYERA01", member, date(2026, 11, 21))
    b.store.cache_eligibility(key, "2026-11-21", {"eligible": True})
    run = b.run()
    assert (run.asked, run.skipped_answered, run.skipped_past) == (2, 1, 1)
    assert len(b.ledger.records["manifest/B000000001"]) == 2


def test_a_file_with_nothing_to_ask_writes_its_report_and_no_270() -> None:
    b = Bucket()
    b.artifacts.files.clear()
    b.artifacts.write("appointments/late.csv", ",".join(YESTERDAY) + "\n" + ",".join(YESTERDAY.values()) + "\n")
    run = b.run()
    assert (run.files, run.outbox_keys, run.skipped_past) == (["appointments/late.csv"], [], 1)
    assert b.artifacts.keys("outbox/") == [] and "manifest/B000000001" not in b.ledger.records
    assert b.artifacts.read_json("rejections/appointments/late.csv.json")["counts"]["accepted"] == 1


def test_the_271_is_matched_kept_for_the_day_of_service_and_the_stage_uses_it() -> None:
    b = Bucket()
    (outbox,) = b.run().outbox_keys
    answer = EligibilityResponder().respond(b.artifacts.read(outbox).decode(), EVENING)
    b.artifacts.write("eligibility/271/0a1b2c3d4e5f-B000000001.271", answer)
    late = EVENING.replace(minute=50)  # answered the same evening: kept for tonight and for tomorrow
    report = files.ingest_271(b.artifacts, b.ledger, b.store, "eligibility/271/0a1b2c3d4e5f-B000000001.271", late)
    assert report == {
        "source_key": "eligibility/271/0a1b2c3d4e5f-B000000001.271",
        "received_at": late.isoformat(),
        "transactions": 1,
        "matched": 3,
        "kept": 3,
        "unknown_traces": 0,
        "problems": 0,
        "by_reason": {"active": 2, "coverage_ended": 1},
        "manifests_missing": [],
        "file_error": None,
    }
    assert b.artifacts.read_json("eligibility/reports/0a1b2c3d4e5f-B000000001.271.json") == report
    assert sorted(day for (_, day) in b.store._eligibility_answers) == ["2026-11-20"] * 3 + ["2026-11-21"] * 3
    for value in ("ACM", "Testerson", "1968", "2026-11-21"):
        assert value not in json.dumps(report).replace(late.isoformat(), "")

    enc = make_encounter(base=DEMO_ENCOUNTER, encounter_id="E-BATCH", date_of_service="2026-11-21")
    claim = new_claim(enc, "encounters/a.json", 1)
    b.store.create_claim(claim)
    register(b.store, claim.claim_id)
    gateway = FakeEligibility()
    decision = verify_eligibility(b.store, gateway, claim.claim_id, now=lambda: MORNING, answers=b.store)
    assert decision.decision == "eligible" and gateway.checked == []  # the batch answer, no new question
    saved = b.store.get_claim(claim.claim_id)
    assert saved.status == S.ELIGIBLE and saved.coverage is not None and saved.coverage.checked_at == late


def test_a_271_for_a_270_we_did_not_send_is_reported_not_a_crash() -> None:
    b = Bucket()
    stranger = b.artifacts.read(KEY)  # any appointments -> someone else's 270 (reference B000000777)
    read = batch.read_appointments("appointments/other.jsonl", stranger)
    x12 = batch.write_batch_270(
        read.inquiries[:1],
        sender_id="OTHER",
        receiver_id="CLEARINGHOUSE",
        control_number=777,
        created=EVENING,
        reference="B000000777",
    )
    b.artifacts.write("eligibility/271/x-other.271", EligibilityResponder().respond(x12, EVENING))
    report = files.ingest_271(b.artifacts, b.ledger, b.store, "eligibility/271/x-other.271", MORNING)
    assert (report["matched"], report["kept"], report["unknown_traces"], report["manifests_missing"]) == (
        0,
        0,
        1,
        ["B000000777"],
    )
    assert b.store._eligibility_answers == {}


def test_a_271_that_is_not_x12_is_reported_not_a_crash() -> None:
    b = Bucket()
    b.artifacts.write("eligibility/271/junk.271", b"ISA*00*broken")
    report = files.ingest_271(b.artifacts, b.ledger, b.store, "eligibility/271/junk.271", MORNING)
    assert report == {
        "source_key": "eligibility/271/junk.271",
        "received_at": MORNING.isoformat(),
        "file_error": "truncated: the file ends inside the ISA at segment 1; expected 16 elements followed by a "
        "segment terminator.",
    }
    assert b.artifacts.read_json("eligibility/reports/junk.271.json") == report
    assert b.store._eligibility_answers == {}


def test_the_exchange_sends_the_270_outbox_once_like_the_837s() -> None:
    artifacts, ledger, box = ch.FakeArtifacts(), ch.FakeLedger(), ch.FakeClearinghouse()
    artifacts.write("outbox/837/CLMA-000000001.x12", b"ISA-837")
    artifacts.write("outbox/270/B000000002-clinic.jsonl.x12", b"ISA-270")
    artifacts.write("outbox/276/S000000003.x12", b"ISA-276")
    stamped: list[str] = []
    exchange = ClearinghouseExchange(
        box, artifacts, ch.FakeOutbox(artifacts), ledger, settle_seconds=0, on_sent=lambda k, n, at: stamped.append(k)
    )
    first = exchange.run()
    assert first.sent == 3 and sorted(box.inbound) == [
        "B000000002-clinic.jsonl.x12",
        "CLMA-000000001.x12",
        "S000000003.x12",
    ]
    assert ledger.records["sent/outbox/270/B000000002-clinic.jsonl.x12"]["remote_name"] == "B000000002-clinic.jsonl.x12"
    assert stamped == [  # outbox by outbox, in OUTBOX_PREFIXES order
        "outbox/837/CLMA-000000001.x12",
        "outbox/276/S000000003.x12",
        "outbox/270/B000000002-clinic.jsonl.x12",
    ]
    second = exchange.run()
    assert (second.sent, second.already_sent, len(box.puts)) == (0, 3, 3)


def test_a_270_send_stamps_no_claim() -> None:
    store = FakeStore()
    assert record_sent(store, "outbox/270/B000000002-clinic-2026-11-21.x12", "x", EVENING) == []
    assert record_sent(store, "outbox/270/B000000002-clinic-20.x12", "x", EVENING) == []


# --- whatever the clearinghouse hands back, the consumer reports it --------------------------------
_BATCH = Bucket()
(_OUTBOX,) = _BATCH.run().outbox_keys
_ANSWER = EligibilityResponder().respond(_BATCH.artifacts.read(_OUTBOX).decode(), EVENING)
_SEGMENTS = _ANSWER.split("~")


@st.composite
def damaged_271(draw: st.DrawFn) -> str:
    segments = list(_SEGMENTS)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(segments) - 1))
        how = draw(st.sampled_from(["drop", "unknown", "garble", "truncate"]))
        if how == "drop":
            del segments[at]
        elif how == "unknown":
            segments.insert(at, draw(st.sampled_from(["ZZZ*1*2", "EB*Q*", "HL*99*98*22*0", "TRN*", "AAA*N*X*9"])))
        elif how == "garble":
            segments[at] = draw(st.text("ABC*:^0123456789", max_size=20))
        else:
            return "~".join(segments)[: draw(st.integers(0, len(_ANSWER)))]
    return "~".join(segments)


@given(damaged_271())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_271_is_reported_never_a_crash_and_never_quotes_a_value(text: str) -> None:
    ledger, artifacts, store = ch.FakeLedger(dict(_BATCH.ledger.records)), FakeArtifacts(), FakeStore()
    artifacts.write("eligibility/271/x.271", text)
    report = files.ingest_271(artifacts, ledger, store, "eligibility/271/x.271", MORNING)
    assert artifacts.read_json("eligibility/reports/x.271.json") == report
    assert report["file_error"] is not None or report["matched"] + report["unknown_traces"] <= 3
    dumped = json.dumps(report)
    for value in ("ACM100200301", "CCH-5520-0012", "Testerson", "TESTERSON", "19680412"):
        assert value not in dumped
