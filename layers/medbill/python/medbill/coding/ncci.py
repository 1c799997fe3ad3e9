"""CMS NCCI edits for practitioners: procedure-to-procedure (PTP) pairs and medically unlikely edits (MUE).

The edit tables change quarterly, so they are never packaged: the user supplies the files (the CSV
layouts in ../shared/reference-data/ncci: `hcpcs_code, mue_units, mue_mai, ...` and
`column1_code, column2_code, deletion_date, modifier_indicator, ...`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from medbill.models.encounter import Encounter

# Modifiers that may bypass a PTP edit whose modifier indicator is 1 (NCCI policy manual, ch. I).
BYPASS_MODIFIERS = frozenset({"24", "25", "27", "57", "58", "59", "78", "79", "91", "XE", "XP", "XS", "XU"})
# Anatomic modifiers bypass only when the two lines name different sites (LT vs RT, F1 vs F2, ...).
ANATOMIC_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "LC", "LD", "LM", "LT", "RC", "RI", "RT", "TA"}
    | {f"F{i}" for i in range(1, 10)}
    | {f"T{i}" for i in range(1, 10)}
)


@dataclass(frozen=True)
class PtpEdit:
    modifier_indicator: str  # "0" never together, "1" allowed with a bypass modifier, "9" not applicable
    deleted_after: date | None  # last day the edit applied; None = in force


@dataclass
class NcciEdits:
    mue: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (units, MAI "1" | "2" | "3")
    ptp: dict[tuple[str, str], list[PtpEdit]] = field(default_factory=dict)  # (column 1, column 2)

    @classmethod
    def load(cls, mue_path: str | Path | None = None, ptp_path: str | Path | None = None) -> NcciEdits:
        edits = cls()
        if mue_path:
            for row in _rows(mue_path, ("hcpcs_code", "mue_units", "mue_mai")):
                mai = row["mue_mai"].strip()[:1]
                edits.mue[row["hcpcs_code"].strip().upper()] = (int(row["mue_units"]), mai)
        if ptp_path:
            for row in _rows(ptp_path, ("column1_code", "column2_code", "deletion_date", "modifier_indicator")):
                deletion = row["deletion_date"].strip()
                edit = PtpEdit(
                    row["modifier_indicator"].strip(),
                    date.fromisoformat(deletion) if deletion and deletion != "*" else None,
                )
                key = (row["column1_code"].strip().upper(), row["column2_code"].strip().upper())
                edits.ptp.setdefault(key, []).append(edit)
        return edits

    def ptp_edit(self, column1: str, column2: str, on: date) -> PtpEdit | None:
        """The PTP edit in force on `on` for the pair, if any."""
        for edit in self.ptp.get((column1, column2), []):
            if edit.deleted_after is None or on <= edit.deleted_after:
                return edit
        return None


def _rows(path: str | Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def _bypassed(mods1: list[str], mods2: list[str]) -> bool:
    if BYPASS_MODIFIERS & (set(mods1) | set(mods2)):
        return True
    anat1, anat2 = ANATOMIC_MODIFIERS & set(mods1), ANATOMIC_MODIFIERS & set(mods2)
    return bool(anat1 and anat2 and anat1 != anat2)


def ncci_edits(encounter: Encounter, edits: NcciEdits) -> list[str]:
    """Hold reasons from the NCCI tables: units over the MUE, and code pairs not billable together."""
    reasons: list[str] = []
    lines = list(enumerate(encounter.service_lines, start=1))
    dos = encounter.date_of_service
    # MUE: MAI 1 is per line; MAI 2 and 3 are per day (one claim = one date of service here).
    per_day: dict[str, Decimal] = {}
    for n, line in lines:
        limit = edits.mue.get(line.procedure_code)
        if limit is None:
            continue
        units, mai = limit
        if mai == "1" and line.units > units:
            reasons.append(f"line {n}: {line.procedure_code} x {line.units} units exceeds its MUE of {units} per line")
        per_day[line.procedure_code] = per_day.get(line.procedure_code, Decimal(0)) + line.units
    for code, total in per_day.items():
        units, mai = edits.mue[code]
        if mai in ("2", "3") and total > units:
            reasons.append(f"{code} x {total} units exceeds its MUE of {units} per day")
    # PTP: a column 2 code is not paid with its column 1 code unless the edit allows a bypass modifier.
    for n1, l1 in lines:
        for n2, l2 in lines:
            if n1 == n2:
                continue
            edit = edits.ptp_edit(l1.procedure_code, l2.procedure_code, dos)
            if edit is None or edit.modifier_indicator == "9":
                continue
            if edit.modifier_indicator == "1" and _bypassed(l1.modifiers, l2.modifiers):
                continue
            how = "; add a modifier such as 59 or 25 if distinct" if edit.modifier_indicator == "1" else ""
            reasons.append(
                f"line {n2}: {l2.procedure_code} is bundled into {l1.procedure_code} on line {n1} (NCCI){how}"
            )
    return reasons
