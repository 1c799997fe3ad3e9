"""The public HL7 v2 and FHIR R4 samples in ../shared/intake-samples (read in place, see its SOURCES.txt).

Each sender gets the clinic profile its interface would be set up with; the outcomes are exact.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from ehr_builders import NOW, intake_samples, profile
from fhir.resources.R4B.bundle import Bundle

from medbill.intake import read_fhir_bundle, read_hl7_file

ICD9 = "is an ICD-9 code: claims need ICD-10-CM (send the ICD-10-CM code, system I10)"
SNOMED = "is SNOMED CT only: claims need ICD-10-CM (send it as the code or as the CWE alternate, system I10)"
NO_IN1 = "IN1 (coverage): is required: the primary insurance (IN1 with IN1-3, IN1-36)"

# The interface settings each sender needs (what a clinic's onboarding would record in its profile).
SENDERS: dict[str, dict[str, Any]] = {
    "msfhirconv": {"facility_ids": ["GHHSFacility"]},
    "hl7generateparse": {"facility_ids": ["Healthmatics EHR"], "hl7": {"encounter_id_field": "PV1-50"}},
    "medplum": {
        "facility_ids": ["SENDING_FAC"],
        "payers": {
            "INS123": {"payer_id": "MEDICARE01", "payer_name": "Medicare (demo)", "claim_filing_indicator": "MB"}
        },
        # The messy sender: CPT in FT1-22, the amount in FT1-7, no PV1 (the visit is FT1-2).
        "hl7": {
            "encounter_id_field": "FT1-2",
            "procedure_fields": ["FT1-25", "FT1-22"],
            "charge_fields": ["FT1-11", "FT1-7"],
        },
    },
    "nodehl7complete": {"facility_ids": ["SENDING_FAC"], "hl7": {"encounter_id_field": "FT1-23"}},
}


def read_sample(relative: str):
    path = intake_samples() / relative
    sender = path.name.split("_")[0]
    return read_hl7_file(path.name, path.read_bytes(), profile(**SENDERS[sender]), now=NOW)


def outcome(result) -> tuple[list[tuple[str, str, str | None]], list[tuple[int, str, str]]]:
    assert result.file_error is None
    messages = [(m.control_id, m.ack_code, m.encounter_id) for m in result.messages]
    return messages, [(r.record_number, r.field, r.reason) for r in result.rejections]


@pytest.mark.parametrize(
    "name",
    [
        "msfhirconv_ADT-A04-01.hl7",
        "msfhirconv_ADT-A08-01.hl7",
        "msfhirconv_ADT-A08-02.hl7",
        "msfhirconv_ADT04-23.hl7",  # starts with a UTF-8 BOM
        "msfhirconv_ADT04-251.hl7",
        "nodehl7complete_bar-example.hl7",
    ],
)
def test_registration_messages_are_refused_with_ar(name: str) -> None:
    messages, rejections = outcome(read_sample(f"hl7v2/adt/{name}"))
    assert [code for _, code, _ in messages] == ["AR"]
    assert rejections == [(1, "MSH-9", "MSH-9: only DFT^P03 and DFT^P11 carry charges")]


@pytest.mark.parametrize(
    "name", ["msfhirconv_DFT-P03-01.hl7", "msfhirconv_DFT-P03-02.hl7", "msfhirconv_DFT-P11-01.hl7"]
)
def test_microsoft_dfts_carry_snomed_diagnoses_and_an_npi_that_fails_its_check_digit(name: str) -> None:
    messages, rejections = outcome(read_sample(f"hl7v2/dft/{name}"))
    assert messages == [("MSG00001", "AE", "40007716")]
    not_listed = "FT1(1)-20.1 (rendering_provider.taxonomy): names a provider the clinic profile does not list"
    assert rejections == [
        (1, "FT1(1)-20.1", not_listed),
        (1, "DG1(1)-3", f"DG1(1)-3 (diagnoses): {SNOMED}"),
        (1, "DG1(2)-3", f"DG1(2)-3 (diagnoses): {SNOMED}"),
        (1, "FT1(1)-19", f"FT1(1)-19 (diagnoses): {SNOMED}"),
        (1, "FT1(2)-19", f"FT1(2)-19 (diagnoses): {SNOMED}"),
        (1, "FT1(1)-20.1", "FT1(1)-20.1 (rendering_provider.npi): NPI [value] fails its check digit"),
    ]


def test_healthmatics_mixes_icd9_into_icd10_and_sends_no_insurance() -> None:
    messages, rejections = outcome(read_sample("hl7v2/dft/hl7generateparse_healthmatics_dft_p03.hl7"))
    assert messages == [("1477-3", "AE", "1203")]
    assert rejections == [
        (1, "IN1", NO_IN1),
        (1, "DG1(2)-3", f"DG1(2)-3 (diagnoses): {ICD9}"),
        (1, "DG1(5)-3", f"DG1(5)-3 (diagnoses): {ICD9}"),
        (1, "FT1(1)-19", f"FT1(1)-19 (diagnoses): {ICD9}"),
    ]


def test_mieweb_two_messages_with_icd9() -> None:
    messages, rejections = outcome(read_sample("hl7v2/dft/nodehl7complete_mieweb_dft-example.hl7"))
    assert messages == [("DSD1184185250", "AE", "783933"), ("DSD1184189125", "AE", "114078")]
    assert rejections == [
        (1, "IN1", NO_IN1),
        (1, "DG1(1)-3", f"DG1(1)-3 (diagnoses): {ICD9}"),
        (1, "DG1(2)-3", f"DG1(2)-3 (diagnoses): {ICD9}"),
        (2, "IN1", NO_IN1),
        (2, "DG1(1)-3", f"DG1(1)-3 (diagnoses): {ICD9}"),
        (2, "DG1(2)-3", f"DG1(2)-3 (diagnoses): {ICD9}"),
        (2, "FT1(1)-19", f"FT1(1)-19 (diagnoses): {ICD9}"),
    ]


def test_the_messy_sender_reads_with_its_profile_and_its_resend_is_the_same_encounter() -> None:
    result = read_sample("hl7v2/dft/medplum_dft_p03_insurance.hl7")
    messages, rejections = outcome(result)
    assert messages == [("MSG00001", "AA", "ABC123"), ("MSG00002", "AE", "ABC123")]
    assert rejections == [
        (2, "FT1(1)-2", "FT1(1)-2 (encounter_id): this encounter already appears at message 1 of this file")
    ]
    [accepted] = result.encounters
    enc = accepted.encounter
    assert (enc.encounter_id, str(enc.date_of_service), enc.place_of_service) == ("ABC123", "2024-02-18", "11")
    assert (enc.coverage.payer_id, enc.coverage.member_id, enc.coverage.claim_filing_indicator) == (
        "MEDICARE01",
        "123456789A",
        "MB",
    )
    assert enc.diagnoses == ["E119"]  # PR1-15 of the PR1 with the FT1's procedure
    [line] = enc.service_lines
    assert (line.procedure_code, line.units, line.diagnosis_pointers, str(line.charge)) == ("99213", 1, [1], "150.00")


def test_the_messy_sender_without_its_profile_is_told_where_the_cpt_belongs() -> None:
    path = intake_samples() / "hl7v2/dft/medplum_dft_p03_insurance.hl7"
    result = read_hl7_file(path.name, path.read_bytes(), profile(facility_ids=["SENDING_FAC"]), now=NOW)
    assert [r.field for r in result.rejections if r.record_number == 1] == ["PV1-19", "FT1(1)-25"]


# --- FHIR -----------------------------------------------------------------------------------------------


def _bundle_of(relative: str) -> dict[str, Any]:
    doc = json.loads((intake_samples() / relative).read_text(encoding="utf-8"))
    if doc.get("resourceType") == "Bundle":
        return doc
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:one", "resource": doc}]}


def test_the_r4_cms1500_claim_example_becomes_an_encounter() -> None:
    result = read_fhir_bundle(_bundle_of("fhir/r4-examples/lfh_r4spec_claim-example-cms1500-medical.json"), profile())
    assert result.rejections == []
    [accepted] = result.encounters
    enc = accepted.encounter
    assert (enc.encounter_id, str(enc.date_of_service), enc.place_of_service) == ("MED-00050", "2015-10-13", "24")
    assert enc.diagnoses == ["M961", "G894", "M5388", "M47816"]
    assert (enc.coverage.payer_id, enc.coverage.payer_name, enc.coverage.member_id, enc.coverage.group_number) == (
        "123456",
        "Humana Inc.",
        "10138556",
        "80902206",
    )
    [line] = enc.service_lines
    assert (line.procedure_code, line.diagnosis_pointers, str(line.charge)) == ("62264", [2, 4], "12500.00")
    [entry] = result.response["entry"]
    assert entry["response"]["status"] == "200 OK"


@pytest.mark.parametrize(
    ("name", "claims"),
    [
        ("smartonfhir_Alberto_Atencio_fc712d1f-5a2e-4407-9c55-a2a2bad623c2.json", 8),
        ("smartonfhir_Brett_Gottlieb_0d2177ba-f67b-4f29-addb-91040de55388.json", 10),
        ("smartonfhir_Lyle_Baumbach_40a23e3f-fc1e-4333-8588-c5aaa9aa7c9b.json", 16),
        ("smartonfhir_Tony_Beer_bb8cd3e5-8910-4eea-bbc6-3f64a4a655b8.json", 11),
        ("fhirdatapipes_Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json", 32),
    ],
)
def test_synthea_bundles_are_snomed_only_and_every_claim_says_so(name: str, claims: int) -> None:
    result = read_fhir_bundle((intake_samples() / "fhir/synthea" / name).read_bytes(), profile())
    assert result.file_error is None and result.encounters == []
    assert result.records == claims == len(result.rejected_records)
    for number in result.rejected_records:
        reasons = [r.reason for r in result.rejections if r.record_number == number]
        assert any("productOrService" in r and "is SNOMED CT only" in r for r in reasons), reasons
    statuses = [e["response"]["status"] for e in result.response["entry"]]
    assert {statuses[n - 1] for n in result.rejected_records} == {"422 Unprocessable Entity"}
    Bundle.model_validate(result.response)


@pytest.mark.parametrize(
    "name", ["msfhirconv_DFT-P03-01-expected_R4bundle.json", "msfhirconv_DFT-P03-02-expected_R4bundle.json"]
)
def test_the_converter_bundles_carry_snomed_diagnoses(name: str) -> None:
    result = read_fhir_bundle(_bundle_of(f"fhir/r4-examples/{name}"), profile(facility_ids=["GHHSFacility"]))
    assert result.records == 1 and result.encounters == []
    reasons = [r.reason for r in result.rejections]
    assert sum("(diagnoses): is SNOMED CT only" in r for r in reasons) == 5
    assert any("(service_lines.2.procedure_code): has no CPT / HCPCS coding" in r for r in reasons)


def test_a_chargeitem_alone_and_an_encounter_alone() -> None:
    charge = read_fhir_bundle(_bundle_of("fhir/r4-examples/lfh_r4spec_chargeitem-example.json"), profile())
    assert [(r.record_number, r.field) for r in charge.rejections] == [(1, "Bundle.entry[0].resource.context")]
    encounter = read_fhir_bundle(_bundle_of("fhir/r4-examples/lfh_r4spec_encounter-example-f001-heart.json"), profile())
    assert encounter.file_error == "the Bundle has no Claim and no ChargeItem: nothing to bill"
