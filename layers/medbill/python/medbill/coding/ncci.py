"""CMS NCCI edits for practitioners: procedure-to-procedure (PTP) pairs and medically unlikely edits (MUE).

The tables change every quarter, so they are never packaged: the user supplies CMS's files (see
medbill.coding.cms_files for the formats read and medbill.coding.references for the directory layout).
The rules that apply them to a claim are in medbill.coding.ncci_rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

from medbill.coding.cms_files import ReferenceDataError, parse_date, read_table, version_of

# Modifiers that may bypass a PTP edit whose modifier indicator is 1 (NCCI Policy Manual, ch. I, E.1).
DISTINCT_SERVICE_MODIFIERS = ("59", "XE", "XP", "XS", "XU")
OTHER_BYPASS_MODIFIERS = ("27", "58", "78", "79", "91")
EM_ONLY_BYPASS_MODIFIERS = ("24", "25", "57")  # bypass only on the E/M code of the pair
BYPASS_MODIFIERS = frozenset(DISTINCT_SERVICE_MODIFIERS + OTHER_BYPASS_MODIFIERS + EM_ONLY_BYPASS_MODIFIERS)
# Anatomic modifiers bypass only when the two lines name different sites (LT vs RT, F1 vs F2, ...).
ANATOMIC_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "LC", "LD", "LM", "LT", "RC", "RI", "RT", "TA"}
    | {f"F{i}" for i in range(1, 10)}
    | {f"T{i}" for i in range(1, 10)}
)

PTP_COLUMNS = {
    "column1": ("column1_code", "column_1"),
    "column2": ("column2_code", "column_2"),
    "effective": ("effective_date",),
    "deletion": ("deletion_date",),
    "modifier": ("modifier_indicator", "modifier"),
}
MUE_COLUMNS = {
    "code": ("hcpcs_code", "hcpcs_cpt_code", "hcpcs"),
    "units": ("mue_units", "practitioner_services_mue_values", "practitioner_services_mue", "mue_values"),
    "mai": ("mue_mai", "mue_adjudication_indicator"),
}


@dataclass(frozen=True)
class PtpEdit:
    modifier_indicator: str  # "0" never together, "1" allowed with a bypass modifier, "9" not applicable
    deleted_after: date | None  # last day the edit applied; None = in force
    effective: date | None = None  # first day it applies; None = not given (the file had no such column)

    def in_force(self, on: date) -> bool:
        started = self.effective is None or self.effective <= on
        return started and (self.deleted_after is None or on <= self.deleted_after)


@dataclass(frozen=True)
class MueLimit:
    units: int
    mai: str  # MUE adjudication indicator: "1" per line, "2" per day (policy), "3" per day (clinical)


class PtpLookup(Protocol):
    def edits(self, column1: str, column2: str) -> list[PtpEdit]: ...


@dataclass
class NcciEdits:
    mue: dict[str, MueLimit] = field(default_factory=dict)
    ptp: dict[tuple[str, str], list[PtpEdit]] = field(default_factory=dict)  # (column 1, column 2)
    ptp_version: str | None = None  # "NCCI PTP 2024Q3"; None when no PTP file was loaded
    mue_version: str | None = None
    ptp_index: PtpLookup | None = None  # the full table on disk (medbill.coding.ptp_index), used after `ptp`

    @classmethod
    def load(cls, mue_path: str | Path | None = None, ptp_path: str | Path | None = None) -> NcciEdits:
        """One MUE file and one PTP file (either may be left out); versions from the file names."""
        return cls.from_files(
            mue_files=[Path(mue_path)] if mue_path else [],
            ptp_files=[Path(ptp_path)] if ptp_path else [],
        )

    @classmethod
    def from_files(
        cls,
        *,
        mue_files: Sequence[Path] = (),
        ptp_files: Sequence[Path] = (),
        declared: dict[str, str] | None = None,
    ) -> NcciEdits:
        """All the given files (CMS splits the PTP table in four); `declared` = versions.json."""
        edits = cls()
        for path in mue_files:
            edits.mue.update(_mue_rows(path))
        for path in ptp_files:
            for key, edit in ptp_rows(path):
                edits.ptp.setdefault(key, []).append(edit)
        if mue_files:
            edits.mue_version = version_of("ncci_mue", mue_files, declared or {})
        if ptp_files:
            edits.ptp_version = version_of("ncci_ptp", ptp_files, declared or {})
        return edits

    def ptp_edit(self, column1: str, column2: str, on: date) -> PtpEdit | None:
        """The PTP edit in force on `on` for the pair, if any."""
        found = self.ptp.get((column1, column2), [])
        if not found and self.ptp_index is not None:
            found = self.ptp_index.edits(column1, column2)
        for edit in found:
            if edit.in_force(on):
                return edit
        return None


def _mue_rows(path: Path) -> Iterable[tuple[str, MueLimit]]:
    for n, row in enumerate(read_table(path, MUE_COLUMNS, ("code", "units", "mai")), start=1):
        try:
            units = int(Decimal(row["units"]))
        except (InvalidOperation, ValueError):
            raise ReferenceDataError(f"{path.name}: data row {n}: MUE units is not a number") from None
        mai = row["mai"][:1]
        if mai not in ("1", "2", "3"):
            raise ReferenceDataError(f"{path.name}: data row {n}: MUE adjudication indicator is not 1, 2 or 3")
        yield row["code"].upper(), MueLimit(units, mai)


def ptp_rows(path: Path) -> Iterable[tuple[tuple[str, str], PtpEdit]]:
    rows = read_table(path, PTP_COLUMNS, ("column1", "column2", "deletion", "modifier"))
    for n, row in enumerate(rows, start=1):
        indicator = row["modifier"][:1]
        if indicator not in ("0", "1", "9"):
            raise ReferenceDataError(f"{path.name}: data row {n}: modifier indicator is not 0, 1 or 9")
        try:
            edit = PtpEdit(indicator, parse_date(row["deletion"]), parse_date(row.get("effective", "")))
        except ReferenceDataError as exc:
            raise ReferenceDataError(f"{path.name}: data row {n}: {exc}") from None
        yield (row["column1"].upper(), row["column2"].upper()), edit
