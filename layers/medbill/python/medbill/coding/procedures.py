"""CPT / HCPCS code and modifier format.

CPT descriptors are AMA-licensed and CPT existence is not checked here: a CPT code is validated by its
format and by the clinic's fee schedule. HCPCS Level II changes quarterly, so its existence and dates are
checked only against the file the user supplies (CMS's HCPCS Level II file), never a baked-in copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from medbill.coding.cms_files import parse_date, read_table, version_of
from medbill.models.encounter import PROCEDURE_CODE
from medbill.models.encounter import is_anesthesia as anesthesia_code

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


def _numeric(code: str) -> int | None:
    c = normalize_procedure(code)
    return int(c) if CPT_CATEGORY_I.fullmatch(c) else None


def is_anesthesia(code: str) -> bool:
    """CPT anesthesia codes 00100-01999: billed in minutes (837P SV103 = MJ), not units. The 837P
    writer uses the same rule (models.encounter.is_anesthesia), so the scrubber's message and the file agree."""
    return anesthesia_code(normalize_procedure(code))


def is_evaluation_and_management(code: str) -> bool:
    """E/M codes (99202-99499) and the ophthalmological general services (92002-92014) that NCCI treats
    as E/M: the codes modifiers 24, 25 and 57 belong on."""
    n = _numeric(code)
    return n is not None and (99202 <= n <= 99499 or 92002 <= n <= 92014)


HcpcsStatus = Literal["in_force", "unknown", "not_yet_effective", "terminated"]
HCPCS_COLUMNS = {
    "code": ("hcpcs_code", "hcpc", "hcpcs"),
    "added": ("date_added", "add_dt", "add_date"),
    "terminated": ("date_term", "term_dt", "termination_date"),
}


@dataclass(frozen=True)
class HcpcsCode:
    added: date | None  # first date of service the code may be billed
    terminated: date | None  # last date of service it may be billed; None = in force


@dataclass(frozen=True)
class HcpcsLevel2:
    """The HCPCS Level II codes with their dates, from the user-supplied CMS file (CSV or TXT; columns
    HCPC / ADD DT / TERM DT as CMS names them, or hcpcs_code / date_added / date_term)."""

    codes: dict[str, HcpcsCode]
    version: str = "HCPCS"

    @classmethod
    def load(cls, path: str | Path) -> HcpcsLevel2:
        return cls.from_files([Path(path)])

    @classmethod
    def from_files(cls, files: Sequence[Path], declared: dict[str, str] | None = None) -> HcpcsLevel2:
        codes: dict[str, HcpcsCode] = {}
        for path in files:
            for row in read_table(path, HCPCS_COLUMNS, ("code",)):
                code = normalize_procedure(row["code"])
                if not HCPCS_LEVEL_II.fullmatch(code) or code in codes:
                    continue  # CMS repeats a code on continuation rows: the first row has its dates
                added, terminated = parse_date(row.get("added", "")), parse_date(row.get("terminated", ""))
                codes[code] = HcpcsCode(added, terminated)
        return cls(codes, version_of("hcpcs", files, declared or {}))

    def status(self, code: str, on: date) -> HcpcsStatus:
        found = self.codes.get(normalize_procedure(code))
        if found is None:
            return "unknown"
        if found.added is not None and on < found.added:
            return "not_yet_effective"
        if found.terminated is not None and on > found.terminated:
            return "terminated"
        return "in_force"

    def __contains__(self, code: object) -> bool:
        """In the file and not terminated (the check today's callers make)."""
        if not isinstance(code, str):
            return False
        found = self.codes.get(normalize_procedure(code))
        return found is not None and found.terminated is None
