"""The coding stage's hold reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medbill.billing.fees import FeeSchedule
from medbill.coding import CodingReferences
from medbill.coding import coding_edits as _coding_edits
from medbill.coding.procedures import HcpcsLevel2
from medbill.models.encounter import Encounter
from tests.factories import CLINIC_X_ENCOUNTER, encounter_dict, make_encounter

SCHEDULE = FeeSchedule.from_csv_text(
    "clinic-x",
    "procedure_code,modifier,payer_id,amount\n99213,,,133.00\n36415,,,15.00\nG0439,,,190\n93000,,PAYERZZ,25\n",
)

_BASE = encounter_dict(
    base=CLINIC_X_ENCOUNTER,
    patient__last_name="Zqcanarylast",
    patient__first_name="Zqcanaryfirst",
    coverage__member_id="ZQCANARYMEMBER",
    service_lines=[
        {"procedure_code": "99213", "modifiers": ["25"], "diagnosis_pointers": [1, 2]},
        {"procedure_code": "36415", "diagnosis_pointers": [1]},
    ],
)


def coding_edits(enc: Encounter, schedule: FeeSchedule | None, hcpcs: HcpcsLevel2 | None = None) -> list[str]:
    # The packaged lists only: MEDBILL_REFERENCE_DATA in the environment must not change these results.
    return _coding_edits(enc, schedule, hcpcs, references=CodingReferences.packaged())


def encounter(**overrides: Any) -> Encounter:
    return make_encounter(base=_BASE, **overrides)


def test_clean_encounter_has_no_reasons() -> None:
    assert coding_edits(encounter(), SCHEDULE) == []


def test_category_code_is_not_billable() -> None:
    assert coding_edits(encounter(diagnoses=["E11", "I10"]), SCHEDULE) == [
        "diagnosis 1: E11 is a category, not a billable code; use a more specific code"
    ]


def test_subcategory_code_is_not_billable() -> None:
    assert coding_edits(encounter(diagnoses=["I10", "E11.6"]), SCHEDULE) == [
        "diagnosis 2: E11.6 is a subcategory, not a billable code; use a more specific code"
    ]


def test_code_not_in_the_code_set() -> None:
    # Intake rejects these; the coding stage re-checks (a staff fix may introduce one).
    enc = encounter()
    enc.diagnoses = ["E119", "E119X"]
    assert coding_edits(enc, SCHEDULE) == ["diagnosis 2: E11.9X is not an ICD-10-CM code"]


def test_manifestation_code_cannot_be_principal() -> None:
    reasons = coding_edits(encounter(diagnoses=["G63", "E11.42"]), SCHEDULE)
    assert reasons == [
        "diagnosis 1: G63 is a manifestation code and cannot be the principal diagnosis; "
        "list the underlying condition first"
    ]
    assert coding_edits(encounter(diagnoses=["E11.42", "G63"]), SCHEDULE) == []


def test_procedure_not_on_the_fee_schedule() -> None:
    lines = [
        {"procedure_code": "99213", "diagnosis_pointers": [1]},
        {"procedure_code": "99215", "diagnosis_pointers": [1]},
    ]
    assert coding_edits(encounter(service_lines=lines), SCHEDULE) == [
        "line 2: 99215 is not on clinic clinic-x's fee schedule"
    ]


def test_procedure_priced_only_for_another_payer() -> None:
    lines = [{"procedure_code": "93000", "diagnosis_pointers": [1]}]
    assert coding_edits(encounter(service_lines=lines), SCHEDULE) == [
        "line 1: 93000 has no fee for payer PAYERA01 on clinic clinic-x's schedule"
    ]
    # A clinic-supplied charge needs no fee (the code is still on the schedule).
    lines[0]["charge"] = "40.00"
    assert coding_edits(encounter(service_lines=lines), SCHEDULE) == []


def test_no_fee_schedule() -> None:
    assert coding_edits(encounter(), None) == [
        "clinic clinic-x has no fee schedule; procedure codes cannot be checked or priced"
    ]


def test_bad_modifier_pointer_and_code_bypassing_the_model() -> None:
    enc = encounter()
    enc.service_lines[0].modifiers = ["2", "25", "25"]
    enc.service_lines[1].diagnosis_pointers = [3]
    enc.service_lines[1].procedure_code = "ABCDE"
    assert coding_edits(enc, SCHEDULE) == [
        "line 1: modifier 2 is not two letters or digits",
        "line 1: a modifier is repeated",
        "line 2: ABCDE is not a CPT or HCPCS code",
    ]
    enc.service_lines[1].procedure_code = "36415"
    assert coding_edits(enc, SCHEDULE)[-1] == "line 2: diagnosis pointer 3 but the claim has 2 diagnoses"


def test_hcpcs_level2_existence_when_a_file_is_supplied(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs_2024-07.csv"
    path.write_text("hcpcs_code,date_term\nG0438,\n")
    lines = [{"procedure_code": "G0439", "diagnosis_pointers": [1]}]
    enc = encounter(service_lines=lines)
    assert coding_edits(enc, SCHEDULE) == []
    assert coding_edits(enc, SCHEDULE, HcpcsLevel2.load(path)) == [
        "HCPCS 2024Q3: line 1: G0439 is not a HCPCS Level II code"
    ]


def test_new_rules_reach_todays_caller() -> None:
    assert coding_edits(encounter(place_of_service="00"), SCHEDULE) == [
        "CMS POS 2024-06: place of service 00 is not a CMS place-of-service code"
    ]


def test_reasons_carry_no_phi() -> None:
    enc = encounter(diagnoses=["E11", "G63"], service_lines=[{"procedure_code": "99215", "diagnosis_pointers": [1]}])
    text = " ".join(coding_edits(enc, SCHEDULE)).lower()
    assert "zqcanary" not in text and "1968" not in text
