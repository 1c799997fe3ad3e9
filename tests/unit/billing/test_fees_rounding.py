"""Fee x units rounds to cents HALF_UP: examples that tell it from HALF_EVEN, HALF_DOWN, DOWN and UP
(issue 16: 33.33 x 1.5 = 49.995 rounds to 50.00 under HALF_UP and HALF_EVEN alike)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medbill.billing.fees import FeeSchedule
from tests.factories import CLINIC_X_ENCOUNTER, encounter_dict, make_encounter

_CSV = "procedure_code,modifier,payer_id,amount\n" + "99213,,,10.35\n" + "36415,,,10.05\n" + "85025,,,0.07\n"
_BASE = encounter_dict(base=CLINIC_X_ENCOUNTER, diagnoses=["E11.9"])


def _schedule() -> FeeSchedule:
    # Built inside each test, not at import: mutmut credits a test only with the code it runs.
    return FeeSchedule.from_csv_text("clinic-x", _CSV)


def _charge(code: str, units: str) -> Decimal:
    enc = make_encounter(
        base=_BASE, service_lines=[{"procedure_code": code, "units": units, "diagnosis_pointers": [1]}]
    )
    [line] = _schedule().price_lines(enc).lines
    return line.charge


@pytest.mark.parametrize(
    ("code", "units", "exact", "expected"),
    [
        # exact product  HALF_UP  (HALF_EVEN / HALF_DOWN / DOWN would give)
        ("99213", "1.5", "15.525", "15.53"),  # 15.52 / 15.52 / 15.52: tells HALF_UP from HALF_EVEN
        ("36415", "1.5", "15.075", "15.08"),  # 15.08 / 15.07 / 15.07: from HALF_DOWN
        ("99213", "2.5", "25.875", "25.88"),  # 25.88 / 25.87 / 25.87
        ("85025", "0.5", "0.035", "0.04"),  # 0.04 / 0.03 / 0.03
        ("85025", "1.5", "0.105", "0.11"),  # 0.10 / 0.10 / 0.10: from HALF_EVEN near zero
        ("99213", "1.001", "10.36035", "10.36"),  # below half: not UP / CEILING (10.37)
        ("36415", "2", "20.10", "20.10"),  # exact: nothing to round
    ],
)
def test_fee_times_units_rounds_half_up_to_cents(code: str, units: str, exact: str, expected: str) -> None:
    fee = _schedule().price(code, [])
    assert fee is not None and fee * Decimal(units) == Decimal(exact)
    charge = _charge(code, units)
    assert charge == Decimal(expected) and str(charge) == expected
