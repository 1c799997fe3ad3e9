"""CPT / HCPCS code and modifier format.

CPT descriptors are AMA-licensed and CPT existence is not checked here: a CPT code is validated by its
format and by the clinic's fee schedule. HCPCS Level II changes quarterly, so its existence is checked
only against a file the user supplies (CMS's HCPCS Level II file as CSV), never a baked-in copy.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from medbill.models.encounter import PROCEDURE_CODE

CPT_CATEGORY_I = re.compile(r"^\d{5}$")
CPT_OTHER = re.compile(r"^\d{4}[FTU]$")  # category II (F), category III (T), PLA (U)
HCPCS_LEVEL_II = re.compile(r"^[A-V]\d{4}$")
MODIFIER = re.compile(r"^[0-9A-Z]{2}$")


def normalize_procedure(code: str) -> str:
    return code.strip().upper()


def procedure_kind(code: str) -> str | None:
    """'cpt', 'cpt_other' (II / III / PLA), 'hcpcs' (Level II), or None if the format is wrong."""
    c = normalize_procedure(code)
    if CPT_CATEGORY_I.fullmatch(c):
        return "cpt"
    if CPT_OTHER.fullmatch(c):
        return "cpt_other"
    if HCPCS_LEVEL_II.fullmatch(c):
        return "hcpcs"
    return None


def is_procedure_code(code: str) -> bool:
    # Same rule as the encounter model, so intake and the coding stage never disagree.
    return PROCEDURE_CODE.fullmatch(normalize_procedure(code)) is not None


def is_modifier(modifier: str) -> bool:
    return MODIFIER.fullmatch(modifier.strip().upper()) is not None


@dataclass(frozen=True)
class HcpcsLevel2:
    """The HCPCS Level II codes in force, loaded from a user-supplied CSV (column `hcpcs_code`;
    rows with a `date_term` are terminated codes and are left out)."""

    codes: frozenset[str]

    @classmethod
    def load(cls, path: str | Path) -> HcpcsLevel2:
        with Path(path).open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "hcpcs_code" not in reader.fieldnames:
                raise ValueError(f"{path}: no hcpcs_code column")
            codes = {
                normalize_procedure(row["hcpcs_code"])
                for row in reader
                if row.get("hcpcs_code") and not (row.get("date_term") or "").strip()
            }
        return cls(frozenset(codes))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and normalize_procedure(code) in self.codes
