"""JSON array and JSON Lines readers: accepted records, rejections with record + field + reason."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from intake_builders import encounter_dict, json_body

from medbill.intake import IntakeResult, read_encounter_file, rejection_report


def test_json_array_accepts_valid_records_with_1_based_numbers() -> None:
    result = read_encounter_file("encounters/a.json", json_body(encounter_dict("E-1"), encounter_dict("E-2")))
    assert result.file_error is None
    assert result.format == "json"
    assert result.records == 2
    assert [a.record_number for a in result.encounters] == [1, 2]
    assert result.encounters[0].encounter.diagnoses == ["E119", "I10"]
    assert result.rejections == []


def test_json_lines_record_number_is_the_line_number() -> None:
    lines = [json.dumps(encounter_dict("E-1")), "", json.dumps(encounter_dict("E-2")), "{not json"]
    result = read_encounter_file("encounters/a.jsonl", "\n".join(lines).encode())
    assert result.format == "jsonl"
    assert result.records == 3
    assert [a.record_number for a in result.encounters] == [1, 3]
    [rej] = result.rejections
    assert rej.record_number == 4
    assert rej.reason.startswith("line 4 is not valid JSON")


def test_json_extension_with_json_lines_content_is_read_as_json_lines() -> None:
    body = (json.dumps(encounter_dict("E-1")) + "\n" + json.dumps(encounter_dict("E-2")) + "\n").encode()
    result = read_encounter_file("encounters/a.json", body)
    assert result.format == "jsonl"
    assert len(result.encounters) == 2


def test_content_sniffing_without_extension() -> None:
    assert read_encounter_file("encounters/a", json_body(encounter_dict())).format == "json"
    assert read_encounter_file("encounters/a.txt", json_body(encounter_dict())).format == "json"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "empty"),
        (b"  \n\t\n", "empty"),
        (b"[]", "empty array"),
        (b"42", "top level must be an array"),
        (b'[{"clinic_id": "x",', "not valid JSON"),
        (b"\xff\xfe[\x00]\x00", "not UTF-8"),
    ],
)
def test_unreadable_files_get_a_file_error_and_no_encounters(body: bytes, expected: str) -> None:
    result = read_encounter_file("encounters/a.json", body)
    assert result.file_error is not None
    assert expected in result.file_error
    assert result.encounters == [] and result.rejections == []


def test_unsupported_extension_is_a_file_error() -> None:
    result = read_encounter_file("encounters/a.xml", b"<x/>")
    assert result.file_error is not None and ".xml" in result.file_error


def test_utf8_bom_is_accepted() -> None:
    result = read_encounter_file("encounters/a.json", b"\xef\xbb\xbf" + json_body(encounter_dict()))
    assert result.file_error is None and len(result.encounters) == 1


def test_a_record_that_is_not_an_object_is_rejected() -> None:
    result = read_encounter_file("a.json", json_body(encounter_dict("E-1"), "hello", [1], None))
    assert result.records == 4
    assert [(r.record_number, r.reason) for r in result.rejections] == [
        (2, "record 2 is a string, not an object"),
        (3, "record 3 is an array, not an object"),
        (4, "record 4 is null, not an object"),
    ]


def test_duplicate_encounter_id_rejects_the_second() -> None:
    result = read_encounter_file("a.json", json_body(encounter_dict("E-1"), encounter_dict("E-1")))
    assert [a.record_number for a in result.encounters] == [1]
    [rej] = result.rejections
    assert (rej.record_number, rej.field, rej.encounter_id) == (2, "encounter_id", "E-1")
    assert "already appears at record 1" in rej.reason


def test_same_encounter_id_at_two_clinics_is_not_a_duplicate() -> None:
    other = encounter_dict("E-1", clinic_id="clinic-lakeview")
    result = read_encounter_file("a.json", json_body(encounter_dict("E-1"), other))
    assert len(result.encounters) == 2


def test_unknown_icd10_code_is_rejected_with_a_specific_reason() -> None:
    result = read_encounter_file("a.json", json_body(encounter_dict(diagnoses=["I10", "E11.9X"])))
    [rej] = result.rejections
    assert (rej.record_number, rej.field, rej.encounter_id) == (1, "diagnoses.2", "E-1")
    assert rej.reason == "diagnosis 2: E11.9X is not an ICD-10-CM code"


def test_non_billable_category_passes_intake() -> None:
    # E11 exists but is not billable: the coding stage holds it, intake accepts it.
    result = read_encounter_file("a.json", json_body(encounter_dict(diagnoses=["E11", "I10"])))
    assert len(result.encounters) == 1


def _line(code: str, pointers: list[int], **extra: object) -> dict[str, object]:
    return {"procedure_code": code, "diagnosis_pointers": pointers, **extra}


@pytest.mark.parametrize(
    ("overrides", "field", "reason_part"),
    [
        ({"diagnoses": ["I10", "99.99"]}, "diagnoses.2", "diagnosis 2: 99.99 is not shaped like an ICD-10-CM code"),
        ({"diagnoses": ["I10", "E1"]}, "diagnoses.2", "diagnoses.2: String should have at least 3 characters"),
        (
            {"service_lines": [_line("99213", [1]), _line("9921", [1])]},
            "service_lines.2.procedure_code",
            "9921 is not a CPT or HCPCS code",
        ),
        (
            {"service_lines": [_line("99213", [3])]},
            "service_lines.1.diagnosis_pointers",
            "diagnosis pointer 3 but only 2 diagnoses",
        ),
        ({"date_of_service": "2099-01-01"}, "date_of_service", "is in the future"),
        ({"date_of_service": "1901-01-01"}, "patient.date_of_birth", "patient.date_of_birth is after date_of_service"),
        ({"place_of_service": "1"}, "place_of_service", "place_of_service: String should match pattern"),
        ({"nickname": "x"}, "nickname", "not a field of the encounter format"),
        (
            {"service_lines": [_line("99213", [1], units=0)]},
            "service_lines.1.units",
            "service_lines.1.units: Input should be greater than 0",
        ),
    ],
)
def test_validation_errors_name_the_field(overrides: dict[str, object], field: str, reason_part: str) -> None:
    result = read_encounter_file("a.json", json_body(encounter_dict(**overrides)))
    assert result.encounters == []
    assert any(r.field == field and reason_part in r.reason for r in result.rejections), result.rejections


def test_missing_field_and_bad_npi() -> None:
    record = encounter_dict()
    del record["coverage"]["member_id"]
    record["billing_provider"]["npi"] = "1990000015"  # wrong check digit
    result = read_encounter_file("a.json", json_body(record))
    by_field = {r.field: r.reason for r in result.rejections}
    assert by_field["coverage.member_id"] == "coverage.member_id is required"
    assert "NPI 1990000015 fails its check digit" in by_field["billing_provider.npi"]


def test_money_and_units_never_pass_through_float() -> None:
    record = encounter_dict(service_lines=[_line("99213", [1], charge=45.5, units=1.5)])
    result = read_encounter_file("a.json", json_body(record))
    line = result.encounters[0].encounter.service_lines[0]
    assert line.charge == Decimal("45.50") and isinstance(line.charge, Decimal)
    assert line.units == Decimal("1.5")


def test_rejection_report_shape_and_counts() -> None:
    body = json_body(encounter_dict("E-1"), encounter_dict("E-2", diagnoses=["E11.9X"]), 7)
    report = rejection_report("encounters/a.json", read_encounter_file("encounters/a.json", body))
    assert report["source_key"] == "encounters/a.json"
    assert report["counts"] == {"records": 3, "accepted": 1, "rejected": 2}
    assert report["file_error"] is None
    assert sorted({r["record_number"] for r in report["rejections"]}) == [2, 3]
    assert set(report["rejections"][0]) == {"record_number", "encounter_id", "field", "reason"}
    assert report["accepted"][0]["encounter_id"] == "E-1"
    assert report["accepted"][0]["claim_id"].startswith("CLM")
    json.dumps(report)  # serialisable as is


def test_file_error_report() -> None:
    report = rejection_report("k.json", read_encounter_file("k.json", b"nope"))
    assert report["counts"] == {"records": 0, "accepted": 0, "rejected": 0}
    assert report["file_error"]


def test_report_counts_hold_for_a_rebuilt_result() -> None:
    result = read_encounter_file(
        "a.json", json_body(encounter_dict("E-1"), encounter_dict("E-2", diagnoses=["E11.9X"]))
    )
    rebuilt = IntakeResult(encounters=result.encounters, rejections=result.rejections)
    assert rejection_report("a.json", rebuilt)["counts"] == {"records": 2, "accepted": 1, "rejected": 1}


@pytest.mark.parametrize("key", ["a.json", "a.txt", "a"])
def test_deeply_nested_file_is_a_file_error_not_a_crash(key: str) -> None:
    # Was: RecursionError out of read_encounter_file, so the message retried into the DLQ with no report.
    result = read_encounter_file(key, b"[" * 100_000)
    assert result.file_error is not None and "nested too deeply" in result.file_error
    assert result.encounters == [] and result.rejections == []


def test_deeply_nested_json_line_rejects_that_line_only() -> None:
    # 120,000 bytes: under the record limit (256 KiB), so the parser meets the nesting.
    lines = [json.dumps(encounter_dict("E-1")), '{"a": ' * 20_000, json.dumps(encounter_dict("E-2"))]
    result = read_encounter_file("a.jsonl", "\n".join(lines).encode())
    assert result.records == 3
    assert [a.record_number for a in result.encounters] == [1, 3]
    [rej] = result.rejections
    assert (rej.record_number, rej.reason) == (
        2,
        "line 2 is not readable JSON: arrays or objects are nested too deeply",
    )


def test_an_unexpected_error_is_a_file_error_naming_only_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise KeyError("Zqcanarylast 1901-02-03")  # a message may quote the data: it is never reported

    monkeypatch.setattr("medbill.intake.encounter_stream.validate_record", boom)
    result = read_encounter_file("a.json", json_body(encounter_dict("E-1")))
    assert result.file_error == "could not read the file (KeyError)"
    assert result.format == "json" and result.encounters == [] and result.rejections == []
    assert rejection_report("a.json", result)["file_error"] == "could not read the file (KeyError)"


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_json_lines_split_on_newline_only(char: str) -> None:
    # Was: str.splitlines() also split on these (legal raw inside a JSON string): one record, two rejections.
    record = encounter_dict("E-1")
    record["coverage"]["payer_name"] = f"Acme{char}Health"
    body = (json.dumps(record, ensure_ascii=False) + "\r\n" + json.dumps(encounter_dict("E-2")) + "\r\n").encode()
    result = read_encounter_file("a.jsonl", body)
    assert result.records == 2
    assert 2 in [a.record_number for a in result.encounters]
    # Record 1 parses: at most the model's rule on the payer name applies, never a JSON error.
    assert all(r.record_number == 1 and r.field == "coverage.payer_name" for r in result.rejections), result.rejections


def test_json_lines_with_crlf_keep_their_line_numbers() -> None:
    lines = [json.dumps(encounter_dict("E-1")), "", "{oops", json.dumps(encounter_dict("E-2"))]
    result = read_encounter_file("a.jsonl", "\r\n".join(lines).encode())
    assert result.records == 3
    assert [a.record_number for a in result.encounters] == [1, 4]
    [rej] = result.rejections
    assert rej.reason.startswith("line 3 is not valid JSON")
