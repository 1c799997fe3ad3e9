"""The demo sample files produce exactly the expected accepted / rejected split and coding outcomes."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from medbill.billing.fees import FeeSchedule
from medbill.coding import NcciEdits, coding_edits, ncci_edits
from medbill.intake import read_encounter_file
from tests.shared_data import require_files

SAMPLES = Path(__file__).resolve().parents[3] / "events" / "encounters"


def _read(name: str):
    return read_encounter_file(f"encounters/{name}", (SAMPLES / name).read_bytes())


def test_northside_json_sample() -> None:
    result = _read("northside-2026-11-20.json")
    assert result.file_error is None
    assert result.records == 10
    assert [a.record_number for a in result.encounters] == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    [rej] = result.rejections
    assert (rej.record_number, rej.encounter_id, rej.field) == (3, "NS-20261117-003", "diagnoses.2")
    assert rej.reason == "diagnosis 2: E11.9X is not an ICD-10-CM code"


def test_lakeview_csv_sample() -> None:
    result = _read("lakeview-2026-11-20.csv")
    assert result.file_error is None and result.rejections == []
    assert [a.encounter.encounter_id for a in result.encounters] == [f"LV-1120-0{i}" for i in range(1, 7)]
    assert [a.record_number for a in result.encounters] == [1, 4, 5, 8, 11, 14]


def test_bad_file_sample_is_a_file_error() -> None:
    result = _read("bad-file.json")
    assert result.file_error is not None and "not valid JSON" in result.file_error


def _accepted():
    for name in ("northside-2026-11-20.json", "lakeview-2026-11-20.csv"):
        yield from (a.encounter for a in _read(name).encounters)


def test_only_the_category_code_encounter_holds_at_coding_and_the_rest_price() -> None:
    holds = {}
    for enc in _accepted():
        schedule = FeeSchedule.load(enc.clinic_id)
        reasons = coding_edits(enc, schedule)
        if reasons:
            holds[enc.encounter_id] = reasons
        else:
            priced = schedule.price_lines(enc)
            assert priced.total_charge > 0
    assert holds == {
        "NS-20261118-006": ["diagnosis 1: E11 is a category, not a billable code; use a more specific code"]
    }


def test_samples_pass_the_cms_ncci_edits() -> None:
    mue, ptp = require_files(
        "reference-data",
        "ncci/ncci_mue_practitioner_2024-07-01.csv",
        "ncci/ncci_ptp_practitioner_2024-07-01_subset_common_col1.csv",
    )
    edits = NcciEdits.load(mue, ptp)
    assert [e.encounter_id for e in _accepted() if ncci_edits(e, edits)] == []


def test_eligibility_fixture_covers_every_sample_member_and_one_is_inactive() -> None:
    fixture = json.loads(resources.files("medbill").joinpath("data", "eligibility_fixture.json").read_text())
    inactive = []
    for enc in _accepted():
        entry = fixture[enc.coverage.payer_id][enc.coverage.member_id]
        assert set(entry) == {"active", "copay", "deductible_remaining", "plan"}
        if not entry["active"]:
            inactive.append(enc.encounter_id)
    assert inactive == ["NS-20261118-005"]


@pytest.mark.parametrize(
    ("name", "payers"),
    [
        ("northside-2026-11-20.json", {"PAYERA01", "PAYERB02", "PAYERC03"}),
        ("lakeview-2026-11-20.csv", {"PAYERA01", "PAYERB02", "PAYERC03", "PAYERD04"}),
    ],
)
def test_samples_cover_the_demo_cases(name: str, payers: set[str]) -> None:
    encounters = [a.encounter for a in _read(name).encounters]
    assert {e.coverage.payer_id for e in encounters} == payers
    assert any(e.subscriber.relationship == "child" for e in encounters)
    assert any("25" in sl.modifiers for e in encounters for sl in e.service_lines)
    assert all(e.date_of_service.year == 2026 and e.date_of_service.month == 11 for e in encounters)
    assert all(e.place_of_service == "11" for e in encounters)
