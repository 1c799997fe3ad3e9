"""Reading the quarterly CMS files a user supplies: CSV or tab-delimited TXT, CMS's or our column names.

CMS publishes the NCCI PTP edits as TXT (tab-delimited) inside ccipra-v{NN}{Q}r0-f{1..4}.zip, the MUE
tables as CSV (MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv, a copyright preamble above the header),
and HCPCS Level II as HCPC{YYYY}_{MON}_ANWEB (xlsx/txt; export the sheet to CSV). A file is read from
its header row on (preamble lines skipped); columns are matched by name, ignoring case and punctuation,
so both CMS's headers ("HCPCS/CPT Code", "Column 1", "Deletion Date *=no data") and the lowercase ones
of ../shared/reference-data ("hcpcs_code", "column1_code") work.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

_MAX_PREAMBLE = 40  # lines looked through for the header row
_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}


class ReferenceDataError(ValueError):
    """A supplied reference file cannot be read: names the file and what is missing, never row data."""


def normalize(header: str) -> str:
    """'HCPCS/CPT Code' -> 'hcpcs_cpt_code'."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _pick(headers: Sequence[str], aliases: Sequence[str]) -> int | None:
    names = [normalize(h) for h in headers]
    for alias in aliases:
        if alias in names:
            return names.index(alias)
    for alias in aliases:
        for i, name in enumerate(names):
            if name.startswith(alias):
                return i
    return None


def read_table(path: Path, columns: Mapping[str, Sequence[str]], required: Sequence[str]) -> Iterator[dict[str, str]]:
    """Rows of `path` as {our column name: value}; `columns` maps our name to accepted header names."""
    delimiter = "\t" if path.suffix.lower() == ".txt" else ","
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f, delimiter=delimiter)
        index: dict[str, int] = {}
        for _ in range(_MAX_PREAMBLE):
            header = next(reader, None)
            if header is None:
                break
            found = {name: _pick(header, aliases) for name, aliases in columns.items()}
            if all(found[name] is not None for name in required):
                index = {name: i for name, i in found.items() if i is not None}
                break
        if not index:
            wanted = ", ".join(columns[name][0] for name in required)
            raise ReferenceDataError(f"{path.name}: no header row with the column(s) {wanted} (or CMS's names)")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}


def parse_date(value: str) -> date | None:
    """'20240701', '2024-07-01', '07/01/2024' -> date; '', '*' -> None (no date: in force / not known)."""
    v = value.strip()
    if not v or v == "*":
        return None
    if re.fullmatch(r"\d{8}", v):
        return date(int(v[:4]), int(v[4:6]), int(v[6:]))
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v):
        return date(int(m[3]), int(m[1]), int(m[2]))
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        raise ReferenceDataError(f"unreadable date {v!r}") from None


def quarter(d: date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def quarter_in_name(name: str) -> str | None:
    """The CMS quarter a file name names, or None: 2024-07-01, 20240701, 07-01-2024, 2024_JUL, JUL2024,
    and NCCI's version numbers (ccipra-v302r0: version 30.2 = 2024Q3, as version 30.0 = 2024Q1)."""
    n = name.upper()
    if m := re.search(r"(?<!\d)(20\d\d)[-_]?(0[1-9]|1[0-2])(?:[-_]?\d\d)?(?!\d)", n):
        return quarter(date(int(m[1]), int(m[2]), 1))
    if m := re.search(r"(?<!\d)(0[1-9]|1[0-2])[-_](\d\d)[-_](20\d\d)(?!\d)", n):
        return quarter(date(int(m[3]), int(m[1]), 1))
    if m := re.search(r"(20\d\d)[-_]?(" + "|".join(_MONTHS) + r")|(" + "|".join(_MONTHS) + r")[-_]?(20\d\d)", n):
        year, month = (m[1], m[2]) if m[1] else (m[4], m[3])
        return quarter(date(int(year), _MONTHS[month], 1))
    if m := re.search(r"V(\d\d)(\d)R\d", n):
        return f"{1994 + int(m[1])}Q{int(m[2]) + 1}"
    return None


def version_of(kind: str, files: Sequence[Path], declared: dict[str, str]) -> str:
    """'NCCI PTP 2024Q3': the version declared in versions.json, else the quarter in the file names,
    else the file name itself (so a finding always says which file it came from)."""
    label = {"ncci_ptp": "NCCI PTP", "ncci_mue": "NCCI MUE", "hcpcs": "HCPCS"}[kind]
    if kind in declared:
        return f"{label} {declared[kind]}"
    quarters = sorted({q for f in files if (q := quarter_in_name(f.name))})
    if len(quarters) == 1:
        return f"{label} {quarters[0]}"
    return f"{label} {'+'.join(sorted(f.stem for f in files))}"


def declared_versions(directory: Path) -> dict[str, str]:
    """The optional versions.json of a reference directory: {"ncci_ptp": "2024Q3", ...}."""
    path = directory / "versions.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ReferenceDataError("versions.json must map a kind (ncci_ptp, ncci_mue, hcpcs) to a version string")
    return {str(k): v for k, v in data.items()}


_KINDS = {
    "ncci_ptp": re.compile(r"ptp|ccipra", re.IGNORECASE),
    "ncci_mue": re.compile(r"mue.*pract|pract.*mue", re.IGNORECASE),
    "hcpcs": re.compile(r"hcpc", re.IGNORECASE),
}


def find_files(directory: Path) -> dict[str, list[Path]]:
    """The quarterly files under `directory` (any depth), by kind; .csv and .txt only."""
    out: dict[str, list[Path]] = {kind: [] for kind in _KINDS}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".csv", ".txt"):
            continue
        for kind, pattern in _KINDS.items():
            if pattern.search(path.name):
                out[kind].append(path)
                break
    return out
