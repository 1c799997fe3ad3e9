"""An encounter file replaced under the same key while a continuation of its first version is pending
(issue 12 item 1, "a continuation resumes where it stopped"): every pass reads the version the first
pass read (ETag, or VersionId in a versioned bucket), so the old continuation stops with a report line
and never reads the new object at the old offset; the new version is read in full from its own
notification, and its report says what became of the old one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from medbill.intake.encounter_stream import Resume
from medbill.models.claim import claim_id_for
from medbill.ports import ObjectReplaced, ObjectVersion
from medbill.workflow.intake import IntakeSummary, ingest_encounter_file, report_key_for
from tests.fakes import FakeArtifacts, FakeStore, FakeWorkflow
from tests.unit.intake.intake_builders import csv_body, csv_row, encounter_dict

KEY = "encounters/clinic-northside/daily.json"
CSV_KEY = "encounters/clinic-lakeview/daily.csv"
OLD = [f"E-{i}" for i in range(1, 5)]  # the first version: four encounters
NEW = [f"N-{i}" for i in range(1, 4)]  # the file sent again under the same name: three others
REPLACED_AT_2 = (
    "the file was replaced by a newer version while it was being read: records from 2 on of the earlier "
    "version were not read; the newer version is read in full"
)


def _body(ids: list[str]) -> bytes:
    return json.dumps([encounter_dict(i) for i in ids]).encode()


def _ingest(files: FakeArtifacts, store: FakeStore, key: str = KEY, **kw: Any) -> IntakeSummary:
    return ingest_encounter_file(store, files, FakeWorkflow(), key, **kw)


def _continue(files: FakeArtifacts, store: FakeStore, first: IntakeSummary, key: str = KEY) -> IntakeSummary:
    """The continuation message's pass: where to read on, and the version the first pass read."""
    assert first.continue_from is not None and first.resume is not None and first.version is not None
    return _ingest(
        files,
        store,
        key,
        start_record=first.continue_from,
        resume=Resume.model_validate(first.resume),
        version=ObjectVersion(**first.version),
    )


def _count_opens(files: FakeArtifacts) -> list[str]:
    """The encounter file's reads from here on (the report's reads are not counted)."""
    opened: list[str] = []
    real = files.open

    def counting(key: str, start: int = 0, version: ObjectVersion | None = None) -> Any:
        opened.append(key)
        return real(key, start, version)

    files.open = counting  # type: ignore[method-assign]
    return opened


def _claims(store: FakeStore, clinic: str = "clinic-northside") -> list[str]:
    return sorted(c.encounter_id for c in store._claims.values() if c.clinic_id == clinic)


@pytest.mark.parametrize("versioned", [False, True], ids=["etag", "version-id"])
def test_a_continuation_of_a_replaced_file_stops_with_a_report_line_and_reads_nothing_new(versioned: bool) -> None:
    files, store = FakeArtifacts(versioned=versioned), FakeStore()
    files.write(KEY, _body(OLD))
    first = _ingest(files, store, out_of_time=lambda: True)  # one record per pass
    assert (first.claims_created, first.continue_from) == (1, 2)
    files.write(KEY, _body(NEW))  # replaced before the continuation runs
    opened = _count_opens(files)

    rest = _continue(files, store, first)

    # Was: the new object read from the old offset (record 2 of the old file is byte ~500 of the new).
    assert opened == []  # not a byte of the new version read by the old continuation
    assert _claims(store) == ["E-1"]
    assert (rest.claims_created, rest.continue_from, rest.superseded) == (0, None, REPLACED_AT_2)
    report = files.read_json(report_key_for(KEY))
    assert report["file_error"] == REPLACED_AT_2
    assert (report["replaced_at"], report["complete"]) == (2, True)
    assert [a["encounter_id"] for a in report["accepted"]] == ["E-1"]

    # The new version's own notification reads it in full, and its report keeps the old one's fate.
    new = _ingest(files, store, version=files.stat(KEY).version)
    assert (new.claims_created, new.continue_from, new.superseded) == (3, None, None)
    assert _claims(store) == ["E-1", *NEW]
    report = files.read_json(report_key_for(KEY))
    assert [a["encounter_id"] for a in report["accepted"]] == NEW
    assert (report["file_error"], report["complete"]) == (None, True)
    assert report["earlier_version"] == (
        "an earlier version of this file was replaced before it was read in full: its records before 2 were "
        "read (1 accepted, 0 rejected) and the rest of it was not; send those encounters again if this version "
        "does not carry them"
    )


def test_when_the_new_version_is_read_first_the_old_continuation_leaves_its_report_alone() -> None:
    files, store = FakeArtifacts(), FakeStore()
    files.write(KEY, _body(OLD))
    first = _ingest(files, store, out_of_time=lambda: True)
    files.write(KEY, _body(NEW))
    _ingest(files, store, version=files.stat(KEY).version)  # S3's notification for the new one came first
    new_report = files.read_json(report_key_for(KEY))
    assert new_report["earlier_version"].startswith("an earlier version of this file was replaced before it was")

    rest = _continue(files, store, first)

    assert rest.superseded == REPLACED_AT_2
    assert files.read_json(report_key_for(KEY)) == new_report  # the new version's report stands
    assert _claims(store) == ["E-1", *NEW]


def test_a_delayed_notification_of_a_replaced_version_reads_nothing() -> None:
    files, store = FakeArtifacts(), FakeStore()
    files.write(KEY, _body(OLD))
    old_version = files.stat(KEY).version
    files.write(KEY, _body(NEW))
    opened = _count_opens(files)

    summary = _ingest(files, store, version=old_version)

    assert summary.superseded == (
        "the file was replaced by a newer version before it was read: only the newer one is read"
    )
    assert (opened, _claims(store), files.keys("rejections/")) == ([], [], [])


def test_a_file_replaced_during_a_pass_is_read_from_the_old_version_only_to_the_end_of_that_pass() -> None:
    files, store = FakeArtifacts(chunk_size=256), FakeStore()  # many reads per pass
    key = CSV_KEY
    files.write(key, csv_body([csv_row(i) for i in OLD]))
    calls = iter([False, True])

    def replace_then_stop() -> bool:  # the clinic sends the file again while record 2 is being read
        files.write(key, csv_body([csv_row(i) for i in NEW]))
        return next(calls)

    first = _ingest(files, store, key, out_of_time=replace_then_stop)

    # Records 1 and 2 came from the old version's one stream (its pass is consistent); the next pass
    # finds the key holding another object and stops there.
    assert _claims(store, "clinic-lakeview") == ["E-1", "E-2"] and first.continue_from == 3
    rest = _continue(files, store, first, key)
    assert _claims(store, "clinic-lakeview") == ["E-1", "E-2"]
    assert rest.superseded is not None and rest.superseded.startswith(
        "the file was replaced by a newer version while it was being read: records from 3 on"
    )
    report = files.read_json(report_key_for(key))
    assert [a["encounter_id"] for a in report["accepted"]] == ["E-1", "E-2"]
    assert (report["replaced_at"], report["complete"]) == (3, True)


def test_a_read_pinned_to_a_replaced_version_fails_in_the_fake_as_in_s3() -> None:
    files = FakeArtifacts(versioned=True)
    files.write(KEY, b"first")
    v1 = files.stat(KEY).version
    files.write(KEY, b"second")
    assert b"".join(files.open(KEY, 1, v1)) == b"irst"  # a versioned bucket keeps the old version
    etag_only = ObjectVersion(v1.etag)
    with pytest.raises(ObjectReplaced):
        list(files.open(KEY, 0, etag_only))  # If-Match on the old ETag
    assert b"".join(files.open(KEY, 0, files.stat(KEY).version)) == b"second"


def test_an_unchanged_file_continues_pinned_to_its_version() -> None:
    files, store = FakeArtifacts(), FakeStore()
    files.write(KEY, _body(OLD))
    first = _ingest(files, store, out_of_time=lambda: True)
    assert first.version == {"etag": files.stat(KEY).version.etag, "version_id": None}
    summary = first
    while summary.continue_from:
        summary = _continue(files, store, summary)
    assert _claims(store) == OLD
    report = files.read_json(report_key_for(KEY))
    assert report["version"] == files.stat(KEY).version.etag and report["complete"] is True
    assert "earlier_version" not in report and claim_id_for("clinic-northside", "E-4") in store._claims


def test_a_pass_of_the_old_version_never_writes_over_the_report_the_new_version_wrote_meanwhile() -> None:
    files, store = FakeArtifacts(chunk_size=256), FakeStore()
    files.write(KEY, _body(OLD))
    new_report: dict[str, Any] = {}
    calls = iter([False, True])

    def new_version_read_meanwhile() -> bool:
        if not new_report:  # the clinic re-sends the file and its notification is read in full at once
            files.write(KEY, _body(NEW))
            _ingest(files, store, version=files.stat(KEY).version)
            new_report.update(files.read_json(report_key_for(KEY)))
        return next(calls)

    old = _ingest(files, store, out_of_time=new_version_read_meanwhile)

    assert _claims(store) == ["E-1", "E-2", *NEW]  # records 1 and 2 from the old version's own stream
    assert (old.continue_from, old.resume) == (None, None)  # nothing more of it is queued
    assert old.superseded is not None and "records from 3 on of the earlier version were not read" in old.superseded
    assert files.read_json(report_key_for(KEY)) == new_report
    assert [a["encounter_id"] for a in new_report["accepted"]] == NEW
