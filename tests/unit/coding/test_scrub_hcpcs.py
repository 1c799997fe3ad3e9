"""HCPCS Level II existence and dates, from the quarter's file the user supplies."""

from __future__ import annotations

from pathlib import Path

import pytest
from coding_builders import encounter, found, holds, quarter_refs, reference_data

from medbill.coding import CodingReferences

HCPCS = (
    "hcpcs_code,short_description,date_added,date_term\n"
    "G0439,x,2011-01-01,\n"
    "J3301,x,1991-01-01,\n"
    "Q4333,new,2026-11-02,\n"  # effective on the canary date of service
    "Q5999,newer,2026-11-03,\n"  # effective the day after
    "A4397,old,1990-01-01,2026-11-02\n"  # last billable day = the date of service
    "A4466,gone,2010-01-01,2026-11-01\n"  # terminated the day before
)
V = "HCPCS 2024Q3"


@pytest.fixture
def refs(tmp_path: Path) -> CodingReferences:
    return quarter_refs(tmp_path, hcpcs=HCPCS)


def test_codes_in_force_on_the_date_of_service(refs: CodingReferences) -> None:
    enc = encounter(("G0439", [], 1), ("J3301", [], 1), ("Q4333", [], 1), ("A4397", [], 1))
    assert holds(enc, refs) == []


def test_unknown_code_holds(refs: CodingReferences) -> None:
    [f] = found(encounter(("G9999", [], 1)), "HCPCS-CODE", refs)
    assert (f.severity, f.data_version, f.line, f.message) == (
        "hold",
        V,
        1,
        f"{V}: line 1: G9999 is not a HCPCS Level II code",
    )


def test_not_yet_effective_and_terminated(refs: CodingReferences) -> None:
    assert holds(encounter(("Q5999", [], 1), ("A4466", [], 1)), refs) == [
        f"{V}: line 1: Q5999 takes effect on 2026-11-03, after the date of service",
        f"{V}: line 2: A4466 was terminated after 2026-11-01; use the code that replaced it",
    ]


def test_cpt_codes_are_not_looked_up(refs: CodingReferences) -> None:
    assert found(encounter(("99213", [], 1)), "HCPCS-CODE", refs) == []


def test_no_file_is_an_info_for_hcpcs_lines_only() -> None:
    assert [f.message for f in found(encounter(("G9999", [], 1)), "REFDATA-MISSING") if "HCPCS" in f.message] == [
        "no HCPCS Level II file is loaded; HCPCS codes were checked by format only"
    ]
    assert holds(encounter(("G9999", [], 1))) == []
    assert [f for f in found(encounter(), "REFDATA-MISSING") if "HCPCS" in f.message] == []


def test_cms_layout_with_continuation_rows(tmp_path: Path) -> None:
    # CMS's HCPC file repeats a code on continuation rows (sequence numbers); its dates are YYYYMMDD.
    body = "HCPC,SEQNUM,RECID,LONG DESCRIPTION,ADD DT,TERM DT\nG0439,0100,3,x,20110101,\nG0439,0200,4,y,,\n"
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "HCPC2024_JUL_ANWEB.csv").write_text(body)
    refs = CodingReferences.from_directory(folder)
    assert refs.versions()["hcpcs"] == V
    assert holds(encounter(("G0439", [], 1)), refs) == []
    assert holds(encounter(("G0439", [], 1), date_of_service="2010-12-31"), refs) == [
        f"{V}: line 1: G0439 takes effect on 2011-01-01, after the date of service"
    ]


def test_shared_hcpcs_file() -> None:
    refs = CodingReferences.from_directory(reference_data())
    assert refs.versions()["hcpcs"] == V
    assert holds(encounter(("G0439", [], 1), ("J3301", [], 1)), refs) == []
    assert holds(encounter(("A4397", [], 1)), refs) == [
        f"{V}: line 1: A4397 was terminated after 2021-12-31; use the code that replaced it"
    ]
