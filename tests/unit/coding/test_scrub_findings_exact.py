"""Every scrubber finding in full (rule id, severity, message, data version, line), not the message alone: the
coding stage records findings by rule id and line, and the console groups holds by them. Found by the coding
mutation run (docs/testing.md): the message tests passed with a rule id, a line or a data version changed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from coding_builders import PACKAGED, SCHEDULE, encounter, found, quarter_refs

from medbill.billing.fees import FeeSchedule
from medbill.coding import CodingReferences, coding_edits, scrub
from medbill.coding.findings import Finding
from medbill.coding.procedures import HcpcsCode, HcpcsLevel2
from medbill.coding.references import REFERENCE_DATA_ENV
from medbill.models.encounter import Encounter

X12 = "837P 005010X222A1"
ICD = "ICD-10-CM April-1-2026"
FEES = "fee schedule clinic-test"


def _all(enc: Encounter, refs: CodingReferences = PACKAGED, schedule: FeeSchedule | None = SCHEDULE) -> list[Finding]:
    return list(scrub(enc, refs, schedule).findings)


# --- diagnoses ---------------------------------------------------------------------------------------------
def test_diagnosis_findings_in_full() -> None:
    enc = encounter(diagnoses=["G63", "E11", "E11.6", "I10"])
    enc.diagnoses.append("E119X")  # not a code: a staff edit that bypassed the model
    assert [f for f in _all(enc) if f.rule_id.startswith("DX-")] == [
        Finding(
            "DX-BILLABLE",
            "hold",
            f"{ICD}: diagnosis 2 is a category, not a billable code; use a more specific code",
            ICD,
        ),
        Finding(
            "DX-BILLABLE",
            "hold",
            f"{ICD}: diagnosis 3 is a subcategory, not a billable code; use a more specific code",
            ICD,
        ),
        Finding("DX-CODE", "hold", f"{ICD}: diagnosis 5 is not an ICD-10-CM code", ICD),
        Finding(
            "DX-MANIFESTATION",
            "hold",
            f"{ICD}: diagnosis 1 is a manifestation code and cannot be the principal diagnosis; "
            "list the underlying condition first",
            ICD,
        ),
    ]


def test_a_principal_manifestation_is_named_whatever_the_second_diagnosis_is() -> None:
    enc = encounter(("99213", [], 1), diagnoses=["G63"])
    assert [f.rule_id for f in _all(enc) if f.rule_id.startswith("DX-")] == ["DX-MANIFESTATION"]
    enc.diagnoses.append("E119X")  # the second is not a code
    assert coding_edits(enc, SCHEDULE, references=PACKAGED) == [
        "diagnosis 2: E11.9X is not an ICD-10-CM code",
        "diagnosis 1: G63 is a manifestation code and cannot be the principal diagnosis; "
        "list the underlying condition first",
    ]


# --- procedure lines -----------------------------------------------------------------------------------------
def test_procedure_line_findings_in_full() -> None:
    schedule = FeeSchedule.from_csv_text(
        "clinic-test", "procedure_code,modifier,payer_id,amount\n99213,,,10\n36415,,,5\n93000,,PAYERZZ,25\n"
    )
    lines = [
        {"procedure_code": "99213", "diagnosis_pointers": [1]},
        {"procedure_code": "99213", "diagnosis_pointers": [1]},
        {"procedure_code": "99215", "diagnosis_pointers": [1]},
        {"procedure_code": "93000", "diagnosis_pointers": [1]},
        {"procedure_code": "36415", "diagnosis_pointers": [1]},
    ]
    enc = encounter(service_lines=lines)
    # values the model refuses, as a staff edit that bypassed it would leave them
    enc.service_lines[0].procedure_code = "ABCDE"
    enc.service_lines[1].modifiers = ["2", "25", "25"]
    enc.service_lines[4].diagnosis_pointers = [3]
    assert [
        f for f in _all(enc, schedule=schedule) if f.rule_id in ("PROC-CODE", "MODIFIER", "FEE-SCHEDULE", "DX-POINTER")
    ] == [
        Finding("PROC-CODE", "hold", "line 1: ABCDE is not a CPT or HCPCS code", None, 1),
        Finding("MODIFIER", "hold", "line 2: modifier 2 is not two letters or digits", None, 2),
        Finding("MODIFIER", "hold", "line 2: a modifier is repeated", None, 2),
        Finding("FEE-SCHEDULE", "hold", "line 3: 99215 is not on clinic clinic-test's fee schedule", FEES, 3),
        Finding(
            "FEE-SCHEDULE",
            "hold",
            "line 4: 93000 has no fee for payer PAYERA01 on clinic clinic-test's schedule",
            FEES,
            4,
        ),
        Finding("DX-POINTER", "hold", "line 5: diagnosis pointer 3 but the claim has 2 diagnoses", None, 5),
    ]


def test_a_code_priced_only_for_this_claims_payer_is_priced() -> None:
    schedule = FeeSchedule.from_csv_text("clinic-test", "procedure_code,modifier,payer_id,amount\n93000,,PAYERA01,25\n")
    enc = encounter(("93000", ["26"], 1))
    assert found(enc, "FEE-SCHEDULE", schedule=schedule) == []


# --- HCPCS Level II --------------------------------------------------------------------------------------------
HCPCS = "hcpcs_code,short_description,date_added,date_term\nQ5999,newer,2026-11-03,\nA4466,gone,2010-01-01,2026-11-01\n"


def test_hcpcs_findings_in_full(tmp_path: Path) -> None:
    refs = quarter_refs(tmp_path, hcpcs=HCPCS)
    v = "HCPCS 2024Q3"
    assert [f for f in _all(encounter(("Q5999", [], 1), ("A4466", [], 1)), refs) if f.rule_id.startswith("HCPCS")] == [
        Finding(
            "HCPCS-DATES", "hold", f"{v}: line 1: Q5999 takes effect on 2026-11-03, after the date of service", v, 1
        ),
        Finding(
            "HCPCS-DATES",
            "hold",
            f"{v}: line 2: A4466 was terminated after 2026-11-01; use the code that replaced it",
            v,
            2,
        ),
    ]


def test_reference_data_infos_in_full(tmp_path: Path) -> None:
    assert [f for f in _all(encounter(("G9999", [], 1))) if f.rule_id == "REFDATA-MISSING"] == [
        Finding("REFDATA-MISSING", "info", "no HCPCS Level II file is loaded; HCPCS codes were checked by format only"),
        Finding("REFDATA-MISSING", "info", "no NCCI PTP file is loaded; the claim was not checked against it"),
        Finding("REFDATA-MISSING", "info", "no NCCI MUE file is loaded; the claim was not checked against it"),
    ]
    refs = quarter_refs(tmp_path, hcpcs=HCPCS)
    assert found(encounter(), "REFDATA-STALE", refs) == [
        Finding(
            "REFDATA-STALE",
            "info",
            "HCPCS 2024Q3: the date of service is in a later quarter than the HCPCS Level II file; "
            "load the current one",
            "HCPCS 2024Q3",
        )
    ]


# --- NCCI ------------------------------------------------------------------------------------------------------
PTP = (
    "column1_code,column2_code,effective_date,deletion_date,modifier_indicator,ptp_edit_rationale\n"
    "20611,20610,20240101,,1,x\n"
    "93000,93005,20240101,,0,x\n"
    "93000,20610,20240101,,1,x\n"
)
MUE = "hcpcs_code,mue_units,mue_mai\nJ3301,16,1\n"
P, M = "NCCI PTP 2024Q3", "NCCI MUE 2024Q3"
NO_BYPASS = (
    "no bypass modifier; if the services were distinct, add 59/XE/XP/XS/XU (or 25 on a separately identifiable E/M)"
)


@pytest.fixture
def ncci(tmp_path: Path) -> CodingReferences:
    return quarter_refs(tmp_path, ptp=PTP, mue=MUE)


def test_every_ptp_pair_is_checked_past_lines_with_no_edit_and_past_an_indicator_0_finding(
    ncci: CodingReferences,
) -> None:
    # line 1 93000 has an indicator-0 edit with line 3 and an indicator-1 edit with line 4; line 2 has none
    enc = encounter(("93000", [], 1), ("99213", [], 1), ("93005", [], 1), ("20610", [], 1), ("20611", ["59"], 1))
    assert found(enc, "NCCI-PTP", ncci) == [
        Finding(
            "NCCI-PTP",
            "hold",
            f"{P}: line 3: 93005 is column 2 of 93000 (line 1); modifier indicator 0, no modifier allows both; "
            "remove line 3",
            P,
            3,
        ),
        Finding(
            "NCCI-PTP",
            "hold",
            f"{P}: line 4: 20610 is column 2 of 93000 (line 1); modifier indicator 1, {NO_BYPASS}",
            P,
            4,
        ),
        Finding(
            "NCCI-PTP",
            "info",
            f"{P}: line 4: 20610 is column 2 of 20611 (line 5); modifier indicator 1, bypassed by modifier 59",
            P,
            4,
        ),
    ]


def test_a_per_line_mue_finding_in_full(ncci: CodingReferences) -> None:
    assert found(encounter(("99213", [], 1), ("J3301", [], 17)), "NCCI-MUE-LINE", ncci) == [
        Finding(
            "NCCI-MUE-LINE",
            "hold",
            f"{M}: line 2: J3301 x 17 units exceeds the MUE of 16 per line (MAI 1); units beyond it go on another "
            "line with modifier 76, 77, 91 or an anatomic modifier",
            M,
            2,
        )
    ]


# --- claim-level rules -----------------------------------------------------------------------------------------
ADDRESS = {"line1": "1 Main St", "city": "Springfield", "state": "QQ", "postal_code": "627019999"}
FACILITY = {"organization_name": "SPRINGFIELD GENERAL", "npi": "1245319599", "address": ADDRESS}


def test_every_provider_address_is_named_and_its_state_quoted() -> None:
    enc = encounter(
        billing_provider__pay_to_address=ADDRESS,
        service_facility=FACILITY,
        rendering_provider__address=ADDRESS,
        place_of_service="22",
    )
    states = "X12 states (pyx12 codes.xml)"
    assert found(enc, "STATE-CODE") == [
        Finding(
            "STATE-CODE",
            "hold",
            f"{states}: {whose}: state QQ is not a US state, territory or Canadian province code",
            states,
        )
        for whose in ("pay-to address (2010AB)", "service facility address (2310C)", "rendering provider address")
    ]


def test_claim_level_rule_ids() -> None:
    other = {
        "coverage": {"payer_id": "SEC02", "payer_name": "Second", "member_id": "S-1", "claim_filing_indicator": "XX"},
        "subscriber": {"relationship": "self"},
    }
    assert [f.rule_id for f in _all(encounter(other_coverages=[other]))] == [
        "SBR09-CODE",
        "REFDATA-MISSING",
        "REFDATA-MISSING",
    ]
    enc = encounter()
    enc.billing_provider.tin = "000000000"
    assert found(enc, "TIN-INVALID") == [
        Finding("TIN-INVALID", "hold", f"{X12}: billing provider tax id is not valid: an EIN cannot start with 00", X12)
    ]
    facility = {**FACILITY, "address": {**ADDRESS, "state": "IL", "line1": "PO Box 4"}}
    assert [
        f.rule_id for f in scrub(encounter(place_of_service="22", service_facility=facility), PACKAGED, SCHEDULE).holds
    ] == ["SERVICE-FACILITY-PO-BOX"]
    assert found(encounter(("99213", [], 1), ("00790", [], "47.5")), "ANESTHESIA-MINUTES") == [
        Finding(
            "ANESTHESIA-MINUTES",
            "hold",
            f"{X12}: line 2: 00790 is anesthesia, billed in minutes (MJ); 47.5 is not a whole number",
            X12,
            2,
        )
    ]


# --- the result as stored ----------------------------------------------------------------------------------------
def test_the_scrub_result_as_stored_on_the_coding_record() -> None:
    enc = encounter()
    enc.service_lines[0].procedure_code = "ABCDE"
    result = scrub(enc, PACKAGED, SCHEDULE)
    stored = result.as_dict()
    assert stored["findings"] == [f.as_dict() for f in result.findings]
    assert result.findings[0].as_dict() == {
        "rule_id": "PROC-CODE",
        "severity": "hold",
        "message": "line 1: ABCDE is not a CPT or HCPCS code",
        "data_version": None,
        "line": 1,
    }
    assert stored["versions"] == PACKAGED.versions() and set(stored) == {"findings", "versions"}


# --- the default references ----------------------------------------------------------------------------------------
def test_without_references_the_scrubber_and_todays_caller_read_medbill_reference_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "refdata"
    quarter_refs(tmp_path, hcpcs="hcpcs_code,date_term\nG0438,\n")  # writes tmp_path/refdata
    monkeypatch.setenv(REFERENCE_DATA_ENV, str(folder))
    enc = encounter(("G0439", [], 1))
    assert scrub(enc, fee_schedule=SCHEDULE).reasons == ["HCPCS 2024Q3: line 1: G0439 is not a HCPCS Level II code"]
    assert coding_edits(enc, SCHEDULE) == ["HCPCS 2024Q3: line 1: G0439 is not a HCPCS Level II code"]
    # references given: they are used, not MEDBILL_REFERENCE_DATA's
    assert coding_edits(enc, SCHEDULE, references=PACKAGED) == []


def test_a_claim_left_without_diagnoses_by_an_edit_is_held_on_its_pointers_not_crashed() -> None:
    enc = encounter(("99213", [], 1))
    enc.diagnoses = []  # the model requires one; a staff edit that bypassed it must not crash the scrubber
    assert [(f.rule_id, f.message) for f in scrub(enc, PACKAGED, SCHEDULE).holds] == [
        ("DX-POINTER", "line 1: diagnosis pointer 1 but the claim has 0 diagnoses")
    ]


def test_a_hcpcs_table_built_in_code_has_no_quarter_and_is_never_stale() -> None:
    # HcpcsLevel2's default version is "HCPCS" (no quarter): nothing to compare with the date of service.
    table = HcpcsLevel2({"G0439": HcpcsCode(date(2011, 1, 1), None)})
    enc = encounter(("G0439", [], 1))
    result = scrub(enc, PACKAGED.with_quarterly(None, table), SCHEDULE)
    assert result.versions["hcpcs"] == "HCPCS"
    assert [f.rule_id for f in result.findings] == ["REFDATA-MISSING", "REFDATA-MISSING"]  # the two NCCI files
