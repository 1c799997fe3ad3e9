"""Intake of HL7 v2 and FHIR files with the clinic's profile, and POST /fhir/Bundle's use case."""

from __future__ import annotations

import json

import pytest

from medbill.workflow.clinic_profiles import ClinicProfiles, ProfileNotFound
from medbill.workflow.fhir_intake import bundle_key, receive_bundle
from medbill.workflow.intake import ingest_encounter_file, report_key_for
from tests.factories import CANARY_LAST, CANARY_MEMBER, make_encounter
from tests.fakes import FakeArtifacts, FakeClinicProfileFiles, FakeStore, FakeWorkflow
from tests.unit.intake.ehr_builders import CANARIES, PROFILE, dft, fhir_bundle

CLINIC = "clinic-northside"
CLAIM = "CLMWXVLCJ6SPDNA6AYC"  # claim_id_for("clinic-northside", "V20261120-01")
HL7_KEY = f"encounters/{CLINIC}/batch-0001.hl7"


@pytest.fixture
def profiles() -> ClinicProfiles:
    profiles = ClinicProfiles(FakeClinicProfileFiles())
    profiles.put(CLINIC, PROFILE)
    return profiles


def _ingest(files: FakeArtifacts, key: str, profiles: ClinicProfiles | None, store: FakeStore | None = None) -> tuple:
    store, workflow = store or FakeStore(), FakeWorkflow()
    summary = ingest_encounter_file(store, files, workflow, key, profiles=profiles)
    return summary, files.read_json(report_key_for(key)), store, workflow


def test_a_dft_file_in_the_clinic_folder_becomes_a_claim_with_its_ack(profiles: ClinicProfiles) -> None:
    files = FakeArtifacts()
    files.write(HL7_KEY, dft())
    summary, report, store, workflow = _ingest(files, HL7_KEY, profiles)
    assert (summary.records, summary.claims_created, summary.rejected, summary.claim_ids) == (1, 1, 0, [CLAIM])
    assert workflow.started == {CLAIM: CLINIC}
    claim = store.get_claim(CLAIM)
    assert (claim.source_key, claim.record_number, claim.encounter.billing_provider.npi) == (HL7_KEY, 1, "1990000014")
    assert report["format"] == "hl7" and report["complete"] is True
    assert report["accepted"] == [{"record_number": 1, "encounter_id": "V20261120-01", "claim_id": CLAIM}]
    (message,) = report["messages"]
    assert {k: v for k, v in message.items() if k != "ack"} == {
        "message_number": 1,
        "control_id": "MSG0001",
        "message_type": "DFT^P03^DFT_P03",
        "encounter_id": "V20261120-01",
        "claim_id": CLAIM,
        "ack_code": "AA",
    }
    assert message["ack"].endswith("\rMSA|AA|MSG0001\r")
    # S3 delivers the file again: nothing new, the same claim.
    again = ingest_encounter_file(store, files, workflow, HL7_KEY, profiles=profiles)
    assert (again.claims_created, again.claims_existing, again.claim_ids) == (0, 1, [CLAIM])


def test_a_rejected_message_is_a_report_line_with_its_ae_ack(profiles: ClinicProfiles) -> None:
    files = FakeArtifacts()
    files.write(HL7_KEY, dft({("PID", 1): {7: ""}}))
    summary, report, _, _ = _ingest(files, HL7_KEY, profiles)
    assert (summary.claims_created, summary.rejected) == (0, 1)
    assert report["rejections"] == [
        {
            "record_number": 1,
            "encounter_id": "V20261120-01",
            "field": "PID-7",
            "reason": "PID-7 (patient.date_of_birth): is required",
        }
    ]
    assert report["messages"][0]["ack_code"] == "AE"
    text = json.dumps(report)
    assert not [c for c in CANARIES if c in text]


def test_hl7_and_fhir_files_need_the_clinic_folder_and_its_profile() -> None:
    files = FakeArtifacts()
    files.write("encounters/batch.hl7", dft())
    files.write(HL7_KEY, dft())
    files.write(f"encounters/{CLINIC}/bundle.json", json.dumps(fhir_bundle()))
    nothing = ClinicProfiles(FakeClinicProfileFiles())
    summary, report, _, _ = _ingest(files, "encounters/batch.hl7", nothing)
    assert summary.file_error == "HL7 v2 files go in the clinic's folder: encounters/<clinic_id>/<file>"
    assert report["format"] == "hl7" and report["messages"] == [] and report["counts"]["records"] == 0
    summary, _, _, _ = _ingest(files, HL7_KEY, nothing)
    assert summary.file_error == (
        "HL7 v2 files are read with the clinic's profile and clinic clinic-northside has none "
        "(put config/clinics/clinic-northside.json)"
    )
    summary, _, _, _ = _ingest(files, f"encounters/{CLINIC}/bundle.json", nothing)
    assert summary.file_error == (
        "FHIR files are read with the clinic's profile and clinic clinic-northside has none "
        "(put config/clinics/clinic-northside.json)"
    )
    broken = FakeClinicProfileFiles()
    broken.write_profile(CLINIC, b'{"clinic_id": "clinic-northside", "default_place_of_service": "X1"}')
    summary, _, _, _ = _ingest(files, HL7_KEY, ClinicProfiles(broken))
    assert summary.file_error == (
        "the profile of clinic clinic-northside is not valid: billing_provider: is required; "
        "default_place_of_service: String should match pattern '^\\d{2}$' (fix config/clinics/clinic-northside.json)"
    )


def test_a_message_from_another_facility_is_refused(profiles: ClinicProfiles) -> None:
    files = FakeArtifacts()
    files.write(HL7_KEY, dft({("MSH", 1): {4: "LAKEVIEW"}}))
    summary, report, _, _ = _ingest(files, HL7_KEY, profiles)
    assert (summary.claims_created, summary.rejected) == (0, 1)
    assert report["messages"][0]["ack_code"] == "AR"


def test_a_fhir_file_in_the_clinic_folder_reports_its_response_bundle(profiles: ClinicProfiles) -> None:
    files = FakeArtifacts()
    key = f"encounters/{CLINIC}/bundle.json"
    files.write(key, json.dumps(fhir_bundle()))
    summary, report, _, workflow = _ingest(files, key, profiles)
    assert (summary.claims_created, summary.claim_ids, list(workflow.started)) == (1, [CLAIM], [CLAIM])
    statuses = [e["response"]["status"] for e in report["response"]["entry"]]
    assert statuses == ["200 OK"] * 8
    assert report["response"]["entry"][5]["response"]["outcome"]["issue"][0]["diagnostics"] == (
        f"accepted: encounter V20261120-01 is claim {CLAIM}"
    )


def test_json_and_csv_in_a_clinic_folder_carry_only_that_clinics_records(profiles: ClinicProfiles) -> None:
    files = FakeArtifacts()
    mine = make_encounter(clinic_id=CLINIC, encounter_id="E1")
    other = make_encounter(encounter_id="E2")  # clinic-test
    body = f"[{mine.model_dump_json()},{other.model_dump_json()}]"
    files.write(f"encounters/{CLINIC}/mixed.json", body)
    files.write("encounters/mixed.json", body)
    summary, report, _, _ = _ingest(files, f"encounters/{CLINIC}/mixed.json", profiles)
    assert (summary.records, summary.claims_created, summary.rejected) == (2, 1, 1)
    assert report["rejections"] == [
        {
            "record_number": 2,
            "encounter_id": "E2",
            "field": "clinic_id",
            "reason": "the file is in the folder of clinic clinic-northside, the record is clinic clinic-test's: "
            "not billed",
        }
    ]
    assert "messages" not in report and "response" not in report  # JSON reports: as before
    summary, _, _, _ = _ingest(files, "encounters/mixed.json", profiles)  # no clinic folder: as before
    assert (summary.claims_created, summary.rejected) == (2, 0)


def test_the_same_visit_from_another_file_is_billed_once(profiles: ClinicProfiles) -> None:
    files, store = FakeArtifacts(), FakeStore()
    files.write(HL7_KEY, dft())
    key = f"encounters/{CLINIC}/bundle.json"
    files.write(key, json.dumps(fhir_bundle()))
    _ingest(files, HL7_KEY, profiles, store)
    summary, report, _, workflow = _ingest(files, key, profiles, store)
    assert (summary.claims_created, summary.claims_existing, summary.rejected, workflow.started) == (0, 0, 1, {})
    [rejection] = report["rejections"]
    reason = rejection["reason"]
    # The two formats map the visit a little differently: reported as a changed copy (fields named), billed once.
    assert reason.startswith(f"encounter V20261120-01 was already received as claim {CLAIM} from {HL7_KEY} (record 1)")
    assert "not billed" in reason
    assert rejection == {"record_number": 6, "encounter_id": "V20261120-01", "field": "encounter_id", "reason": reason}
    entries = report["response"]["entry"]
    assert [e["response"]["status"] for e in entries] == ["200 OK"] * 5 + ["409 Conflict"] * 3
    assert entries[6]["response"]["outcome"]["issue"] == [
        {
            "severity": "error",
            "code": "duplicate",
            "diagnostics": f"Bundle.entry[6]: {reason}",
            "expression": ["Bundle.entry[5]"],
        }
    ]


def test_a_dft_for_a_visit_billed_from_another_file_is_acked_ae_205_not_aa(profiles: ClinicProfiles) -> None:
    files, store = FakeArtifacts(), FakeStore()
    files.write(HL7_KEY, dft())
    later = f"encounters/{CLINIC}/batch-0002.hl7"
    files.write(later, dft({("MSH", 1): {10: "MSG0777"}}))
    _ingest(files, HL7_KEY, profiles, store)
    summary, report, _, workflow = _ingest(files, later, profiles, store)
    assert (summary.claims_created, summary.rejected, workflow.started) == (0, 1, {})
    reason = f"encounter V20261120-01 was already received as claim {CLAIM} from {HL7_KEY} (record 1); not billed twice"
    assert [(r["record_number"], r["reason"]) for r in report["rejections"]] == [(1, reason)]
    (message,) = report["messages"]
    assert message["ack_code"] == "AE"
    segments = message["ack"].split("\r")
    assert segments[1] == "MSA|AE|MSG0777"
    # v2.5: ERR-2 names PV1-19 (where the profile says the encounter id is), ERR-3 table 0357 code 205.
    assert segments[2] == f"ERR||PV1^1^19^1|205^Duplicate key identifier^HL70357|E||||{reason}"
    # The file that billed the visit keeps its AA.
    first = files.read_json(f"rejections/{HL7_KEY}.json")
    assert first["messages"][0]["ack_code"] == "AA"


# --- POST /fhir/Bundle -----------------------------------------------------------------------------------
def test_a_posted_bundle_is_billed_like_a_file_and_a_resend_creates_nothing(profiles: ClinicProfiles) -> None:
    store, files, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    body = json.dumps(fhir_bundle()).encode()
    receipt = receive_bundle(store, files, workflow, profiles, CLINIC, body)
    key = bundle_key(CLINIC, body)
    assert key.startswith("fhir/bundles/clinic-northside/") and len(key) == len("fhir/bundles/clinic-northside/") + 45
    assert (receipt.source_key, receipt.claims_created, receipt.claim_ids, receipt.rejected) == (key, 1, [CLAIM], 0)
    assert workflow.started == {CLAIM: CLINIC}
    assert store.get_claim(CLAIM).source_key == key and files.read(key) == body
    assert files.read_json(report_key_for(key))["accepted"] == [
        {"record_number": 6, "encounter_id": "V20261120-01", "claim_id": CLAIM}
    ]
    assert receipt.response["type"] == "transaction-response"
    # Resent, with other whitespace: the same Bundle, the same answer, nothing new.
    again = receive_bundle(store, files, workflow, profiles, CLINIC, json.dumps(fhir_bundle(), indent=2).encode())
    assert (again.source_key, again.claims_created, again.claims_existing, again.claim_ids) == (key, 0, 1, [CLAIM])
    assert again.response == receipt.response
    assert len(workflow.started) == 1


def test_a_bundle_naming_another_organization_bills_nothing(profiles: ClinicProfiles) -> None:
    bundle = fhir_bundle()
    encounter = bundle["entry"][5]["resource"]
    encounter["serviceProvider"] = {"identifier": {"system": "urn:oid:2.16.840.1.113883.4.4", "value": "LAKEVIEW"}}
    receipt = receive_bundle(
        FakeStore(), FakeArtifacts(), FakeWorkflow(), profiles, CLINIC, json.dumps(bundle).encode()
    )
    assert (receipt.claims_created, receipt.rejected) == (0, 1)
    assert receipt.response["entry"][5]["response"]["status"] == "422 Unprocessable Entity"


def test_a_document_that_is_not_a_bundle_is_a_file_error_and_no_profile_is_an_error(profiles: ClinicProfiles) -> None:
    patient = b'{"resourceType": "Patient"}'
    receipt = receive_bundle(FakeStore(), FakeArtifacts(), FakeWorkflow(), profiles, CLINIC, patient)
    assert receipt.file_error == "not a FHIR Bundle (resourceType must be Bundle)"
    assert receipt.response["resourceType"] == "OperationOutcome"
    with pytest.raises(ProfileNotFound):
        receive_bundle(FakeStore(), FakeArtifacts(), FakeWorkflow(), profiles, "clinic-lakeview", b"{}")


def test_the_posted_bundle_report_carries_no_phi(profiles: ClinicProfiles) -> None:
    bundle = fhir_bundle()
    bundle["entry"][0]["resource"]["birthDate"] = "not-a-date"
    files = FakeArtifacts()
    receipt = receive_bundle(FakeStore(), files, FakeWorkflow(), profiles, CLINIC, json.dumps(bundle).encode())
    texts = json.dumps(receipt.response) + files.read(report_key_for(receipt.source_key)).decode()
    assert not [c for c in [*CANARIES, CANARY_LAST, CANARY_MEMBER] if c in texts]


def test_json_records_in_a_clinic_folder_may_leave_the_billing_side_to_the_profile() -> None:
    files = FakeArtifacts()
    profiles = ClinicProfiles(FakeClinicProfileFiles())
    pay_to = {"line1": "PO Box 4455", "city": "Springfield", "state": "IL", "postal_code": "627050445"}
    profiles.put(CLINIC, {**PROFILE, "default_place_of_service": "22", "pay_to_address": pay_to})
    record = json.loads(make_encounter(clinic_id=CLINIC, encounter_id="E7").model_dump_json())
    for field in ("clinic_id", "place_of_service", "billing_provider"):
        del record[field]
    files.write(f"encounters/{CLINIC}/short.json", json.dumps([record]))
    files.write("encounters/short.json", json.dumps([record]))
    summary, report, store, _ = _ingest(files, f"encounters/{CLINIC}/short.json", profiles)
    assert (summary.claims_created, summary.rejected) == (1, 0)
    encounter = store.get_claim(summary.claim_ids[0]).encounter
    assert (encounter.clinic_id, encounter.place_of_service) == (CLINIC, "22")
    assert encounter.billing_provider.npi == "1990000014" and encounter.billing_provider.tin == "990012345"
    assert encounter.billing_provider.pay_to_address is not None
    assert encounter.billing_provider.pay_to_address.line1 == "PO Box 4455"
    assert report["accepted"] == [{"record_number": 1, "encounter_id": "E7", "claim_id": summary.claim_ids[0]}]
    summary, report, _, _ = _ingest(files, "encounters/short.json", profiles)  # no clinic folder: required
    assert summary.claims_created == 0
    assert sorted(r["field"] for r in report["rejections"]) == ["billing_provider", "clinic_id", "place_of_service"]


def test_the_profiles_pay_to_address_reaches_hl7_and_fhir_encounters() -> None:
    files = FakeArtifacts()
    profiles = ClinicProfiles(FakeClinicProfileFiles())
    pay_to = {"line1": "PO Box 4455", "city": "Springfield", "state": "IL", "postal_code": "627050445"}
    profiles.put(CLINIC, {**PROFILE, "pay_to_address": pay_to})
    files.write(HL7_KEY, dft())
    _, _, store, _ = _ingest(files, HL7_KEY, profiles)
    fhir_store = FakeStore()
    receive_bundle(fhir_store, files, FakeWorkflow(), profiles, CLINIC, json.dumps(fhir_bundle()).encode())
    for claims in (store, fhir_store):
        billing = claims.get_claim(CLAIM).encounter.billing_provider
        assert billing.pay_to_address is not None and billing.pay_to_address.postal_code == "627050445"
