"""Rejections must not carry PHI: seed canary values in every PHI field and look for them."""

from __future__ import annotations

import json

from intake_builders import csv_body, csv_row, encounter_dict, json_body

from medbill.intake import read_encounter_file, rejection_report

CANARIES = [
    "Zqcanarylast",
    "Zqcanaryfirst",
    "Zqcanarymiddle",
    "1901-02-03",
    "77 Zqcanary Street",
    "Zqcanarycity",
    "ZQ CANARY 55",
    "Zqsubscriberlast",
    "Zqsubscriberfirst",
    "Zqcanarydob",
    "GRPZQCANARY",
]


def _report_text(source_key: str, body: bytes) -> str:
    result = read_encounter_file(source_key, body)
    assert result.file_error is None
    return json.dumps(rejection_report(source_key, result)).lower()


def _assert_no_canary(text: str) -> None:
    for canary in CANARIES:
        assert canary.lower() not in text, canary


def test_json_rejections_carry_no_phi() -> None:
    address = {"line1": "77 Zqcanary Street", "city": "Zqcanarycity", "state": "IL", "postal_code": "9999"}
    record = encounter_dict(
        patient={
            "last_name": "Zqcanarylast",
            "first_name": "Zqcanaryfirst",
            "middle_name": "Zqcanarymiddle",
            "date_of_birth": "1901-02-03",
            "sex": "Q",
            "address": address,
        },
        subscriber={
            "relationship": "child",
            "person": {
                "last_name": "Zqsubscriberlast",
                "first_name": "Zqsubscriberfirst",
                "date_of_birth": "Zqcanarydob",
                "sex": "F",
                "address": address,
            },
        },
        coverage={
            "payer_id": "PAYERA01",
            "payer_name": "Acme",
            "member_id": "ZQ CANARY 55",
            "group_number": "GRPZQCANARY",
        },
        # A clinic export that shifted columns: PHI lands in code fields, whose errors quote the value.
        service_lines=[{"procedure_code": "ZQCANARYLAST", "diagnosis_pointers": [1]}],
        diagnoses=["Zqcanarycity"],
    )
    result = read_encounter_file("a.json", json_body(record))
    # The rejections still say where the problems are (every one of them)...
    assert [r.field for r in result.rejections] == [
        "patient.sex",
        "patient.address.postal_code",
        "subscriber.person.date_of_birth",
        "subscriber.person.address.postal_code",
        "coverage.member_id",
        "diagnoses.1",
        "service_lines.1.procedure_code",
    ]
    assert all(r.reason and r.record_number == 1 for r in result.rejections)
    # ...but never what the values were.
    _assert_no_canary(_report_text("a.json", json_body(record)))


def test_csv_rejections_carry_no_phi() -> None:
    phi = {
        "patient_last_name": "Zqcanarylast",
        "patient_first_name": "Zqcanaryfirst",
        "patient_dob": "1901-02-03",
        "patient_address_line1": "77 Zqcanary Street",
        "patient_city": "Zqcanarycity",
        "member_id": "ZQ CANARY 55",
        "group_number": "GRPZQCANARY",
    }
    rows = [
        csv_row("E-1", **phi),
        csv_row("E-1", **{**phi, "patient_first_name": "Zqcanarymiddle"}),  # rows disagree on a PHI column
        csv_row("E-2", **phi, procedure_code="Zqcanarylast"),
    ]
    text = _report_text("lv.csv", csv_body(rows))
    assert "patient_first_name differs" in text
    _assert_no_canary(text)
