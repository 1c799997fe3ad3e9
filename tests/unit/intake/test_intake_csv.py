"""CSV reader: grouping rows into encounters, consistency, columns, structure problems."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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


def _by_record(result: Any) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for r in result.rejections:
        found.setdefault(r.record_number, []).append((r.field, r.reason))
    return found


def _with_extra_field(body: bytes, data_row: int) -> bytes:
    lines = body.decode().split("\n")
    lines[data_row] += ",extra"
    return "\n".join(lines).encode()


def test_non_adjacent_rows_of_an_encounter_reject_the_whole_encounter() -> None:
    # Was: row 1 accepted as a claim with one line, row 3 rejected as "a duplicate of row 1".
    rows = [csv_row("E-1"), csv_row("E-2"), csv_row("E-1", procedure_code="36415", diagnosis_pointers="1")]
    result = read_encounter_file("lv.csv", csv_body(rows))
    assert result.records == 3
    assert [a.encounter.encounter_id for a in result.encounters] == ["E-2"]
    reason = (
        "encounter E-1 of clinic clinic-lakeview: rows 1, 3 belong to one encounter but are not together; "
        "none of its rows is billed: send the encounter's rows together and complete"
    )
    assert _by_record(result) == {1: [("encounter_id", reason)], 3: [("encounter_id", reason)]}


@pytest.mark.parametrize("malformed", ["extra field", "no encounter_id"])
def test_malformed_middle_row_rejects_the_whole_encounter(malformed: str) -> None:
    rows = [
        csv_row("E-1"),
        csv_row("E-1", procedure_code="36415", diagnosis_pointers="1"),
        csv_row("E-1", procedure_code="85025", diagnosis_pointers="2"),
        csv_row("E-2"),
    ]
    if malformed == "no encounter_id":
        rows[1]["encounter_id"] = ""
    body = csv_body(rows)
    if malformed == "extra field":
        body = _with_extra_field(body, 2)
    result = read_encounter_file("lv.csv", body)
    # Every record accounted for; nothing of E-1 is billed (before: row 1 alone became a claim).
    assert result.records == 4
    assert [a.encounter.encounter_id for a in result.encounters] == ["E-2"]
    rejected = _by_record(result)
    assert sorted(rejected) == [1, 2, 3]
    for number in (1, 3):
        [(field, reason)] = rejected[number]
        assert field == "encounter_id" and reason.startswith("encounter E-1 of clinic clinic-lakeview: rows ")
        assert "already appears" not in reason
    if malformed == "extra field":  # the malformed row carries the key: it is named as part of the encounter
        assert rejected[1][0][1].startswith("encounter E-1 of clinic clinic-lakeview: rows 1, 2, 3 belong to one")
        assert "; row 2 is malformed;" in rejected[1][0][1]
        assert rejected[2][0] == rejected[1][0]
        assert "row 2 has 40 fields but the header has 39" in rejected[2][1][1]
    else:  # its key cannot be read: rows 1 and 3 are split by it
        assert "rows 1, 3 belong to one encounter but are not together;" in rejected[1][0][1]
        assert rejected[2] == [("encounter_id", "row 2 has no encounter_id")]
    text = repr(result.rejections)
    assert "Placeholder" not in text and "1972" not in text  # ids, rows and columns only


def test_malformed_last_row_carrying_the_key_rejects_the_whole_encounter() -> None:
    rows = [csv_row("E-1"), csv_row("E-1", procedure_code="36415", diagnosis_pointers="1"), csv_row("E-1")]
    result = read_encounter_file("lv.csv", _with_extra_field(csv_body(rows), 3))
    assert result.records == 2 and result.encounters == []
    reason = _by_record(result)[1][0][1]
    assert reason.startswith("encounter E-1 of clinic clinic-lakeview: rows 1, 2, 3 belong to one encounter; row 3")
    assert _by_record(result)[3][0][1] == reason


def test_split_encounter_reason_lists_at_most_ten_rows() -> None:
    rows = [csv_row("E-1" if n % 2 == 0 else "E-2") for n in range(30)]
    result = read_encounter_file("lv.csv", csv_body(rows))
    assert result.encounters == [] and result.records == 30
    reason = _by_record(result)[1][0][1]
    assert "rows 1, 3, 5, 7, 9, 11, 13, 15, 17, 19 and 5 more belong to one encounter" in reason


def test_the_same_encounter_id_of_another_clinic_is_another_encounter() -> None:
    rows = [csv_row("E-1"), csv_row("E-1", clinic_id="clinic-northside"), csv_row("E-2")]
    result = read_encounter_file("lv.csv", csv_body(rows))
    assert result.rejections == [] and len(result.encounters) == 3


def test_row_with_wrong_field_count_or_no_ids_is_its_own_rejected_record() -> None:
    body = csv_body([csv_row("E-1"), csv_row("E-2"), csv_row("", clinic_id="")])
    lines = body.decode().splitlines()
    lines[2] += ",extra"
    result = read_encounter_file("lv.csv", ("\n".join(lines) + "\n").encode())
    assert result.records == 3
    assert [a.record_number for a in result.encounters] == [1]
    reasons = {(r.record_number, r.field): r.reason for r in result.rejections}
    assert "row 2 has 40 fields but the header has 39" in reasons[(2, "record")]
    assert reasons[(3, "encounter_id")] == "row 3 has no encounter_id"
    assert reasons[(3, "clinic_id")] == "row 3 has no clinic_id"


def test_blank_rows_are_not_records() -> None:
    body = csv_body([csv_row("E-1")]) + b",,,,\n\n"
    result = read_encounter_file("lv.csv", body)
    assert result.records == 1 and len(result.encounters) == 1


def test_row_numbers_count_blank_rows_as_the_spreadsheet_shows_them() -> None:
    rows = [csv_row("E-1"), csv_row("E-2", units="0"), csv_row("E-3", modifiers="MODX")]
    header, *rows = csv_body(rows).decode().split("\n")
    # data rows: 1 E-1, 2 blank, 3 blank (commas only), 4 E-2, 5 E-3 with a quoted cell spanning two lines
    rows[2] = rows[2].replace("MODX", '"\nRT"')
    body = "\n".join([header, rows[0], "", ",,,", rows[1], rows[2], ""]).encode()
    result = read_encounter_file("lv.csv", body)
    assert result.records == 3
    assert [a.record_number for a in result.encounters] == [1, 5]
    [rej] = result.rejections
    assert (rej.record_number, rej.field) == (4, "service_lines.1.units")
    assert rej.reason.endswith("(CSV column units, row 4)")


def test_blank_row_inside_an_encounter_keeps_it_together() -> None:
    header, first, second, _ = csv_body([csv_row("E-1"), csv_row("E-1", units="0")]).decode().split("\n")
    result = read_encounter_file("lv.csv", "\n".join([header, first, "", second, ""]).encode())
    assert result.records == 1
    [rej] = result.rejections
    assert rej.reason.endswith("(CSV column units, row 3)")


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
