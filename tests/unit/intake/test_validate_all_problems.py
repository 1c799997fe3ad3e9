"""One record, every problem at once (the ICD-10 code set checked on every record), and PHI given as
numbers scrubbed like PHI given as strings (issue 16: both were surviving mutants)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from intake_builders import encounter_dict, json_body

from medbill.intake import read_encounter_file, rejection_report
from medbill.intake.validate import phi_values, validate_record

PROCEDURE_HINT = "is not a CPT or HCPCS code (5 characters: 99213, 0001F, J1100)"


def test_a_record_with_several_bad_fields_reports_each_of_them_and_the_unknown_diagnosis() -> None:
    record = encounter_dict(diagnoses=["E11.9", "E11.9X"])  # E11.9X: well shaped, not in the code set
    record["patient"]["sex"] = "Q"
    record["coverage"]["member_id"] = "A B"
    record["service_lines"][0]["procedure_code"] = "9921"
    encounter, rejections = validate_record(record, 4)
    assert encounter is None
    assert [(r.record_number, r.field, r.reason, r.encounter_id) for r in rejections] == [
        (4, "patient.sex", "patient.sex: Input should be 'M', 'F' or 'U'", "E-1"),
        (4, "coverage.member_id", "coverage.member_id: String should match pattern '^[A-Za-z0-9-]+$'", "E-1"),
        (4, "service_lines.1.procedure_code", f"service_lines.1.procedure_code: 9921 {PROCEDURE_HINT}", "E-1"),
        (4, "diagnoses.2", "diagnosis 2: E11.9X is not an ICD-10-CM code", "E-1"),
    ]


def test_an_unknown_diagnosis_alone_is_the_only_rejection() -> None:
    encounter, rejections = validate_record(encounter_dict(diagnoses=["E11.9", "E11.9X"]), 1)
    assert encounter is None
    unknown = ("diagnoses.2", "diagnosis 2: E11.9X is not an ICD-10-CM code")
    assert [(r.field, r.reason) for r in rejections] == [unknown]


def _numeric_phi_record() -> dict[str, object]:
    """A clinic export that wrote a member id and a DOB as bare numbers, and shifted them into code
    fields whose errors quote the value."""
    record = encounter_dict(diagnoses=["19010203"])
    record["coverage"]["member_id"] = 5551234
    record["patient"]["date_of_birth"] = 19010203
    record["service_lines"][0]["procedure_code"] = "5551234"
    return record


def test_phi_given_as_numbers_is_scrubbed_from_every_rejection() -> None:
    record = _numeric_phi_record()
    assert phi_values(record) == ["12 Sample Lane", "Springfield", "Testerson", "19010203", "5551234", "62704", "Ada"]
    encounter, rejections = validate_record(record, 2)
    assert encounter is None
    assert [(r.field, r.reason) for r in rejections] == [
        (
            "patient.date_of_birth",
            "patient.date_of_birth: Datetimes provided to dates should have zero time - e.g. be exact dates",
        ),
        ("coverage.member_id", "coverage.member_id: Input should be a valid string"),
        ("diagnoses.1", "diagnosis 1: [redacted] is not shaped like an ICD-10-CM code"),
        ("service_lines.1.procedure_code", f"service_lines.1.procedure_code: [redacted] {PROCEDURE_HINT}"),
    ]


def test_numeric_phi_canaries_never_reach_the_rejection_report() -> None:
    body = json_body(_numeric_phi_record())
    result = read_encounter_file("n.json", body)
    assert result.file_error is None and len(result.rejections) == 4
    text = json.dumps(rejection_report("n.json", result))
    assert "5551234" not in text and "19010203" not in text
    assert text.count("[redacted]") == 2


def test_phi_values_are_every_person_address_and_coverage_value_longest_first() -> None:
    address = {"line1": "9 Elm Row", "city": "Oakfield", "state": "IL", "postal_code": "62704"}
    record = encounter_dict(
        patient={
            "last_name": "Quill",
            "first_name": "Io",  # under three characters: not scrubbed (would scrub ordinary words)
            "middle_name": "Maeve",
            "date_of_birth": "2010-05-06",
            "sex": "F",
            "address": address,
        },
        subscriber={
            "relationship": "child",
            "person": {
                "last_name": "Quillson",
                "first_name": "Bartholomew",
                "date_of_birth": "1980-01-02",
                "sex": "M",
                "address": {**address, "line1": "11 Birch Court", "line2": "Unit 4"},
            },
        },
        coverage={"payer_id": "PAYERA01", "payer_name": "Acme", "member_id": "MEM-7788", "group_number": "GRP55"},
    )
    values = phi_values(record)
    assert set(values) == {
        "11 Birch Court",
        "Bartholomew",
        "2010-05-06",
        "1980-01-02",
        "9 Elm Row",
        "Oakfield",
        "Quillson",
        "MEM-7788",
        "Unit 4",
        "62704",
        "Maeve",
        "Quill",
        "GRP55",
    }
    assert len(values) == 13 and [len(v) for v in values] == sorted((len(v) for v in values), reverse=True)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (5, "a number"),
        (1.5, "a number"),
        (Decimal("2.50"), "a number"),
        (True, "true/false"),
        (None, "null"),
        ([], "an array"),
        ("E-1", "a string"),
        ((1, 2), "a value"),
    ],
)
def test_a_record_that_is_not_an_object_says_what_it_is(raw: object, kind: str) -> None:
    encounter, rejections = validate_record(raw, 7)
    assert encounter is None
    assert [(r.record_number, r.field, r.reason, r.encounter_id) for r in rejections] == [
        (7, "record", f"record 7 is {kind}, not an object", None)
    ]


@pytest.mark.parametrize(
    ("encounter_id", "shown"),
    [
        ("  E-77  ", "E-77"),
        ("E" * 60, "E" * 50),  # cut to 50 characters
        ("   ", None),
        (12345, None),  # not a string: not quoted back
    ],
)
def test_rejections_carry_the_encounter_id_trimmed(encounter_id: object, shown: str | None) -> None:
    record = encounter_dict()
    record["encounter_id"] = encounter_id
    record["patient"]["sex"] = "Q"
    _, rejections = validate_record(record, 1)
    assert {r.encounter_id for r in rejections} == {shown}
