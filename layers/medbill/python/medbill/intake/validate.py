"""One raw record (a dict parsed from JSON or assembled from CSV rows) -> Encounter or rejections.

Rejection reasons never carry PHI: pydantic's `input` is dropped, and any value of a PHI field of the
record (names, DOB, address, member id, group number) is scrubbed from every reason and field path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from medbill.coding import icd10
from medbill.intake.result import Rejection
from medbill.intake.scrub import scrub_values
from medbill.models.encounter import ICD10_SHAPE, Encounter, normalize_icd10

# Maps a model field path to a hint for the clinic, e.g. " (CSV column patient_dob, row 4)".
FieldHint = Callable[[str], str | None]

_PERSON_PHI = ("last_name", "first_name", "middle_name", "date_of_birth")
_ADDRESS_PHI = ("line1", "line2", "city", "postal_code")
_REDACTED = "[redacted]"
_MIN_SCRUB_LENGTH = 3  # shorter values (sex, state) are not identifying and would scrub ordinary words


def _dig(obj: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def phi_values(raw: Any) -> list[str]:
    """The PHI strings in a raw record, longest first (so 'Smithson' is scrubbed before 'Smith')."""
    found: list[Any] = []
    for person in (_dig(raw, "patient"), _dig(raw, "subscriber", "person")):
        found += [_dig(person, k) for k in _PERSON_PHI]
        found += [_dig(person, "address", k) for k in _ADDRESS_PHI]
    found += [_dig(raw, "coverage", "member_id"), _dig(raw, "coverage", "group_number")]
    values = {str(v).strip() for v in found if isinstance(v, str | int) and not isinstance(v, bool)}
    return sorted((v for v in values if len(v) >= _MIN_SCRUB_LENGTH), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    return scrub_values(text, secrets, _REDACTED)


def path_of(loc: tuple[int | str, ...]) -> str:
    """pydantic loc -> dotted path with 1-based list indices (the numbering clinics see)."""
    return ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in loc)


_DIAGNOSIS_N = re.compile(r"^diagnosis (\d+):")
_LINE_POINTER = re.compile(r"^service line (\d+): diagnosis pointer")
# A cross-field rule's message starts with the field it blames: "patient.date_of_birth is after ...".
_LEADING_FIELD = re.compile(r"^([a-z]+_[a-z_]+|[a-z_]+(?:\.[a-z_]+)+) ")


def _message(error: Any, field: str) -> tuple[str, str]:
    """(field, reason) for one pydantic error; never uses error['input']."""
    kind = error["type"]
    msg = str(error["msg"])
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        # Model validators report on the whole list / record: point at the exact item.
        if field == "diagnoses" and (m := _DIAGNOSIS_N.match(msg)):
            return f"diagnoses.{m.group(1)}", msg
        if field == "" and (m := _LINE_POINTER.match(msg)):
            return f"service_lines.{m.group(1)}.diagnosis_pointers", msg
        if field == "" and (m := _LEADING_FIELD.match(msg)):
            return m.group(1), msg
        return field, msg if field == "" else f"{field}: {msg}"
    where = field or "record"
    if kind == "missing":
        return field, f"{where} is required"
    if kind == "extra_forbidden":
        return field, f"{where} is not a field of the encounter format (check the spelling)"
    return field, f"{where}: {msg}"


def _encounter_id(raw: Any) -> str | None:
    value = _dig(raw, "encounter_id")
    return value.strip()[:50] if isinstance(value, str) and value.strip() else None


def _type_name(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value),
        "a number" if isinstance(value, int | float) or type(value).__name__ == "Decimal" else "a value",
    )


def validate_record(
    raw: Any, record_number: int, hint: FieldHint | None = None
) -> tuple[Encounter | None, list[Rejection]]:
    """Validate one record: the encounter model, then ICD-10-CM existence in the CMS code set."""
    if not isinstance(raw, dict):
        return None, [Rejection(record_number, "", f"record {record_number} is {_type_name(raw)}, not an object")]
    eid = _encounter_id(raw)
    secrets = phi_values(raw)

    def reject(field: str, reason: str) -> Rejection:
        extra = hint(field) if hint else None
        return Rejection(record_number, scrub(field, secrets), scrub(reason + (extra or ""), secrets), eid)

    rejections: list[Rejection] = []
    encounter: Encounter | None = None
    try:
        encounter = Encounter.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            field, reason = _message(error, path_of(tuple(error["loc"])))
            rejections.append(reject(field, reason))
    # Existence in the code set, also on records that failed for other reasons (report all at once).
    diagnoses = raw.get("diagnoses")
    if isinstance(diagnoses, list):
        for n, code in enumerate(diagnoses, start=1):
            if isinstance(code, str) and ICD10_SHAPE.fullmatch(normalize_icd10(code)) and not icd10.exists(code):
                shown = icd10.dotted(code)
                rejections.append(reject(f"diagnoses.{n}", f"diagnosis {n}: {shown} is not an ICD-10-CM code"))
    if rejections:
        return None, rejections
    return encounter, []
