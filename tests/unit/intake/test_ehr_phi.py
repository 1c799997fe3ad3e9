"""No PHI in what the EHR readers write: canary values in every PHI field, broken so that errors
would quote them, must appear nowhere in the report (rejections, ACKs, OperationOutcomes) or the logs."""

from __future__ import annotations

import json
import logging

import pytest
from ehr_builders import CANARIES, CANARY_CITY, CANARY_LAST, CANARY_MEMBER, CPT, ICD10CM, NOW, dft, fhir_bundle, profile

from medbill.intake import intake_report, read_fhir_bundle, read_hl7_file

FUTURE_DOS = "20991231"
MORE = ["Zqcanarydob", "ZQ CANARY 55", "2099-12-31", FUTURE_DOS, "ZQCANARYCODE", "ZQ9999"]


def assert_clean(text: str) -> None:
    lowered = text.lower()
    for canary in [*CANARIES, *MORE]:
        assert canary.lower() not in lowered, canary


def test_hl7_report_and_acks_carry_no_phi(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # A sender that shifted fields: PHI lands where codes, dates and amounts belong.
    text = dft(
        {
            # \\Zq\\ is no HL7 escape: the hl7 package's own unescape would log the field's text.
            ("PID", 1): {7: "Zqcanarydob", 8: CANARY_MEMBER, 11: f"{CANARY_LAST}^^{CANARY_CITY}\\Zq\\^Illinois^ZQ9999"},
            ("IN1", 1): {36: "ZQ CANARY 55", 17: "CHD", 16: f"{CANARY_LAST}^{CANARY_CITY}", 18: "Zqcanarydob"},
            ("FT1", 1): {25: "ZQCANARYCODE^^C4", 10: CANARY_LAST, 11: f"{CANARY_CITY}&USD"},
            ("FT1", 2): {19: f"{CANARY_LAST}^^I10"},
            ("DG1", 2): {3: f"{CANARY_CITY}^^I10"},
        }
    )
    # Only a date of service in the future: the model's cross-field rule (which prints the date) runs.
    future = {("MSH", 1): {10: "M2"}, ("PV1", 1): {19: "V2"}, ("FT1", 1): {4: FUTURE_DOS}, ("FT1", 2): {4: FUTURE_DOS}}
    text += dft(future)
    result = read_hl7_file("encounters/clinic-northside/x.hl7", text.encode(), profile(), now=NOW)
    assert result.encounters == [] and [m.ack_code for m in result.messages] == ["AE", "AE"]
    assert [(r.field, r.reason) for r in result.rejections if r.record_number == 2] == [
        ("FT1(1)-4", "FT1(1)-4 (date_of_service): [value] is in the future")
    ]
    fields = {r.field for r in result.rejections}
    # The report still says where every problem is...
    assert fields == {
        *("PID-7", "PID-8", "PID-11.4", "PID-11.5"),
        *("IN1(1)-18", "IN1(1)-19", "IN1(1)-36", "IN1(1)-43"),
        *("FT1(1)-4", "FT1(1)-10", "FT1(1)-11", "FT1(1)-25", "FT1(2)-19"),
        "DG1(2)-3",
    }
    # ...never what the values were.
    assert_clean(json.dumps(intake_report("encounters/clinic-northside/x.hl7", result)))
    assert_clean("\n".join(r.getMessage() for r in caplog.records))


def test_fhir_report_and_outcomes_carry_no_phi(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bundle = fhir_bundle()
    patient = bundle["entry"][0]["resource"]
    patient["address"][0].update({"postalCode": "ZQ9999", "state": CANARY_CITY})
    patient["gender"] = CANARY_LAST.lower()  # not a FHIR gender: fhir.resources rejects it
    coverage = bundle["entry"][1]["resource"]
    coverage["subscriberId"] = "ZQ CANARY 55"
    bundle["entry"][6]["resource"]["code"] = {"coding": [{"system": CPT, "code": "ZQCANARYCODE"}]}
    bundle["entry"][7]["resource"]["reason"] = [{"coding": [{"system": ICD10CM, "code": CANARY_LAST}]}]
    result = read_fhir_bundle(json.dumps(bundle).encode(), profile())
    assert result.encounters == []
    report = intake_report("encounters/clinic-northside/b.json", result)
    assert any(r["field"].endswith("gender") for r in report["rejections"])
    assert_clean(json.dumps(report))
    assert_clean("\n".join(r.getMessage() for r in caplog.records))

    # The Patient read as valid FHIR: our own rules reject its values, by path.
    patient["gender"] = "female"
    report = intake_report("b.json", read_fhir_bundle(json.dumps(bundle).encode(), profile()))
    fields = {r["field"] for r in report["rejections"]}
    assert "Bundle.entry[0].resource.address[0].postalCode" in fields
    assert "Bundle.entry[1].resource.subscriberId" in fields
    assert_clean(json.dumps(report))
    future = fhir_bundle()
    future["entry"][5]["resource"]["period"]["start"] = "2099-12-31"
    report = intake_report("c.json", read_fhir_bundle(json.dumps(future).encode(), profile()))
    assert [(r["field"], r["reason"]) for r in report["rejections"]] == [
        (
            "Bundle.entry[5].resource.period.start",
            "Bundle.entry[5].resource.period.start (date_of_service): [value] is in the future",
        )
    ]
    assert_clean(json.dumps(report))
