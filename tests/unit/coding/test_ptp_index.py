"""The on-disk PTP index gives the same edits as parsing the files, with the version recorded at build."""

from __future__ import annotations

import shutil
from pathlib import Path

from coding_builders import encounter, holds, reference_data, write_quarter

from medbill.coding import CodingReferences
from medbill.coding.ptp_index import INDEX_NAME, main

PTP = (
    "column1_code,column2_code,effective_date,deletion_date,modifier_indicator\n"
    "20611,20610,20240101,*,1\n"
    "93000,93005,20240101,,0\n"
    "20610,99213,20100101,20191231,1\n"
)


def test_index_matches_the_files(tmp_path: Path, capsys) -> None:
    folder = write_quarter(tmp_path / "q", ptp=PTP, mue="hcpcs_code,mue_units,mue_mai\nJ3301,16,1\n")
    parsed = CodingReferences.from_directory(folder)
    assert main([str(folder)]) == 0
    assert capsys.readouterr().out == f"{folder / INDEX_NAME}: 3 edits, NCCI PTP 2024Q3\n"
    indexed = CodingReferences.from_directory(folder)
    assert indexed.ncci is not None and indexed.ncci.ptp == {} and indexed.ncci.ptp_index is not None
    assert indexed.versions() == parsed.versions()
    for lines in (
        [("20611", [], 1), ("20610", [], 1)],
        [("20611", [], 1), ("20610", ["XS"], 1)],
        [("93000", [], 1), ("93005", ["59"], 1)],
        [("20610", [], 1), ("99213", [], 1)],
        [("J3301", [], 17)],
    ):
        assert holds(encounter(*lines), indexed) == holds(encounter(*lines), parsed)
    assert holds(encounter(("20610", [], 1), ("99213", [], 1), date_of_service="2019-12-31"), indexed) != []


def test_no_ptp_files_is_an_error(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 1
    assert main([]) == 2


def test_index_of_the_shared_subset(tmp_path: Path) -> None:
    source = reference_data() / "ncci" / "ncci_ptp_practitioner_2024-07-01_subset_common_col1.csv"
    shutil.copy(source, tmp_path / source.name)
    assert main([str(tmp_path)]) == 0
    refs = CodingReferences.from_directory(tmp_path)
    assert refs.versions()["ncci_ptp"] == "NCCI PTP 2024Q3"
    assert holds(encounter(("20611", [], 1), ("20610", [], 1)), refs)[0].startswith("NCCI PTP 2024Q3: line 2: 20610")
