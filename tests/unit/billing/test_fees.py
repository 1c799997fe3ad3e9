"""Clinic fee schedules: lookup precedence, Decimal arithmetic, loading, errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from medbill.billing.fees import FeeSchedule, FeeScheduleError, FeeScheduleNotFound, UnpricedLine
from medbill.models.encounter import Encounter
from tests.factories import CLINIC_X_ENCOUNTER, encounter_dict, make_encounter

HEADER = "procedure_code,modifier,payer_id,amount\n"
PRECEDENCE = FeeSchedule.from_csv_text(
    "clinic-x",
    HEADER
    + "99213,,,100.00\n"
    + "99213,,PAYERB02,90.00\n"
    + "99213,25,,110.00\n"
    + "99213,25,PAYERB02,95.00\n"
    + "71046,26,,15\n"
    + "71046,TC,,34\n"
    + "71046,,,49\n"
    + "85025,,,45.50\n"
    + "33333,,,33.33\n",
)

_BASE = encounter_dict(base=CLINIC_X_ENCOUNTER, diagnoses=["E11.9"])


def encounter(lines: list[dict[str, Any]], payer_id: str = "PAYERA01") -> Encounter:
    lines = [{"diagnosis_pointers": [1], **line} for line in lines]
    return make_encounter(base=_BASE, coverage__payer_id=payer_id, service_lines=lines)


@pytest.mark.parametrize(
    ("modifiers", "payer", "expected"),
    [
        ([], None, "100.00"),  # code
        ([], "PAYERA01", "100.00"),  # no payer row for PAYERA01: code
        ([], "PAYERB02", "90.00"),  # code + payer
        (["25"], "PAYERA01", "110.00"),  # code + modifier beats code
        (["25"], "PAYERB02", "95.00"),  # code + modifier + payer beats everything
        (["59"], "PAYERB02", "90.00"),  # a modifier without its own row: code + payer
        (["59", "25"], None, "110.00"),  # any of the line's modifiers can match
    ],
)
def test_most_specific_row_wins(modifiers: list[str], payer: str | None, expected: str) -> None:
    price = PRECEDENCE.price("99213", modifiers, payer)
    assert price == Decimal(expected) and isinstance(price, Decimal)


def test_code_plus_modifier_beats_code_plus_payer() -> None:
    schedule = FeeSchedule.from_csv_text("c", HEADER + "99213,,,100\n99213,,PAYERB02,90\n99213,25,,110\n")
    assert schedule.price("99213", ["25"], "PAYERB02") == Decimal("110.00")


def test_professional_and_technical_components() -> None:
    assert PRECEDENCE.price("71046", ["26"]) == Decimal("15.00")
    assert PRECEDENCE.price("71046", ["TC"]) == Decimal("34.00")
    assert PRECEDENCE.price("71046", []) == Decimal("49.00")
    assert PRECEDENCE.price("99999", []) is None


def test_units_times_fee_is_exact_decimal() -> None:
    priced = PRECEDENCE.price_lines(encounter([{"procedure_code": "85025", "units": 2}]))
    [line] = priced.lines
    assert line.charge == Decimal("91.00")
    assert str(line.charge) == "91.00"
    assert line.unit_fee == Decimal("45.50") and line.source == "fee_schedule"
    assert priced.total_charge == Decimal("91.00")


def test_fractional_units_round_half_up_to_cents() -> None:
    # 1.5 x 33.33 = 49.995 -> 50.00 (half up, as billing systems round)
    priced = PRECEDENCE.price_lines(encounter([{"procedure_code": "33333", "units": "1.5"}]))
    assert priced.lines[0].charge == Decimal("50.00")


def test_clinic_supplied_charge_is_kept_and_total_sums() -> None:
    priced = PRECEDENCE.price_lines(
        encounter(
            [
                {"procedure_code": "99213", "modifiers": ["25"]},
                {"procedure_code": "85025", "charge": "12.34", "units": 3},
                {"procedure_code": "71046", "modifiers": ["26"]},
            ],
            payer_id="PAYERB02",
        )
    )
    assert priced.line_charges == (Decimal("95.00"), Decimal("12.34"), Decimal("15.00"))
    assert priced.lines[1].source == "encounter" and priced.lines[1].unit_fee is None
    assert priced.total_charge == priced.total == Decimal("122.34")
    assert all(type(v) is Decimal for v in (*priced.line_charges, priced.total_charge))
    assert (priced.clinic_id, priced.encounter_id, priced.payer_id) == ("clinic-x", "E-1", "PAYERB02")


def test_unpriced_line_names_line_and_code() -> None:
    with pytest.raises(UnpricedLine) as exc:
        PRECEDENCE.price_lines(encounter([{"procedure_code": "99213"}, {"procedure_code": "99215"}]))
    assert str(exc.value) == "line 2: 99215 is not on clinic clinic-x's fee schedule"
    assert (exc.value.line_number, exc.value.procedure_code) == (2, "99215")


def test_packaged_demo_schedules() -> None:
    northside = FeeSchedule.load("clinic-northside")
    lakeview = FeeSchedule.load("clinic-lakeview")
    # 99213: 2.75 non-facility RVU x 32.3465 = 88.95; x 1.5 = 133.43 -> 133; x 1.8 = 160.11 -> 160
    assert northside.price("99213") == Decimal("133.00")
    assert lakeview.price("99213") == Decimal("160.00")
    assert lakeview.price("99213", [], "PAYERC03") == Decimal("142.00")
    for code in ("99202", "99215", "36415", "80053", "85025", "93000", "71046", "90471", "90686", "20610"):
        assert code in northside and code in lakeview
    assert {"11102", "97110", "G0438", "G0439"} <= northside.codes
    assert "97110" not in lakeview
    assert (len(northside), len(lakeview)) == (47, 46)


def test_load_from_a_user_directory(tmp_path: Path) -> None:
    (tmp_path / "clinic-y.csv").write_text('\ufeffProcedure_Code,Modifier,Payer_ID,Amount\n99213,,,"$1,200.00"\n')
    schedule = FeeSchedule.load("clinic-y", tmp_path)
    assert schedule.price("99213") == Decimal("1200.00")
    assert FeeSchedule.load("clinic-y", str(tmp_path)) is schedule  # cached
    (tmp_path / "clinic-y.csv").write_text("procedure_code,modifier,payer_id,amount\n99213,,,150\n")
    FeeSchedule.clear_cache()
    assert FeeSchedule.load("clinic-y", tmp_path).price("99213") == Decimal("150.00")


@pytest.mark.parametrize("clinic_id", ["clinic-nowhere", "../etc/passwd", ""])
def test_missing_schedule(clinic_id: str, tmp_path: Path) -> None:
    with pytest.raises(FeeScheduleNotFound):
        FeeSchedule.load(clinic_id)
    with pytest.raises(FeeScheduleNotFound):
        FeeSchedule.load(clinic_id, tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("procedure_code,amount\n99213,1\n", "missing column(s) modifier, payer_id"),
        (HEADER + "99213,,,1e3\n", "99213 amount is not a money amount"),
        (HEADER + "99213,,,12.345\n", "99213 amount is not a money amount"),
        (HEADER + "99213,,,0\n", "99213 amount must be greater than zero"),
        (HEADER + "9921,,,10\n", "procedure_code 9921 is not a CPT or HCPCS code"),
        (HEADER + "99213,2,,10\n", "99213 modifier 2 is not"),
        (HEADER + "99213,,,10\n99213,,,11\n", "99213 modifier (any) payer (any) is listed twice"),
    ],
)
def test_malformed_schedules_name_the_code(text: str, message: str) -> None:
    with pytest.raises(FeeScheduleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FeeSchedule.from_csv_text("clinic-x", text)
