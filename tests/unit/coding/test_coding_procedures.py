"""CPT / HCPCS format, modifiers, and HCPCS Level II existence from a user-supplied file."""

from __future__ import annotations

from pathlib import Path

import pytest
from coding_builders import reference_data

from medbill.coding.procedures import HcpcsLevel2, is_modifier, is_procedure_code, procedure_kind


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("99213", "cpt"),
        ("0001F", "cpt_other"),
        ("0075T", "cpt_other"),
        ("0001U", "cpt_other"),
        ("G0439", "hcpcs"),
        ("j3301", "hcpcs"),
        ("9921", None),
        ("992134", None),
        ("W1234", None),
        ("0001X", None),
        ("", None),
    ],
)
def test_procedure_kind(code: str, kind: str | None) -> None:
    assert procedure_kind(code) == kind
    assert is_procedure_code(code) == (kind is not None)


@pytest.mark.parametrize(("modifier", "ok"), [("25", True), ("59", True), ("rt", True), ("X", False), ("25A", False)])
def test_modifier_format(modifier: str, ok: bool) -> None:
    assert is_modifier(modifier) is ok


def test_hcpcs_level2_from_a_user_file(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs.csv"
    path.write_text("hcpcs_code,long_description,date_term\nG0439,x,\nJ3301,y,\nQ9999,gone,2023-12-31\n")
    codes = HcpcsLevel2.load(path)
    assert "G0439" in codes and "j3301" in codes
    assert "Q9999" not in codes  # terminated
    assert "G0438" not in codes


def test_hcpcs_level2_file_without_code_column(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs.csv"
    path.write_text("code\nG0439\n")
    with pytest.raises(ValueError, match="hcpcs_code"):
        HcpcsLevel2.load(path)


def test_hcpcs_level2_shared_file() -> None:
    codes = HcpcsLevel2.load(reference_data() / "hcpcs" / "hcpcs_level2_2024-07.csv")
    assert len(codes.codes) > 5000
    assert {"G0438", "G0439", "J3301", "J1100"} <= set(codes.codes)
