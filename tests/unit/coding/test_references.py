"""Loading the quarterly CMS files from a directory the user supplies: formats, layout, version names."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from coding_builders import encounter, holds

from medbill.coding import CodingReferences, default_references, references
from medbill.coding.cms_files import ReferenceDataError, find_files, quarter_in_name

V = "NCCI PTP 2024Q3"
CMS_MUE = (
    '"CPT codes, descriptions and other data only are copyright 2023 American Medical Association."\n'
    "\n"
    "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
    "J3301,16,1 Line Edit,Prescribing Information\n"
    "36415,2,2 Date of Service Edit: Policy,CMS Policy\n"
)
CMS_PTP_HEADER = (
    "CPT codes and descriptions only are copyright 2023 American Medical Association.\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
    "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\n"
)


def cms_quarter(folder: Path) -> Path:
    """A directory laid out as CMS ships the files: MUE CSV with a preamble, PTP TXT in four parts."""
    (folder / "mue").mkdir(parents=True)
    (folder / "ptp").mkdir()
    (folder / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv").write_text(CMS_MUE)
    (folder / "ptp" / "ccipra-v302r0-f1.txt").write_text(CMS_PTP_HEADER + "20611\t20610\t\t20240101\t*\t1\tx\n")
    (folder / "ptp" / "ccipra-v302r0-f2.txt").write_text(CMS_PTP_HEADER + "93000\t93005\t*\t19960101\t*\t0\tx\n")
    (folder / "README.txt").write_text("not a table\n")
    return folder


def test_cms_published_formats(tmp_path: Path) -> None:
    refs = CodingReferences.from_directory(cms_quarter(tmp_path / "2024Q3"))
    versions = refs.versions()
    assert (versions["ncci_ptp"], versions["ncci_mue"], versions["hcpcs"]) == (V, "NCCI MUE 2024Q3", "not loaded")
    assert refs.ncci is not None and len(refs.ncci.ptp) == 2  # both parts of the PTP table
    assert holds(encounter(("20611", [], 1), ("20610", [], 1)), refs)[0].startswith(f"{V}: line 2: 20610 is column 2")
    assert holds(encounter(("93000", [], 1), ("93005", ["59"], 1)), refs)[0].startswith(f"{V}: line 2: 93005")
    assert holds(encounter(("J3301", [], 17)), refs)[0].startswith("NCCI MUE 2024Q3: line 1: J3301 x 17 units")
    assert holds(encounter(("36415", [], 2), ("36415", [], 1)), refs)[0].startswith("NCCI MUE 2024Q3: 36415 x 3")


def test_versions_json_names_the_versions(tmp_path: Path) -> None:
    folder = cms_quarter(tmp_path / "q")
    (folder / "versions.json").write_text(json.dumps({"ncci_ptp": "v30.2 (2024-07-01)", "ncci_mue": "2024-07-01"}))
    versions = CodingReferences.from_directory(folder).versions()
    assert (versions["ncci_ptp"], versions["ncci_mue"]) == ("NCCI PTP v30.2 (2024-07-01)", "NCCI MUE 2024-07-01")


def test_bad_versions_json(tmp_path: Path) -> None:
    folder = cms_quarter(tmp_path / "q")
    (folder / "versions.json").write_text('["2024Q3"]')
    with pytest.raises(ReferenceDataError, match=r"versions\.json"):
        CodingReferences.from_directory(folder)


def test_missing_directory_is_an_error_not_a_silent_empty_set(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="does not exist"):
        CodingReferences.from_directory(tmp_path / "nope")


@pytest.mark.parametrize(
    ("name", "quarter"),
    [
        ("MCR_MUE_PractitionerServices_Eff_07-01-2024.csv", "2024Q3"),
        ("ncci_mue_practitioner_2024-07-01.csv", "2024Q3"),
        ("ccipra-v310r0-f1.txt", "2025Q1"),
        ("ccipra-v302r0-f4.txt", "2024Q3"),
        ("HCPC2025_OCT_ANWEB.csv", "2025Q4"),
        ("hcpcs_level2_2024-04.csv", "2024Q2"),
        ("mue_20241001.csv", "2024Q4"),
        ("ptp.csv", None),
    ],
)
def test_quarter_in_a_file_name(name: str, quarter: str | None) -> None:
    assert quarter_in_name(name) == quarter


def test_files_found_by_kind(tmp_path: Path) -> None:
    folder = cms_quarter(tmp_path / "q")
    (folder / "ncci_add_on_code_edits_2024-06-03.csv").write_text("primary_code,add_on_code\n")
    found = find_files(folder)
    assert [p.name for p in found["ncci_ptp"]] == ["ccipra-v302r0-f1.txt", "ccipra-v302r0-f2.txt"]
    assert [p.name for p in found["ncci_mue"]] == ["MCR_MUE_PractitionerServices_Eff_07-01-2024.csv"]
    assert found["hcpcs"] == []


def test_default_references_follow_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = cms_quarter(tmp_path / "q")
    monkeypatch.setenv(references.REFERENCE_DATA_ENV, str(folder))
    assert default_references().versions()["ncci_ptp"] == V
    assert default_references() is default_references()  # read once per directory
    monkeypatch.delenv(references.REFERENCE_DATA_ENV)
    assert default_references().versions()["ncci_ptp"] == "not loaded"


def test_loading_logs_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    CodingReferences.from_directory(cms_quarter(tmp_path / "q"))
    assert caplog.records == []
