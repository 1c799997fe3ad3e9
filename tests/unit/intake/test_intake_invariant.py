"""Every record is accounted for: accepted + rejected == records, each record in exactly one set."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_builders import csv_body, csv_row, encounter_dict

from medbill.intake import IntakeResult, read_encounter_file

# Mutations that break a record in the ways clinic files do.
_MUTATIONS: list[tuple[str, Any]] = [
    ("diagnoses", ["E11.9X"]),
    ("diagnoses", []),
    ("diagnoses", "E11.9"),
    ("date_of_service", "2026-13-01"),
    ("place_of_service", 11),
    ("service_lines", [{"procedure_code": "ABC", "diagnosis_pointers": [9]}]),
    ("coverage", None),
    ("patient", "someone"),
    ("extra_field", 1),
    ("encounter_id", ""),
    ("encounter_id", 12),
]

_valid = st.builds(lambda n: encounter_dict(f"E-{n}"), st.integers(0, 5))
_broken = st.builds(
    lambda n, m: {**encounter_dict(f"E-{n}"), m[0]: m[1]}, st.integers(0, 5), st.sampled_from(_MUTATIONS)
)
_junk = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2))
_records = st.lists(st.one_of(_valid, _broken, _junk), min_size=1, max_size=8)


def _accounted(result: IntakeResult, expected_records: int) -> None:
    assert result.file_error is None
    accepted = [a.record_number for a in result.encounters]
    rejected = result.rejected_records
    assert result.records == expected_records
    assert len(accepted) + len(rejected) == result.records
    assert not set(accepted) & set(rejected)
    assert all(r.reason for r in result.rejections)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records)
def test_json_array_every_record_accounted_for(records: list[Any]) -> None:
    result = read_encounter_file("a.json", json.dumps(records).encode())
    _accounted(result, len(records))
    assert sorted([a.record_number for a in result.encounters] + result.rejected_records) == list(
        range(1, len(records) + 1)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records, st.booleans())
def test_json_lines_every_record_accounted_for(records: list[Any], garbage_line: bool) -> None:
    lines = [json.dumps(r) for r in records] + (["{oops"] if garbage_line else [])
    result = read_encounter_file("a.jsonl", "\n".join(lines).encode())
    _accounted(result, len(lines))


_row_mutations = st.sampled_from(
    [
        {},
        {"units": "0"},
        {"diagnoses": "E11.9X"},
        {"patient_dob": "1990-01-01"},
        {"procedure_code": "1"},
        {"diagnosis_pointers": "7"},
        {"encounter_id": ""},
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), _row_mutations), min_size=1, max_size=8))
def test_csv_every_encounter_accounted_for(spec: list[tuple[int, dict[str, str]]]) -> None:
    rows = [csv_row(**{"encounter_id": f"E-{n}", **m}) for n, m in spec]
    result = read_encounter_file("a.csv", csv_body(rows))
    # Expected records: runs of adjacent rows with the same id; a row without an id stands alone.
    expected, previous = 0, None
    for row in rows:
        key = row["encounter_id"] or None
        if key is None or key != previous:
            expected += 1
        previous = key
    _accounted(result, expected)
    # An encounter split over several records (rows not together) is never billed in part.
    runs: dict[str, int] = {}
    previous = None
    for row in rows:
        key = row["encounter_id"] or None
        if key is not None and key != previous:
            runs[key] = runs.get(key, 0) + 1
        previous = key
    accepted = {a.encounter.encounter_id for a in result.encounters}
    assert not {k for k, n in runs.items() if n > 1} & accepted
