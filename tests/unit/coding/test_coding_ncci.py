"""NCCI PTP (modifier indicator, bypass modifiers) and MUE (per line / per day by MAI) from user files."""

from __future__ import annotations

from pathlib import Path

import pytest
from coding_builders import SCHEDULE, encounter, found, holds, quarter_refs, reference_data

from medbill.coding import CodingReferences, NcciEdits, coding_edits, ncci_edits, scrub
from medbill.coding.cms_files import ReferenceDataError

PTP = (
    "column1_code,column2_code,effective_date,deletion_date,modifier_indicator,ptp_edit_rationale\n"
    "20611,20610,20240101,*,1,HCPCS/CPT procedure code definition\n"
    "20610,99214,20240101,,1,CPT Manual or CMS manual coding instruction\n"
    "93000,93005,20240101,,0,HCPCS/CPT procedure code definition\n"
    "G0438,93000,20110101,,9,x\n"
    "20610,99213,20100101,20191231,1,x\n"
    "36415,99213,20270101,,0,x\n"
)
MUE = "hcpcs_code,mue_units,mue_mai\nJ3301,16,1\n36415,2,2\n99214,1,3\n00790,1,3\n"
V = "NCCI PTP 2024Q3"
M = "NCCI MUE 2024Q3"
NO_BYPASS = (
    "no bypass modifier; if the services were distinct, add 59/XE/XP/XS/XU (or 25 on a separately identifiable E/M)"
)


@pytest.fixture
def refs(tmp_path: Path) -> CodingReferences:
    return quarter_refs(tmp_path, ptp=PTP, mue=MUE)


def test_versions_come_from_the_file_names(refs: CodingReferences) -> None:
    assert (refs.versions()["ncci_ptp"], refs.versions()["ncci_mue"]) == (V, M)


# --- PTP ------------------------------------------------------------------------------------------
def test_column_2_without_a_bypass_modifier_holds(refs: CodingReferences) -> None:
    enc = encounter(("20611", [], 1), ("20610", [], 1))
    assert holds(enc, refs) == [f"{V}: line 2: 20610 is column 2 of 20611 (line 1); modifier indicator 1, {NO_BYPASS}"]
    [f] = found(enc, "NCCI-PTP", refs)
    assert (f.severity, f.data_version, f.line) == ("hold", V, 2)


@pytest.mark.parametrize("mod", ["59", "XE", "XS", "XP", "XU"])
@pytest.mark.parametrize("on_line", [1, 2])
def test_distinct_service_modifiers_bypass_an_indicator_1_edit(refs: CodingReferences, mod: str, on_line: int) -> None:
    enc = encounter(("20611", [mod] if on_line == 1 else [], 1), ("20610", [mod] if on_line == 2 else [], 1))
    assert holds(enc, refs) == []
    [f] = found(enc, "NCCI-PTP", refs)
    assert (f.severity, f.message) == (
        "info",
        f"{V}: line 2: 20610 is column 2 of 20611 (line 1); modifier indicator 1, bypassed by modifier {mod}",
    )


def test_modifier_25_bypasses_only_on_the_e_m_code(refs: CodingReferences) -> None:
    assert holds(encounter(("99214", ["25"], 1), ("20610", [], 1)), refs) == []
    assert holds(encounter(("99214", [], 1), ("20610", ["25"], 1)), refs) == [
        f"{V}: line 1: 99214 is column 2 of 20610 (line 2); modifier indicator 1, {NO_BYPASS}"
    ]


def test_a_modifier_that_bypasses_nothing(refs: CodingReferences) -> None:
    assert holds(encounter(("20611", ["76"], 1), ("20610", ["GA"], 1)), refs) != []


@pytest.mark.parametrize("mod", ["59", "XS", "25"])
def test_indicator_0_cannot_be_bypassed(refs: CodingReferences, mod: str) -> None:
    assert holds(encounter(("93000", [mod], 1), ("93005", [mod], 1)), refs) == [
        f"{V}: line 2: 93005 is column 2 of 93000 (line 1); modifier indicator 0, no modifier allows both; "
        "remove line 2"
    ]


def test_indicator_9_is_not_an_edit(refs: CodingReferences) -> None:
    assert found(encounter(("G0438", [], 1), ("93000", [], 1)), "NCCI-PTP", refs) == []


def test_edits_apply_only_between_their_effective_and_deletion_dates(refs: CodingReferences) -> None:
    assert found(encounter(("20610", [], 1), ("99213", [], 1)), "NCCI-PTP", refs) == []  # deleted 2019
    assert found(encounter(("36415", [], 1), ("99213", [], 1)), "NCCI-PTP", refs) == []  # from 2027
    early = encounter(("20610", [], 1), ("99213", [], 1), date_of_service="2019-12-31")
    assert len(found(early, "NCCI-PTP", refs)) == 1


def test_anatomic_modifiers_bypass_only_when_the_sites_differ(refs: CodingReferences) -> None:
    [f] = found(encounter(("20611", ["RT"], 1), ("20610", ["LT"], 1)), "NCCI-PTP", refs)
    assert f.severity == "info" and f.message.endswith("bypassed by modifier LT/RT")
    assert holds(encounter(("20611", ["RT"], 1), ("20610", ["RT"], 1)), refs) != []


# --- MUE ------------------------------------------------------------------------------------------
def test_mai_1_is_per_line(refs: CodingReferences) -> None:
    assert holds(encounter(("J3301", [], 16)), refs) == []
    assert holds(encounter(("J3301", [], 16), ("J3301", ["JW"], 16)), refs) == []  # each line at its limit
    assert holds(encounter(("J3301", [], 17)), refs) == [
        f"{M}: line 1: J3301 x 17 units exceeds the MUE of 16 per line (MAI 1); units beyond it go on another "
        "line with modifier 76, 77, 91 or an anatomic modifier"
    ]


def test_mai_2_is_per_day_across_lines(refs: CodingReferences) -> None:
    assert holds(encounter(("36415", [], 1), ("36415", ["91"], 1)), refs) == []
    assert holds(encounter(("36415", [], 2), ("36415", ["91"], 1)), refs) == [
        f"{M}: 36415 x 3 units on the date of service (line 1, 2) exceeds the MUE of 2 per day "
        "(MAI 2, per day, policy: units above the MUE are not payable)"
    ]


def test_mai_2_on_one_line_is_one_per_day_finding(refs: CodingReferences) -> None:
    assert [f.rule_id for f in scrub(encounter(("36415", [], 3)), refs, SCHEDULE).holds] == ["NCCI-MUE-DAY"]


def test_mai_3_is_per_day_clinical(refs: CodingReferences) -> None:
    assert holds(encounter(("99214", [], 1)), refs) == []
    [f] = found(encounter(("99214", [], 2)), "NCCI-MUE-DAY", refs)
    assert (f.severity, f.line, f.message) == (
        "hold",
        1,
        f"{M}: 99214 x 2 units on the date of service (line 1) exceeds the MUE of 1 per day "
        "(MAI 3, per day, clinical: units above the MUE need documented medical necessity)",
    )


def test_anesthesia_minutes_count_as_one_service_for_the_mue(refs: CodingReferences) -> None:
    assert found(encounter(("00790", [], 90)), "NCCI-MUE-DAY", refs) == []
    assert len(found(encounter(("00790", [], 90), ("00790", [], 30)), "NCCI-MUE-DAY", refs)) == 1


def test_no_ncci_files_is_an_info_not_a_hold() -> None:
    enc = encounter(("20611", [], 1), ("20610", [], 1))
    assert [f.message for f in found(enc, "REFDATA-MISSING")] == [
        "no NCCI PTP file is loaded; the claim was not checked against it",
        "no NCCI MUE file is loaded; the claim was not checked against it",
    ]
    assert holds(enc) == []


def test_quarter_older_than_the_date_of_service_is_noted(refs: CodingReferences) -> None:
    stale = found(encounter(), "REFDATA-STALE", refs)
    assert [(f.severity, f.data_version) for f in stale] == [("info", V), ("info", M)]
    assert found(encounter(date_of_service="2024-08-01"), "REFDATA-STALE", refs) == []


# --- today's call shape -------------------------------------------------------------------------------
def test_legacy_load_and_ncci_edits(tmp_path: Path) -> None:
    (tmp_path / "mue.csv").write_text(MUE)
    (tmp_path / "ptp.csv").write_text(PTP)
    edits = NcciEdits.load(tmp_path / "mue.csv", tmp_path / "ptp.csv")
    assert (edits.ptp_version, edits.mue_version) == ("NCCI PTP ptp", "NCCI MUE mue")  # no quarter in the names
    assert ncci_edits(encounter(("20611", [], 1), ("20610", ["59"], 1)), edits) == []
    enc = encounter(("20611", [], 1), ("20610", [], 1))
    assert ncci_edits(enc, edits) == [
        f"NCCI PTP ptp: line 2: 20610 is column 2 of 20611 (line 1); modifier indicator 1, {NO_BYPASS}"
    ]
    assert coding_edits(enc, SCHEDULE, ncci=edits, references=CodingReferences.packaged()) == ncci_edits(enc, edits)


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "mue.csv"
    path.write_text("code,units\n")
    with pytest.raises(ReferenceDataError, match="mue_units"):
        NcciEdits.load(mue_path=path)


def test_bad_indicator_names_the_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "ptp.csv"
    path.write_text("column1_code,column2_code,deletion_date,modifier_indicator\n20610,99214,,1\n20610,99213,,7\n")
    with pytest.raises(ReferenceDataError, match=r"ptp.csv: data row 2: modifier indicator is not 0, 1 or 9"):
        NcciEdits.load(ptp_path=path)


# --- the shared CMS files, read in place -----------------------------------------------------------
def test_shared_cms_files() -> None:
    refs = CodingReferences.from_directory(reference_data())
    assert refs.versions()["ncci_ptp"] == "NCCI PTP 2024Q3" and refs.versions()["ncci_mue"] == "NCCI MUE 2024Q3"
    assert holds(encounter(("20611", [], 1), ("20610", [], 1)), refs) == [
        f"{V}: line 2: 20610 is column 2 of 20611 (line 1); modifier indicator 1, {NO_BYPASS}"
    ]
    assert holds(encounter(("20611", [], 1), ("20610", ["XS"], 1)), refs) == []
    assert holds(encounter(("99214", ["25"], 1), ("20610", ["RT"], 1), ("J3301", [], 4)), refs) == []
    assert [f.rule_id for f in found(encounter(("99214", [], 3)), "NCCI-MUE-DAY", refs)] == ["NCCI-MUE-DAY"]
