"""CSV encounter files: one row per service line; the rows of one encounter are adjacent and share
clinic_id + encounter_id, and repeat the encounter-level columns (which must agree).

Record number = the data row (1 = the first row under the header) where the encounter starts. Rows
are numbered as the clinic's spreadsheet shows them: blank rows count (a quoted cell spanning lines is
one row), so data row n is spreadsheet row n + 1.

An encounter whose rows are split (by another encounter's rows or a malformed row), or that a
malformed row also carries, is rejected as a whole: every one of its records, so no part is billed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medbill.intake.stream import FileError

MAX_DIAGNOSES = 12

# Encounter-level column -> path in the encounter model.
ENCOUNTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "clinic_id": ("clinic_id",),
    "encounter_id": ("encounter_id",),
    "date_of_service": ("date_of_service",),
    "place_of_service": ("place_of_service",),
    **{
        f"{prefix}_{col}": (*base, *path)
        for prefix, base in (("patient", ("patient",)), ("subscriber", ("subscriber", "person")))
        for col, path in {
            "last_name": ("last_name",),
            "first_name": ("first_name",),
            "middle_name": ("middle_name",),
            "dob": ("date_of_birth",),
            "sex": ("sex",),
            "address_line1": ("address", "line1"),
            "address_line2": ("address", "line2"),
            "city": ("address", "city"),
            "state": ("address", "state"),
            "postal_code": ("address", "postal_code"),
        }.items()
    },
    "subscriber_relationship": ("subscriber", "relationship"),
    "payer_id": ("coverage", "payer_id"),
    "payer_name": ("coverage", "payer_name"),
    "member_id": ("coverage", "member_id"),
    "group_number": ("coverage", "group_number"),
    "claim_filing_indicator": ("coverage", "claim_filing_indicator"),
    "billing_npi": ("billing_provider", "npi"),
    "billing_tin": ("billing_provider", "tin"),
    "billing_taxonomy": ("billing_provider", "taxonomy"),
    "billing_name": ("billing_provider", "organization_name"),
    "billing_last_name": ("billing_provider", "last_name"),
    "billing_first_name": ("billing_provider", "first_name"),
    "billing_address_line1": ("billing_provider", "address", "line1"),
    "billing_address_line2": ("billing_provider", "address", "line2"),
    "billing_city": ("billing_provider", "address", "city"),
    "billing_state": ("billing_provider", "address", "state"),
    "billing_postal_code": ("billing_provider", "address", "postal_code"),
    "rendering_npi": ("rendering_provider", "npi"),
    "rendering_last_name": ("rendering_provider", "last_name"),
    "rendering_first_name": ("rendering_provider", "first_name"),
    "rendering_taxonomy": ("rendering_provider", "taxonomy"),
}
DIAGNOSIS_COLUMNS = ("diagnoses", *(f"diagnosis_{i}" for i in range(1, MAX_DIAGNOSES + 1)))
LINE_COLUMNS = ("procedure_code", "modifiers", "units", "diagnosis_pointers", "charge")
KNOWN_COLUMNS = frozenset({*ENCOUNTER_COLUMNS, *DIAGNOSIS_COLUMNS, *LINE_COLUMNS})
REQUIRED_COLUMNS = (
    "clinic_id",
    "encounter_id",
    "date_of_service",
    "place_of_service",
    "patient_last_name",
    "patient_first_name",
    "patient_dob",
    "patient_sex",
    "patient_address_line1",
    "patient_city",
    "patient_state",
    "patient_postal_code",
    "payer_id",
    "payer_name",
    "member_id",
    "billing_npi",
    "billing_tin",
    "billing_taxonomy",
    "billing_address_line1",
    "billing_city",
    "billing_state",
    "billing_postal_code",
    "procedure_code",
    "diagnosis_pointers",
)
# Model path -> CSV column, for hints in rejection reasons.
COLUMN_FOR_PATH = {".".join(path): col for col, path in ENCOUNTER_COLUMNS.items()}


@dataclass
class CsvRecord:
    """The rows of one encounter (or one row that cannot be grouped), with its problems so far."""

    record_number: int
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (data row number, cells)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, reason) found while grouping
    encounter_id: str | None = None
    malformed: bool = False  # a row that could not be trusted or grouped (its own record)
    key: tuple[str, str] | None = None  # clinic_id + encounter_id, when they can be read


def read_header(reader: Any) -> list[str]:
    try:
        raw = next(reader)
    except StopIteration:
        raise FileError("the file is empty") from None
    header = [h.strip().lower() for h in raw]
    if len(header) == 1 and any(sep in raw[0] for sep in ";\t"):
        raise FileError("columns must be separated by commas")
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise FileError(f"column(s) listed twice: {', '.join(dupes)}")
    unknown = [h for h in header if h not in KNOWN_COLUMNS]
    if unknown:
        shown = ", ".join(h or "(blank)" for h in unknown)
        raise FileError(f"unknown column(s): {shown} (see docs/encounter-format.md for the column names)")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if "diagnoses" not in header and "diagnosis_1" not in header:
        missing.append("diagnoses (or diagnosis_1..diagnosis_12)")
    if "billing_name" not in header and "billing_last_name" not in header:
        missing.append("billing_name (or billing_last_name)")
    if missing:
        raise FileError(f"missing column(s): {', '.join(missing)}")
    if "diagnoses" in header and any(h.startswith("diagnosis_") and h != "diagnosis_pointers" for h in header):
        raise FileError("use either a diagnoses column or diagnosis_1..diagnosis_12 columns, not both")
    return header


ROWS_SHOWN = 10


def numbers(rows: list[int], total: int) -> str:
    """ "row 4" / "rows 3, 4, 9" / "rows 1, ..., 10 and 5 more": the first rows of `total`."""
    if total == 1:
        return f"row {rows[0]}"
    shown = ", ".join(map(str, rows[:ROWS_SHOWN]))
    more = total - min(len(rows), ROWS_SHOWN)
    return f"rows {shown}" + (f" and {more} more" if more > 0 else "")


def check_consistency(rec: CsvRecord, header: list[str]) -> None:
    if len(rec.rows) < 2:
        return
    first_row_number, first = rec.rows[0]
    for col in header:
        if col in LINE_COLUMNS:
            continue
        for row_number, row in rec.rows[1:]:
            if row[col] != first[col]:
                # Values are not quoted: most encounter-level columns are PHI.
                path = "diagnoses" if col in DIAGNOSIS_COLUMNS else ".".join(ENCOUNTER_COLUMNS[col])
                rec.problems.append(
                    (
                        path,
                        f"column {col} differs between rows {first_row_number} and {row_number} of encounter "
                        f"{rec.encounter_id}; encounter-level columns must be the same on every row",
                    )
                )
                break


def _split(cell: str) -> list[str]:
    return [p.strip() for p in cell.split("|") if p.strip()]


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for p in path[:-1]:
        target = target.setdefault(p, {})
    target[path[-1]] = value


def to_raw_encounter(rec: CsvRecord) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The nested dict the encounter model validates (blank cells omitted), plus diagnosis-column problems."""
    first = rec.rows[0][1]
    raw: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for col, path in ENCOUNTER_COLUMNS.items():
        value = first.get(col, "")
        if value:
            _put(raw, path, value)
    if "diagnoses" in first:
        raw["diagnoses"] = _split(first["diagnoses"])
    else:
        cells = [first.get(f"diagnosis_{i}", "") for i in range(1, MAX_DIAGNOSES + 1)]
        last = max((i for i, c in enumerate(cells) if c), default=-1)
        for i in range(last):
            if not cells[i]:
                problems.append(
                    (f"diagnoses.{i + 1}", f"diagnosis_{i + 1} is blank but a later diagnosis column is set")
                )
        raw["diagnoses"] = [c for c in cells[: last + 1] if c]
    lines = []
    for _, row in rec.rows:
        line: dict[str, Any] = {
            "procedure_code": row.get("procedure_code", ""),
            "diagnosis_pointers": _split(row.get("diagnosis_pointers", "")),
        }
        if row.get("modifiers"):
            line["modifiers"] = _split(row["modifiers"])
        for col in ("units", "charge"):
            if row.get(col):
                line[col] = row[col]
        lines.append(line)
    raw["service_lines"] = lines
    return raw, problems


def hint_for(rec: CsvRecord) -> Any:
    """A FieldHint: which CSV column and row a model field came from."""

    def hint(field: str) -> str | None:
        parts = field.split(".")
        if parts[0] == "service_lines" and len(parts) >= 2 and parts[1].isdigit():
            n = int(parts[1])
            if 1 <= n <= len(rec.rows):
                col = parts[2] if len(parts) > 2 and parts[2] in LINE_COLUMNS else None
                where = f"row {rec.rows[n - 1][0]}"
                return f" (CSV {'column ' + col + ', ' if col else ''}{where})"
            return None
        if parts[0] == "diagnoses":
            return None
        col = COLUMN_FOR_PATH.get(field)
        return f" (CSV column {col})" if col else None

    return hint
