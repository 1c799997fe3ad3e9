"""NCCI PTP and MUE edits from user-supplied files."""

from __future__ import annotations

from pathlib import Path

import pytest

from medbill.billing.fees import FeeSchedule
from medbill.coding import NcciEdits, coding_edits, ncci_edits
from medbill.models.encounter import Encounter
from tests.factories import CLINIC_X_ENCOUNTER, encounter_dict, make_encounter

NCCI_DIR = Path(__file__).resolve().parents[4] / "shared" / "reference-data" / "ncci"

_BASE = encounter_dict(base=CLINIC_X_ENCOUNTER, diagnoses=["M17.11"])


def encounter(*lines: tuple[str, list[str], int]) -> Encounter:
    return make_encounter(
        base=_BASE,
        service_lines=[
            {"procedure_code": c, "modifiers": m, "units": u, "diagnosis_pointers": [1]} for c, m, u in lines
        ],
    )


@pytest.fixture
def edits(tmp_path: Path) -> NcciEdits:
    mue = tmp_path / "mue.csv"
    mue.write_text("hcpcs_code,mue_units,mue_mai\n20610,2,3\n36415,2,3\nJ3301,16,1\n")
    ptp = tmp_path / "ptp.csv"
    ptp.write_text(
        "column1_code,column2_code,deletion_date,modifier_indicator\n"
        "20610,99214,,1\n"
        "20610,99213,2019-12-31,1\n"
        "93000,93005,,0\n"
        "G0438,93000,2011-07-01,9\n"
    )
    return NcciEdits.load(mue, ptp)


def test_bundled_pair_without_modifier(edits: NcciEdits) -> None:
    assert ncci_edits(encounter(("99214", [], 1), ("20610", [], 1)), edits) == [
        "line 1: 99214 is bundled into 20610 on line 2 (NCCI); add a modifier such as 59 or 25 if distinct"
    ]


def test_modifier_25_bypasses_an_indicator_1_edit(edits: NcciEdits) -> None:
    assert ncci_edits(encounter(("99214", ["25"], 1), ("20610", [], 1)), edits) == []


def test_indicator_0_cannot_be_bypassed(edits: NcciEdits) -> None:
    reasons = ncci_edits(encounter(("93000", [], 1), ("93005", ["59"], 1)), edits)
    assert reasons == ["line 2: 93005 is bundled into 93000 on line 1 (NCCI)"]


def test_deleted_edit_no_longer_applies(edits: NcciEdits) -> None:
    assert ncci_edits(encounter(("99213", [], 1), ("20610", [], 1)), edits) == []


def test_anatomic_modifiers_bypass_only_when_sites_differ(edits: NcciEdits) -> None:
    assert ncci_edits(encounter(("99214", ["RT"], 1), ("20610", ["LT"], 1)), edits) == []
    assert ncci_edits(encounter(("99214", ["RT"], 1), ("20610", ["RT"], 1)), edits) != []


def test_mue_per_line_and_per_day(edits: NcciEdits) -> None:
    assert ncci_edits(encounter(("J3301", [], 17)), edits) == [
        "line 1: J3301 x 17 units exceeds its MUE of 16 per line"
    ]
    assert ncci_edits(encounter(("36415", [], 2), ("36415", ["91"], 1)), edits) == [
        "36415 x 3 units exceeds its MUE of 2 per day"
    ]
    assert ncci_edits(encounter(("36415", [], 2)), edits) == []


def test_coding_edits_include_ncci_when_given(edits: NcciEdits) -> None:
    schedule = FeeSchedule.from_csv_text("clinic-x", "procedure_code,modifier,payer_id,amount\n99214,,,1\n20610,,,1\n")
    enc = encounter(("99214", [], 1), ("20610", [], 1))
    assert coding_edits(enc, schedule) == []
    assert len(coding_edits(enc, schedule, ncci=edits)) == 1


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "mue.csv"
    path.write_text("code,units\n")
    with pytest.raises(ValueError, match="mue_units"):
        NcciEdits.load(mue_path=path)


def test_shared_cms_files_and_the_demo_samples() -> None:
    mue, ptp = (
        NCCI_DIR / "ncci_mue_practitioner_2024-07-01.csv",
        NCCI_DIR / "ncci_ptp_practitioner_2024-07-01_subset_common_col1.csv",
    )
    if not (mue.is_file() and ptp.is_file()):
        pytest.skip(f"shared reference data not present: {NCCI_DIR}")
    edits = NcciEdits.load(mue, ptp)
    assert ncci_edits(encounter(("99214", [], 1), ("20610", ["RT"], 1)), edits)
    assert ncci_edits(encounter(("99214", ["25"], 1), ("20610", ["RT"], 1), ("J3301", [], 4)), edits) == []
