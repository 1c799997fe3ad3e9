"""Hostile encounter files at the intake use case (issue 12, items 1 and 4): limits before reading,
bounded work per record and per pass, continuations that read on instead of from the top, and
re-sent encounters that change something reported by field name, never billed over, never dropped."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from medbill.models.claim import claim_id_for
from medbill.workflow.intake import IntakeSummary, ingest_encounter_file, new_claim, report_key_for
from tests.factories import make_encounter
from tests.fakes import FakeArtifacts, FakeStore, FakeWorkflow
from tests.unit.intake.intake_builders import csv_body, csv_row, encounter_dict

# Modules new with the limits are imported in the tests that use them: every test here runs (and
# fails by its assertion) on the code before them.
NORTH = "clinic-northside"
MAX_FILE_BYTES = 100 * 1024 * 1024  # medbill.intake.limits
MAX_RECORD_BYTES = 256 * 1024
RESENT_CHANGED = "encounter_resent_changed"
BIG_NAME = "Q" * (3 * 1024 * 1024)  # the 50 MB name of the issue, scaled: 12x the record limit


def _ingest(files: FakeArtifacts, key: str, store: FakeStore | None = None, **kw: Any) -> IntakeSummary:
    return ingest_encounter_file(store or FakeStore(), files, FakeWorkflow(), key, **kw)


def _report(files: FakeArtifacts, key: str) -> dict[str, Any]:
    return files.read_json(report_key_for(key))  # type: ignore[no-any-return]


# --- the report path ----------------------------------------------------------------------------------
def test_the_report_path_has_one_extension() -> None:
    assert report_key_for("encounters/clinic-northside/a.json") == "rejections/encounters/clinic-northside/a.json"
    assert report_key_for("encounters/a.JSON") == "rejections/encounters/a.JSON"
    assert report_key_for("encounters/a.csv") == "rejections/encounters/a.csv.json"
    files = FakeArtifacts()
    files.write("encounters/a.json", json.dumps([encounter_dict("E-1")]))
    _ingest(files, "encounters/a.json")
    assert files.keys("rejections/") == ["rejections/encounters/a.json"]


# --- limits before reading ----------------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_refused_unread_and_its_report_names_the_limit() -> None:
    files = FakeArtifacts()
    key = f"encounters/{NORTH}/huge.json"
    files.write(key, json.dumps([encounter_dict("E-1")]))
    # The size comes from the S3 notification: nothing of the object is read.
    summary = _ingest(files, key, size=MAX_FILE_BYTES + 1)
    assert files.bytes_read == 0
    assert summary.claims_created == 0
    assert summary.file_error == (
        f"the file is {MAX_FILE_BYTES + 1:,} bytes, over the limit of 100 MiB per file: it was not read; "
        "split it into smaller files and send them again"
    )
    assert _report(files, key)["file_error"] == summary.file_error


def test_without_a_size_in_the_notification_the_size_is_asked_for_first() -> None:
    files = FakeArtifacts()
    files.write("encounters/a.json", json.dumps([encounter_dict("E-1")]))
    summary = _ingest(files, "encounters/a.json")
    assert files.heads == 1 and summary.claims_created == 1


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_a_huge_field_rejects_its_record_unread_in_less_memory_than_the_field(fmt: str) -> None:
    if fmt == "csv":
        body = csv_body([csv_row("E-1"), csv_row("E-2", patient_last_name=BIG_NAME), csv_row("E-3")])
    else:
        records = [encounter_dict("E-1"), encounter_dict("E-2", patient__last_name=BIG_NAME), encounter_dict("E-3")]
        body = json.dumps(records).encode() if fmt == "json" else "\n".join(json.dumps(r) for r in records).encode()
    files = FakeArtifacts()
    key = f"encounters/{'clinic-lakeview' if fmt == 'csv' else NORTH}/big.{fmt}"
    files.write(key, body)
    tracemalloc.start()
    try:
        summary = _ingest(files, key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Was: the whole file, its text, the parsed name and a regex built from it (4.93 GB for 50 MB).
    assert peak < len(BIG_NAME), f"peak {peak:,} bytes"
    assert (summary.records, summary.claims_created, summary.rejected) == (3, 2, 1)
    [rejection] = _report(files, key)["rejections"]
    unit = {"json": "record", "jsonl": "line", "csv": "row"}[fmt]
    assert rejection["record_number"] == 2
    assert rejection["reason"].startswith(f"{unit} 2 is ")
    assert rejection["reason"].endswith(" over the limit of 256 KiB per record: not read") or (
        "over the limit of 256 KiB per row: not read" in rejection["reason"]
    )
    assert "QQQ" not in json.dumps(_report(files, key))


def test_a_value_over_the_field_limit_is_rejected_by_its_path_not_its_value() -> None:
    files = FakeArtifacts()
    key = "encounters/a.json"
    long_city = "Springfield" * 100  # 1,100 characters: under the record limit, over the field limit
    files.write(key, json.dumps([encounter_dict("E-1", patient__address__city=long_city)]))
    _ingest(files, key)
    [rejection] = _report(files, key)["rejections"]
    assert (rejection["field"], rejection["reason"]) == (
        "patient.address.city",
        "patient.address.city is 1,100 characters, over the limit of 1,000",
    )


# --- bounded work per pass: a continuation reads on, it does not read the top again ----------------------
def _many(n: int) -> bytes:
    return json.dumps([encounter_dict(f"E-{i}") for i in range(1, n + 1)]).encode()


def _count_validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from medbill.intake import encounter_stream

    calls: list[int] = []
    real = encounter_stream.validate_record

    def counting(raw: Any, number: int, hint: Any = None) -> Any:
        calls.append(number)
        return real(raw, number, hint)

    monkeypatch.setattr(encounter_stream, "validate_record", counting)
    return calls


def test_a_pass_that_stops_after_one_record_reads_and_validates_one_record(monkeypatch: pytest.MonkeyPatch) -> None:
    files, store = FakeArtifacts(), FakeStore()
    body = _many(2_000)  # ~1.6 MB; a 100,000-record file behaves the same (bench/bench_intake.py)
    files.write("encounters/many.json", body)
    from medbill.intake import reader

    validated: list[int] = []
    real = reader.validate_record if hasattr(reader, "validate_record") else None
    if real is not None:  # the code before streaming validated in medbill.intake.reader
        monkeypatch.setattr(
            reader, "validate_record", lambda raw, n, hint=None: validated.append(n) or real(raw, n, hint)
        )
    else:
        validated = _count_validations(monkeypatch)
    first = _ingest(files, "encounters/many.json", store, out_of_time=lambda: True)
    assert (first.claims_created, first.continue_from) == (1, 2)
    # Was: the whole file read and all 2,000 records validated in every pass.
    assert validated == [1, 2]  # record 2 is read (and validated) before the pass sees it has no time left
    assert files.bytes_read < 4 * files.chunk_size
    from medbill.intake import encounter_stream
    from medbill.intake.stream import Cursor

    resume = encounter_stream.Resume.model_validate(first.resume)
    assert resume.cursor == Cursor(
        record=2, offset=body.index(b'{"clinic_id"', 2), line=1, column=resume.column, seen=1
    )

    files.bytes_read, validated[:] = 0, []
    second = _ingest(files, "encounters/many.json", store, resume=resume, out_of_time=lambda: True)
    assert (second.claims_created, second.continue_from) == (1, 3)
    assert validated == [2, 3]
    assert files.bytes_read <= 2 * files.chunk_size  # from record 2's offset on, not from the top
    report = _report(files, "encounters/many.json")
    assert [a["record_number"] for a in report["accepted"]] == [1, 2]
    assert report["complete"] is False


def test_a_csv_continuation_reads_the_header_and_then_from_where_it_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    files, store = FakeArtifacts(), FakeStore()
    key = "encounters/clinic-lakeview/many.csv"
    files.write(key, csv_body([csv_row(f"E-{i}") for i in range(1, 3_001)]))  # ~1 MB
    first = _ingest(files, key, store, out_of_time=lambda: True)
    assert getattr(first, "resume", None) is not None and first.continue_from == 2
    from medbill.intake import encounter_stream

    validated = _count_validations(monkeypatch)
    files.bytes_read = 0
    resume = encounter_stream.Resume.model_validate(first.resume)
    second = _ingest(files, key, store, resume=resume, out_of_time=lambda: True)
    assert (second.claims_created, second.continue_from) == (1, 3)
    assert validated == [2, 3]
    assert files.bytes_read <= 3 * files.chunk_size  # the header's chunk, then from record 2 on (of ~1 MB)
    assert second.records == 2  # the report: record 1 from the first pass, record 2 from this one


def test_a_file_read_in_many_passes_ends_with_every_record_once() -> None:
    from medbill.intake import encounter_stream

    files, store = FakeArtifacts(chunk_size=4096), FakeStore()
    records = [encounter_dict(f"E-{i}") for i in range(1, 41)]
    records[9] = encounter_dict("E-10", patient__last_name=BIG_NAME[: MAX_RECORD_BYTES + 10])  # passed over
    records[19]["patient"]["date_of_birth"] = "not a date"
    files.write("encounters/parts.json", json.dumps(records, indent=2))
    budget = iter([False, False, True] * 100)
    summary = _ingest(files, "encounters/parts.json", store, out_of_time=lambda: next(budget))
    passes = 1
    while summary.resume is not None:
        resume = encounter_stream.Resume.model_validate(summary.resume)
        summary = _ingest(files, "encounters/parts.json", store, resume=resume, out_of_time=lambda: next(budget))
        passes += 1
    report = _report(files, "encounters/parts.json")
    assert passes == 14 and report["complete"] is True
    assert report["counts"] == {"records": 40, "accepted": 38, "rejected": 2}
    assert [r["record_number"] for r in report["rejections"]] == [10, 20]
    assert len(store.list_claims(limit=100).items) == 38


# --- duplicate keys -----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["json", "jsonl"])
def test_a_record_with_a_key_twice_is_rejected_naming_the_key(suffix: str) -> None:
    record = json.dumps(encounter_dict("E-1"))
    twice = record[:-1] + ', "encounter_id": "E-2"}'
    body = f"[{twice}]" if suffix == "json" else twice
    files = FakeArtifacts()
    files.write(f"encounters/a.{suffix}", body)
    summary = _ingest(files, f"encounters/a.{suffix}")
    # Was: JSON kept the last value without a word (and billed E-2).
    assert summary.claims_created == 0
    [rejection] = _report(files, f"encounters/a.{suffix}")["rejections"]
    assert rejection["reason"] == "key encounter_id appears twice in one object: which one is meant is unclear"


# --- the clinic folder --------------------------------------------------------------------------------
def test_a_record_of_another_clinic_in_a_clinic_folder_is_rejected_without_a_profile() -> None:
    files, store = FakeArtifacts(), FakeStore()
    key = "encounters/clinic-lakeview/visits.json"
    files.write(key, json.dumps([encounter_dict("E-1"), encounter_dict("E-2", clinic_id="clinic-lakeview")]))
    summary = _ingest(files, key, store)
    # Was: without a clinic profile, a lakeview file created a northside claim.
    assert summary.claims_created == 1
    assert [c.clinic_id for c in store.list_claims(limit=10).items] == ["clinic-lakeview"]
    [rejection] = _report(files, key)["rejections"]
    assert (rejection["record_number"], rejection["field"], rejection["reason"]) == (
        1,
        "clinic_id",
        "the file is in the folder of clinic clinic-lakeview, the record is clinic clinic-northside's: not billed",
    )


def test_a_report_never_names_another_clinics_file() -> None:
    files, store = FakeArtifacts(), FakeStore()
    # A northside claim billed from a lakeview file (before the folder check existed).
    store.create_claim(
        new_claim(make_encounter(clinic_id=NORTH, encounter_id="E-1"), "encounters/clinic-lakeview/x.json", 4)
    )
    key = f"encounters/{NORTH}/resend.json"
    files.write(key, json.dumps([_as_in_make_encounter()]))
    _ingest(files, key, store)
    report = json.dumps(_report(files, key))
    assert "clinic-lakeview" not in report
    assert "from an earlier file (record 4)" in report


def _as_in_make_encounter() -> dict[str, Any]:
    """encounter_dict's fields as make_encounter builds them, so the copy is the same encounter."""
    return make_encounter(clinic_id=NORTH, encounter_id="E-1").model_dump(mode="json", exclude_none=True)


# --- re-sent encounters ---------------------------------------------------------------------------------
def _first_and_resend(resend: dict[str, Any], *, same_key: bool = False) -> tuple[FakeArtifacts, FakeStore, str]:
    files, store = FakeArtifacts(), FakeStore()
    first = f"encounters/{NORTH}/monday.json"
    files.write(first, json.dumps([encounter_dict("E-1")]))
    _ingest(files, first, store)
    key = first if same_key else f"encounters/{NORTH}/tuesday.json"
    files.write(key, json.dumps([resend]))
    return files, store, key


@pytest.mark.parametrize("same_key", [False, True])
def test_a_corrected_date_of_birth_is_reported_by_field_and_put_on_the_claims_timeline(same_key: bool) -> None:
    corrected = encounter_dict("E-1", patient__date_of_birth="1968-04-21")
    files, store, key = _first_and_resend(corrected, same_key=same_key)
    summary = _ingest(files, key, store)
    claim_id = claim_id_for(NORTH, "E-1")
    # Was: "already received" (another file) or "existing" (the same file again): the correction dropped.
    assert (summary.changed, summary.claims_created, summary.claims_existing) == (1, 0, 0)
    [rejection] = _report(files, key)["rejections"]
    where = "an earlier copy of this file" if same_key else f"encounters/{NORTH}/monday.json"
    assert rejection["reason"] == (
        f"encounter E-1 was already received as claim {claim_id} from {where} (record 1) and this copy changes "
        "patient.date_of_birth: not billed; the claim keeps the first copy and is on the resent_changed worklist "
        "for billing staff to correct the claim or keep it"
    )
    assert "1968-04-21" not in json.dumps(_report(files, key))
    assert str(store.get_claim(claim_id).encounter.patient.date_of_birth) == "1968-04-12"
    [event] = [e for e in store.events(claim_id) if e.detail.get("event") == RESENT_CHANGED]
    assert event.detail == {
        "event": RESENT_CHANGED,
        "source_key": key,
        "record_number": 1,
        "fields": ["patient.date_of_birth"],
    }
    _ingest(files, key, store)  # the same file delivered again: no second event
    assert len([e for e in store.events(claim_id) if e.detail.get("event") == RESENT_CHANGED]) == 1


def test_a_changed_resend_waits_on_the_resent_changed_worklist_until_staff_resolve_it() -> None:
    from medbill.workflow.resent_changes import NothingToResolve, ResentChangesResolution, resolve_resent_changes

    corrected = encounter_dict("E-1", patient__date_of_birth="1968-04-21")
    corrected["service_lines"][0]["charge"] = "999.00"
    files, store, key = _first_and_resend(corrected)
    _ingest(files, key, store)
    claim_id = claim_id_for(NORTH, "E-1")
    [on_list] = store.worklist("resent_changed").items
    assert (on_list.claim_id, on_list.resent_changes) == (claim_id, ["patient.date_of_birth", "service_lines.1.charge"])
    assert store.worklist("resent_changed", clinic_id="clinic-lakeview").items == []
    result = resolve_resent_changes(store, claim_id, ResentChangesResolution(action="keep"), "staff:ann:s-1")
    assert result == {
        "claim_id": claim_id,
        "action": "keep",
        "fields": ["patient.date_of_birth", "service_lines.1.charge"],
    }
    assert store.worklist("resent_changed").items == []
    last = store.events(claim_id)[-1]
    assert (last.actor, last.detail) == (
        "staff:ann:s-1",
        {
            "event": "resent_changes_resolved",
            "action": "keep",
            "fields": ["patient.date_of_birth", "service_lines.1.charge"],
        },
    )
    assert "1968-04-21" not in json.dumps([e.detail for e in store.events(claim_id)])
    with pytest.raises(NothingToResolve, match=f"^claim {claim_id} has no re-sent changes waiting to be resolved$"):
        resolve_resent_changes(store, claim_id, ResentChangesResolution(action="keep"), "staff:ann:s-1")
    _ingest(files, key, store)  # the same file redelivered: a resolved change is not reopened
    assert store.worklist("resent_changed").items == []
    again = f"encounters/{NORTH}/wednesday.json"  # a new file with the change: before a person again
    files.write(again, json.dumps([corrected]))
    _ingest(files, again, store)
    assert [c.claim_id for c in store.worklist("resent_changed").items] == [claim_id]


def test_an_identical_resend_is_a_duplicate_even_after_a_stage_changed_the_claims_encounter() -> None:
    files, store, key = _first_and_resend(encounter_dict("E-1"))
    claim_id = claim_id_for(NORTH, "E-1")
    claim = store.get_claim(claim_id)
    payer_fixed = claim.encounter.model_copy(
        update={"coverage": claim.encounter.coverage.model_copy(update={"member_id": "FIXED123"})}
    )
    store.save(claim.model_copy(update={"encounter": payer_fixed}), actor="eligibility")
    summary = _ingest(files, key, store)
    assert (summary.changed, summary.rejected) == (0, 1)
    [rejection] = _report(files, key)["rejections"]
    assert rejection["reason"].endswith("(record 1); not billed twice")


def test_a_changed_service_line_names_the_line_field() -> None:
    changed = encounter_dict("E-1")
    changed["service_lines"][0]["charge"] = "999.00"
    files, store, key = _first_and_resend(changed)
    _ingest(files, key, store)
    [rejection] = _report(files, key)["rejections"]
    assert "this copy changes service_lines.1.charge:" in rejection["reason"]


# --- bounded work per record: no pattern built from a record's values ------------------------------------
class _NoPatterns:
    """Stands in for the `re` module where a reason is scrubbed: building a pattern fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"re.{name} called while scrubbing a record's values")


def test_scrubbing_a_rejection_builds_no_pattern_from_the_records_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from medbill.intake import mapped, validate

    record = encounter_dict("E-1", patient__date_of_birth="2099-01-01", patient__last_name="Dob(2099)+")
    monkeypatch.setattr(validate, "re", _NoPatterns())  # the module-level patterns were compiled at import
    encounter, rejections = validate.validate_record(record, 1)
    assert encounter is None and rejections
    assert not any("2099" in r.reason for r in rejections)
    monkeypatch.setattr(mapped, "re", _NoPatterns(), raising=False)
    assert mapped.scrub("PID-5 Dob(2099)+ is bad; does Doe", ["Dob(2099)+", "Doe"]) == (
        "PID-5 [value] is bad; does [value]"
    )
