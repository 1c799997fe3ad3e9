"""Fee schedule results compared whole (every field of every priced line) and CSV loading details:
the byte-order mark, lowercase codes, sub-dollar fees, line numbers in errors (mutation testing)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medbill.billing.fees import FeeSchedule, FeeScheduleError, PricedClaim, PricedLine, UnpricedLine
from tests.factories import CLINIC_X_ENCOUNTER, encounter_dict, make_encounter

D = Decimal
HEADER = "procedure_code,modifier,payer_id,amount\n"


def _schedule() -> FeeSchedule:
    return FeeSchedule.from_csv_text("clinic-x", HEADER + "99213,,,100.00\n99213,25,,110.00\n36415,,,0.50\n")


def test_priced_claim_is_exact_for_scheduled_and_clinic_charged_lines() -> None:
    lines = [
        {"procedure_code": "99213", "modifiers": ["25"], "units": "2", "diagnosis_pointers": [1]},
        {"procedure_code": "36415", "charge": "12.34", "units": "3", "diagnosis_pointers": [1]},
        {"procedure_code": "36415", "diagnosis_pointers": [1]},
    ]
    enc = make_encounter(base=encounter_dict(base=CLINIC_X_ENCOUNTER, diagnoses=["E11.9"]), service_lines=lines)
    priced = _schedule().price_lines(enc)
    assert priced == PricedClaim(
        clinic_id=enc.clinic_id,
        encounter_id=enc.encounter_id,
        payer_id=enc.coverage.payer_id,
        lines=(
            PricedLine(1, "99213", ("25",), D("2"), D("110.00"), D("220.00"), "fee_schedule"),
            PricedLine(2, "36415", (), D("3"), None, D("12.34"), "encounter"),
            PricedLine(3, "36415", (), D("1"), D("0.50"), D("0.50"), "fee_schedule"),
        ),
        total_charge=D("232.84"),
    )
    assert priced.line_charges == (D("220.00"), D("12.34"), D("0.50")) and priced.total == D("232.84")
    assert str(priced.total_charge) == "232.84"


def test_an_unpriced_line_names_line_code_and_clinic() -> None:
    enc = make_encounter(
        base=encounter_dict(base=CLINIC_X_ENCOUNTER, diagnoses=["E11.9"]),
        service_lines=[
            {"procedure_code": "99213", "diagnosis_pointers": [1]},
            {"procedure_code": "85025", "diagnosis_pointers": [1]},
        ],
    )
    with pytest.raises(UnpricedLine) as err:
        _schedule().price_lines(enc)
    assert str(err.value) == "line 2: 85025 is not on clinic clinic-x's fee schedule"
    assert (err.value.line_number, err.value.procedure_code) == (2, "85025")


def test_schedule_keeps_its_clinic_codes_and_rows() -> None:
    schedule = _schedule()
    assert schedule.clinic_id == "clinic-x" and len(schedule) == 3
    assert schedule.codes == frozenset({"99213", "36415"})


def test_codes_are_matched_whatever_their_case_and_spacing() -> None:
    schedule = FeeSchedule.from_csv_text("c", HEADER + "j1100,,,25.00\n")
    assert schedule.codes == frozenset({"J1100"})
    assert "J1100" in schedule and " j1100 " in schedule and "J1101" not in schedule and 1100 not in schedule
    assert schedule.price("j1100") == D("25.00") and schedule.price(" J1100 ") == D("25.00")


def test_a_byte_order_mark_before_the_header_is_ignored() -> None:
    schedule = FeeSchedule.from_csv_text("c", "\ufeff" + HEADER + "99213,,,100.00\n")
    assert schedule.price("99213") == D("100.00")


def test_a_fee_under_one_dollar_is_a_fee() -> None:
    assert FeeSchedule.from_csv_text("c", HEADER + "36415,,,0.01\n").price("36415") == D("0.01")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (",,,10.00\n", "fee schedule line 2: procedure_code (blank) is not a CPT or HCPCS code"),
        ("99213,,,10.00\n9921,,,5\n", "fee schedule line 3: procedure_code 9921 is not a CPT or HCPCS code"),
        ("99213,,,0\n", "fee schedule line 2: 99213 amount must be greater than zero"),
        ("99213,,,0.00\n", "fee schedule line 2: 99213 amount must be greater than zero"),
        ("99213,,,1.234\n", "fee schedule line 2: 99213 amount is not a money amount like 125 or 125.00"),
    ],
)
def test_row_errors_name_the_source_and_the_line(rows: str, message: str) -> None:
    with pytest.raises(FeeScheduleError) as err:
        FeeSchedule.from_csv_text("c", HEADER + rows)
    assert str(err.value) == message


def test_row_errors_use_the_named_source() -> None:
    with pytest.raises(FeeScheduleError) as err:
        FeeSchedule.from_csv_text("c", HEADER + "ABC,,,1\n", source="clinic-x.csv")
    assert str(err.value) == "clinic-x.csv line 2: procedure_code ABC is not a CPT or HCPCS code"
