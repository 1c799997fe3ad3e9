"""CSV reader: grouping rows into encounters, consistency, columns, structure problems."""

from __future__ import annotations

from decimal import Decimal

import pytest
from intake_builders import CSV_COLUMNS, csv_body, csv_row

from medbill.intake import read_encounter_file


def test_rows_group_into_encounters_by_clinic_and_encounter_id() -> None:
    rows = [
        csv_row("E-1"),
        csv_row("E-1", procedure_code="36415", diagnosis_pointers="1", modifiers=""),
        csv_row("E-1", procedure_code="85025", units="2", charge="45.50", diagnosis_pointers="2"),
        csv_row("E-2", modifiers="25|59"),
    ]
    result = read_encounter_file("encounters/lv.csv", csv_body(rows))
    assert result.file_error is None and result.format == "csv"
    assert result.records == 2
    assert [a.record_number for a in result.encounters] == [1, 4]
    first = result.encounters[0].encounter
    assert [sl.procedure_code for sl in first.service_lines] == ["99214", "36415", "85025"]
    assert first.diagnoses == ["E785", "R5383"]
    assert first.service_lines[2].units == Decimal(2)
    assert first.service_lines[2].charge == Decimal("45.50")
    assert first.service_lines[0].diagnosis_pointers == [1, 2]
    assert first.patient.date_of_birth.isoformat() == "1972-03-14"
    assert first.patient_is_subscriber
    assert result.encounters[1].encounter.service_lines[0].modifiers == ["25", "59"]


def test_child_patient_with_subscriber_columns() -> None:
    row = csv_row(
        subscriber_relationship="child",
        subscriber_last_name="Placeholder",
        subscriber_first_name="Mara",
        subscriber_dob="1988-01-30",
        subscriber_sex="F",
        subscriber_address_line1="44 Demo Harbor Rd",
        subscriber_city="Lakeview",
        subscriber_state="MI",
        subscriber_postal_code="48850",
    )
    [accepted] = read_encounter_file("lv.csv", csv_body([row])).encounters
    enc = accepted.encounter
    assert enc.subscriber.relationship == "child"
    assert enc.insured.first_name == "Mara"


def test_numbered_diagnosis_columns() -> None:
    columns = [c for c in CSV_COLUMNS if c != "diagnoses"] + ["diagnosis_1", "diagnosis_2", "diagnosis_3"]
    row = csv_row(diagnosis_1="E78.5", diagnosis_2="R53.83", diagnosis_3="")
    del row["diagnoses"]
    [accepted] = read_encounter_file("lv.csv", csv_body([row], columns)).encounters
    assert accepted.encounter.diagnoses == ["E785", "R5383"]


def test_gap_in_numbered_diagnosis_columns_is_rejected() -> None:
    columns = [c for c in CSV_COLUMNS if c != "diagnoses"] + ["diagnosis_1", "diagnosis_2", "diagnosis_3"]
    row = csv_row(diagnosis_1="E78.5", diagnosis_2="", diagnosis_3="R53.83", diagnosis_pointers="1")
    del row["diagnoses"]
    result = read_encounter_file("lv.csv", csv_body([row], columns))
    [rej] = result.rejections
    assert rej.field == "diagnoses.2" and "diagnosis_2 is blank" in rej.reason


def test_inconsistent_encounter_columns_reject_that_encounter_only() -> None:
    rows = [
        csv_row("E-1"),
        csv_row("E-1", patient_dob="1972-03-15", procedure_code="36415", diagnosis_pointers="1"),
        csv_row("E-2"),
    ]
    result = read_encounter_file("lv.csv", csv_body(rows))
    assert [a.encounter.encounter_id for a in result.encounters] == ["E-2"]
    [rej] = result.rejections
    assert (rej.record_number, rej.field, rej.encounter_id) == (1, "patient.date_of_birth", "E-1")
    assert "column patient_dob differs between rows 1 and 2" in rej.reason
    assert "1972" not in rej.reason  # the values are PHI and are not quoted


def test_inconsistent_diagnoses_column() -> None:
    rows = [csv_row("E-1"), csv_row("E-1", diagnoses="E78.5", diagnosis_pointers="1")]
    [rej] = read_encounter_file("lv.csv", csv_body(rows)).rejections
    assert rej.field == "diagnoses" and "column diagnoses differs" in rej.reason


def test_missing_columns_are_named() -> None:
    columns = [c for c in CSV_COLUMNS if c not in ("member_id", "procedure_code", "diagnoses")]
    result = read_encounter_file("lv.csv", csv_body([csv_row()], columns))
    assert result.file_error is not None
    for name in ("member_id", "procedure_code", "diagnoses"):
        assert name in result.file_error
    assert result.encounters == [] and result.rejections == []


def test_unknown_columns_are_named() -> None:
    result = read_encounter_file("lv.csv", csv_body([csv_row(memberid="x")], [*CSV_COLUMNS, "memberid"]))
    assert result.file_error is not None and "unknown column(s): memberid" in result.file_error


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "empty"),
        (",".join(CSV_COLUMNS).encode() + b"\n", "no data rows"),
        (";".join(CSV_COLUMNS).encode() + b"\n", "separated by commas"),
        ((",".join(CSV_COLUMNS) + ",diagnosis_1").encode() + b"\n", "not both"),
        ((",".join(CSV_COLUMNS) + ",units").encode() + b"\n", "listed twice: units"),
    ],
)
def test_csv_file_errors(body: bytes, expected: str) -> None:
    result = read_encounter_file("lv.csv", body)
    assert result.file_error is not None and expected in result.file_error


def test_bom_and_header_case_are_tolerated() -> None:
    body = csv_body([csv_row()])
    header, rest = body.split(b"\n", 1)
    result = read_encounter_file("lv.csv", b"\xef\xbb\xbf" + header.upper() + b"\n" + rest)
    assert result.file_error is None and len(result.encounters) == 1


def test_non_adjacent_rows_of_an_encounter_are_a_duplicate() -> None:
    rows = [csv_row("E-1"), csv_row("E-2"), csv_row("E-1", procedure_code="36415")]
    result = read_encounter_file("lv.csv", csv_body(rows))
    assert [a.record_number for a in result.encounters] == [1, 2]
    [rej] = result.rejections
    assert (rej.record_number, rej.field) == (3, "encounter_id")
    assert "already appears at row 1" in rej.reason


def test_row_with_wrong_field_count_or_no_ids_is_its_own_rejected_record() -> None:
    body = csv_body([csv_row("E-1"), csv_row("E-2"), csv_row("", clinic_id="")])
    lines = body.decode().splitlines()
    lines[2] += ",extra"
    result = read_encounter_file("lv.csv", ("\n".join(lines) + "\n").encode())
    assert result.records == 3
    assert [a.record_number for a in result.encounters] == [1]
    reasons = {(r.record_number, r.field): r.reason for r in result.rejections}
    assert "row 2 has 40 fields but the header has 39" in reasons[(2, "")]
    assert reasons[(3, "encounter_id")] == "row 3 has no encounter_id"
    assert reasons[(3, "clinic_id")] == "row 3 has no clinic_id"


def test_blank_rows_are_not_records() -> None:
    body = csv_body([csv_row("E-1")]) + b",,,,\n\n"
    result = read_encounter_file("lv.csv", body)
    assert result.records == 1 and len(result.encounters) == 1


def test_line_errors_name_the_csv_column_and_row() -> None:
    rows = [csv_row("E-1"), csv_row("E-1", units="0", diagnosis_pointers="1")]
    [rej] = read_encounter_file("lv.csv", csv_body(rows)).rejections
    assert rej.field == "service_lines.2.units"
    assert rej.reason.endswith("(CSV column units, row 2)")


def test_encounter_level_errors_name_the_csv_column() -> None:
    [rej] = read_encounter_file("lv.csv", csv_body([csv_row(billing_npi="1990000015")])).rejections
    assert rej.field == "billing_provider.npi"
    assert rej.reason.endswith("(CSV column billing_npi)")


def test_unknown_icd10_code_in_csv() -> None:
    result = read_encounter_file("lv.csv", csv_body([csv_row(diagnoses="E78.5|E11.9X")]))
    [rej] = result.rejections
    assert (rej.field, rej.reason) == ("diagnoses.2", "diagnosis 2: E11.9X is not an ICD-10-CM code")
