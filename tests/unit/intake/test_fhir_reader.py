"""FHIR R4 Bundles -> encounters, with an OperationOutcome per entry (validated by fhir.resources)."""

from __future__ import annotations

import json
from typing import Any

from ehr_builders import CANARY_MEMBER, CPT, ICD10CM, expected_encounter, fhir_bundle, profile
from fhir.resources.R4B.bundle import Bundle

from medbill.intake import intake_report, read_encounter_file, read_fhir_bundle
from medbill.models.claim import claim_id_for

CLAIM_ID = claim_id_for("clinic-northside", "V20261120-01")


def body(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle).encode()


def statuses(result) -> list[str]:
    return [e["response"]["status"] for e in result.response["entry"]]


def test_an_encounter_with_its_charge_items_becomes_the_encounter() -> None:
    result = read_fhir_bundle(body(fhir_bundle()), profile())
    assert result.rejections == [] and result.file_error is None
    [accepted] = result.encounters
    assert accepted.record_number == 6  # the Encounter's entry (index 5) + 1
    patient = expected_encounter()["patient"]
    patient["address"] = {**patient["address"], "line2": None, "postal_code": "62704"}
    lines = expected_encounter()["service_lines"]
    lines[0]["modifiers"] = []  # an R4 ChargeItem has no modifiers: send a Claim for those
    assert accepted.encounter.model_dump(mode="json") == expected_encounter(patient=patient, service_lines=lines)


def test_the_response_has_an_operation_outcome_per_entry_and_is_valid_fhir() -> None:
    result = read_fhir_bundle(body(fhir_bundle()), profile())
    response = Bundle.model_validate(result.response)  # fhir.resources is the judge of the shape
    assert response.type == "transaction-response"
    assert statuses(result) == ["200 OK"] * 8
    diagnostics = [e["response"]["outcome"]["issue"][0]["diagnostics"] for e in result.response["entry"]]
    assert diagnostics[5] == f"accepted: encounter V20261120-01 is claim {CLAIM_ID}"
    assert diagnostics[6] == diagnostics[7] == f"billed in claim {CLAIM_ID}"
    assert diagnostics[0] == "read as supporting data: nothing billed"


def test_an_issue_names_its_fhirpath_and_a_failed_transaction_bills_nothing() -> None:
    bundle = fhir_bundle()
    bundle["entry"][0]["resource"].pop("birthDate")
    bundle["entry"][7]["resource"]["code"]["coding"][0] = {"system": "http://snomed.info/sct", "code": "396550006"}
    result = read_fhir_bundle(body(bundle), profile())
    assert result.encounters == []
    assert [(r.record_number, r.field, r.reason) for r in result.rejections] == [
        (
            6,
            "Bundle.entry[7].resource.code",
            "Bundle.entry[7].resource.code (service_lines.2.procedure_code): is SNOMED CT only: "
            "claims need CPT or HCPCS (system http://www.ama-assn.org/go/cpt)",
        ),
        (
            6,
            "Bundle.entry[0].resource.birthDate",
            "Bundle.entry[0].resource.birthDate (patient.date_of_birth): is required",
        ),
    ]
    outcome = result.response["entry"][5]["response"]["outcome"]
    assert [(i["severity"], i["code"], i["expression"]) for i in outcome["issue"]] == [
        ("error", "code-invalid", ["Bundle.entry[7].resource.code"]),
        ("error", "required", ["Bundle.entry[0].resource.birthDate"]),
    ]
    Bundle.model_validate(result.response)


def _second_visit(bundle: dict[str, Any], *, broken: bool) -> dict[str, Any]:
    """Adds Encounter V2 with one ChargeItem (a SNOMED procedure when `broken`)."""
    enc = json.loads(json.dumps(bundle["entry"][5]))
    enc["fullUrl"], enc["resource"]["id"] = "urn:uuid:enc2", "enc2"
    enc["resource"]["identifier"][0]["value"] = "V2"
    charge = json.loads(json.dumps(bundle["entry"][6]))
    charge["fullUrl"], charge["resource"]["id"] = "urn:uuid:ch3", "ch3"
    charge["resource"]["context"] = {"reference": "urn:uuid:enc2"}
    if broken:
        charge["resource"]["code"] = {"coding": [{"system": "http://snomed.info/sct", "code": "185349003"}]}
    bundle["entry"] += [enc, charge]
    return bundle


def test_a_batch_bills_the_good_visit_and_a_transaction_does_not() -> None:
    batch = read_fhir_bundle(body(_second_visit(fhir_bundle("batch"), broken=True)), profile())
    assert batch.response["type"] == "batch-response"
    assert [a.encounter.encounter_id for a in batch.encounters] == ["V20261120-01"]
    assert batch.rejected_records == [9]
    transaction = read_fhir_bundle(body(_second_visit(fhir_bundle(), broken=True)), profile())
    assert transaction.encounters == [] and transaction.rejected_records == [6, 9]
    rollback = [r for r in transaction.rejections if r.record_number == 6]
    assert [(r.field, r.reason) for r in rollback] == [
        (
            "Bundle.entry[5]",
            "Bundle.entry[5]: the transaction failed (Bundle.entry[8] has errors): nothing in this Bundle is billed",
        )
    ]
    assert [n for n, s in enumerate(statuses(transaction)) if s != "200 OK"] == [5, 8, 9]


def test_a_claim_resource_with_contained_patient_and_coverage() -> None:
    claim = {
        "resourceType": "Claim",
        "id": "c1",
        "contained": [
            {**fhir_bundle()["entry"][0]["resource"], "id": "pat"},
            {
                "resourceType": "Coverage",
                "id": "cov",
                "status": "active",
                "beneficiary": {"reference": "#pat"},
                "payor": [{"identifier": {"value": "ACME01"}, "display": "Acme Commercial Health"}],
                "subscriberId": CANARY_MEMBER,
            },
        ],
        "identifier": [{"value": "V20261120-01"}],
        "status": "active",
        "type": {"coding": [{"code": "professional"}]},
        "use": "claim",
        "patient": {"reference": "#pat"},
        "created": "2026-11-21",
        "provider": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1990000014"}},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#cov"}}],
        "diagnosis": [
            {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": "E11.9"}]}},
            {"sequence": 2, "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": "I10"}]}},
        ],
        "item": [
            {
                "sequence": 1,
                "diagnosisSequence": [2],
                "productOrService": {"coding": [{"system": CPT, "code": "99213"}]},
                "modifier": [{"coding": [{"code": "25"}]}],
                "servicedDate": "2026-11-20",
                "net": {"value": 125.0, "currency": "USD"},
            }
        ],
    }
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:c1", "resource": claim}]}
    result = read_fhir_bundle(body(bundle), profile(payers={"ACME01": {"payer_id": "PAYERA01", "payer_name": "Acme"}}))
    assert result.rejections == []
    [accepted] = result.encounters
    enc = accepted.encounter
    assert (enc.encounter_id, enc.coverage.payer_id, enc.coverage.payer_name) == ("V20261120-01", "PAYERA01", "Acme")
    [line] = enc.service_lines
    assert (line.procedure_code, line.modifiers, line.diagnosis_pointers, str(line.charge)) == (
        "99213",
        ["25"],
        [2],
        "125.00",
    )
    # The same claim from another clinic's NPI is refused.
    claim["provider"] = {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1588667638"}}
    other = read_fhir_bundle(body(bundle), profile())
    assert [(r.field, r.reason) for r in other.rejections] == [
        (
            "Bundle.entry[0].resource.provider",
            "Bundle.entry[0].resource.provider (clinic_id): "
            "names a provider organization that is not clinic clinic-northside",
        )
    ]


def test_invalid_fhir_is_reported_by_fhir_resources_with_its_path() -> None:
    bundle = fhir_bundle("collection")
    bundle["entry"][5]["resource"]["period"] = {"start": "2026-11-20 9:30"}  # not a FHIR dateTime
    result = read_fhir_bundle(body(bundle), profile())
    assert result.encounters == []
    [rejection] = result.rejections
    assert rejection.field == "Bundle.entry[5].resource.period.start"
    assert rejection.reason == (
        "Bundle.entry[5].resource.period.start: is not valid FHIR R4: DateTime value string does not match spec regex."
    )
    assert statuses(result)[5] == "400 Bad Request"


def test_files_that_are_not_bundles() -> None:
    assert read_fhir_bundle(b"{", profile()).file_error == "not readable JSON (JSONDecodeError)"
    assert read_fhir_bundle(b'{"resourceType": "Patient"}', profile()).file_error == (
        "not a FHIR Bundle (resourceType must be Bundle)"
    )
    searchset = read_fhir_bundle(b'{"resourceType": "Bundle", "type": "searchset", "entry": []}', profile())
    assert searchset.file_error == "Bundle.type must be transaction, batch or collection"
    assert searchset.response["resourceType"] == "OperationOutcome"


def test_read_encounter_file_takes_a_bundle_as_fhir_and_other_json_as_before() -> None:
    key = "encounters/clinic-northside/visit.json"
    result = read_encounter_file(key, body(fhir_bundle()), profile())
    assert result.format == "fhir" and len(result.encounters) == 1
    report = intake_report(key, result)
    assert report["counts"] == {"records": 1, "accepted": 1, "rejected": 0}
    assert report["accepted"] == [{"record_number": 6, "encounter_id": "V20261120-01", "claim_id": CLAIM_ID}]
    assert report["response"]["type"] == "transaction-response"
    assert read_encounter_file(key, body(fhir_bundle())).file_error == (
        "FHIR files are read with the clinic's profile, and none is set up"
    )
    # Not a Bundle: today's JSON reader, unchanged.
    assert read_encounter_file(key, b'{"resourceType": "Patient"}').format == "jsonl"


# --- coordination of benefits and the guarantor (issue 10 item 2, issue 14) ----------------------------


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    rtype, rid = resource["resourceType"], resource["id"]
    return {"fullUrl": f"urn:uuid:{rid}", "resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}


def _coverage(rid: str, payer: str, member: str, order: int | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": rid,
        "status": "active",
        "subscriberId": member,
        "beneficiary": {"reference": "urn:uuid:p1"},
        "relationship": {"coding": [{"code": "self"}]},
        "payor": [{"identifier": {"value": payer}, "display": f"Plan {payer}"}],
    }
    if order is not None:
        resource["order"] = order
    return _entry(resource)


def test_coverage_order_makes_the_secondary_and_tertiary() -> None:
    bundle = fhir_bundle()
    # Listed tertiary first, then secondary: Coverage.order decides, not Bundle order.
    bundle["entry"][1]["resource"]["order"] = 1
    bundle["entry"][2:2] = [_coverage("cov3", "TER03", "T-3", 3), _coverage("cov2", "SEC02", "S-2", 2)]
    result = read_fhir_bundle(body(bundle), profile())
    assert result.rejections == []
    enc = result.encounters[0].encounter
    assert enc.coverage.payer_id == "ACME01"
    assert [(o.coverage.payer_id, o.coverage.member_id) for o in enc.other_coverages] == [
        ("SEC02", "S-2"),
        ("TER03", "T-3"),
    ]


def test_account_guarantor_related_person_is_the_guarantor() -> None:
    bundle = fhir_bundle()
    related = {
        "resourceType": "RelatedPerson",
        "id": "rp1",
        "patient": {"reference": "urn:uuid:p1"},
        "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "SPS"}]}],
        "name": [{"family": "Roe", "given": ["John"]}],
        "address": [{"line": ["PO Box 12"], "city": "Springfield", "state": "IL", "postalCode": "62701-0012"}],
    }
    account = {
        "resourceType": "Account",
        "id": "acct1",
        "status": "active",
        "subject": [{"reference": "urn:uuid:p1"}],
        "guarantor": [{"party": {"reference": "urn:uuid:rp1"}}],
    }
    bundle["entry"] += [_entry(related), _entry(account)]
    result = read_fhir_bundle(body(bundle), profile())
    assert result.rejections == []
    guarantor = result.encounters[0].encounter.guarantor
    assert guarantor is not None
    assert guarantor.model_dump(mode="json", exclude_none=True) == {
        "last_name": "Roe",
        "first_name": "John",
        "address": {"line1": "PO Box 12", "city": "Springfield", "state": "IL", "postal_code": "627010012"},
        "relationship": "spouse",
    }
