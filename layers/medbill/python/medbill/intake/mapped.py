"""Validate an encounter mapped from another format (HL7 v2, FHIR), naming the source's fields.

A reader builds the encounter record in the JSON shape plus, for each model path it filled, where the
value came from ("PID-7", "FT1(2)-25", "Bundle.entry[3].resource.birthDate"). Validation is the
encounter model's and the ICD-10-CM code set's, exactly as for JSON and CSV files; every rejection
names the source field and the model field it feeds, and never carries a value: every string of the
record (and its normalised forms) is scrubbed from the reasons, codes and dates included.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from medbill.coding import icd10
from medbill.intake.result import Rejection
from medbill.intake.scrub import scrub_values
from medbill.intake.validate import _message, path_of
from medbill.models.clinic_profile import ClinicProfile
from medbill.models.encounter import ICD10_SHAPE, Encounter, normalize_icd10

_REDACTED = "[value]"
_MIN_SCRUB_LENGTH = 3
_IDS = ("clinic_id", "encounter_id")  # ids, not PHI: the report shows them anyway


@dataclass
class Mapped:
    """An encounter record mapped from a message, with the provenance of its fields."""

    raw: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # model path -> source location
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (model path, location, reason)

    def put(self, path: str, value: Any, location: str) -> None:
        """Set raw[path] (dotted; numeric parts index lists, 1-based) and remember where it came from."""
        self.where[path] = location
        if value is None or value == "":
            return
        target: Any = self.raw
        parts = path.split(".")
        for part, nxt in itertools.pairwise(parts):
            key: Any = int(part) - 1 if part.isdigit() else part
            if isinstance(target, list):
                while len(target) <= key:
                    target.append([] if nxt.isdigit() else {})
                target = target[key]
            else:
                target = target.setdefault(key, [] if nxt.isdigit() else {})
        last = parts[-1]
        if isinstance(target, list):
            idx = int(last) - 1
            while len(target) <= idx:
                target.append(None)
            target[idx] = value
        else:
            target[last] = value

    def problem(self, path: str, location: str, reason: str) -> None:
        self.where.setdefault(path, location)
        self.problems.append((path, location, reason))

    def locate(self, path: str) -> str:
        """The source location of a model path: the longest recorded prefix."""
        parts = path.split(".") if path else []
        while parts:
            found = self.where.get(".".join(parts))
            if found:
                return found
            parts.pop()
        return self.where.get("", "message")


def billing_provider_of(profile: ClinicProfile) -> dict[str, Any]:
    """The encounter's billing provider from the clinic profile, with its pay-to address (837P 2010AB)."""
    billing = profile.billing_provider.model_dump(mode="json", exclude_none=True)
    if profile.pay_to_address is not None:
        billing["pay_to_address"] = profile.pay_to_address.model_dump(mode="json", exclude_none=True)
    return billing


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None and not isinstance(value, bool) else []


def secrets_of(raw: dict[str, Any], extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Every value of the record, as given and normalised, longest first (scrubbed from reasons)."""
    found: set[str] = set()
    values = {k: v for k, v in raw.items() if k not in _IDS}
    for s in [*_strings(values), *extra]:
        s = s.strip()
        found |= {s, normalize_icd10(s), icd10.dotted(s), s.replace("-", "")}
    return sorted((s for s in found if len(s) >= _MIN_SCRUB_LENGTH), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    # Whole values only ("Doe" is scrubbed, "does" is not); longest first, so a value wins over its parts.
    return scrub_values(text, secrets, _REDACTED, whole_words=True)


def validate_mapped(
    mapped: Mapped, record_number: int, encounter_id: str | None, extra_secrets: tuple[str, ...] = ()
) -> tuple[Encounter | None, list[Rejection]]:
    """The encounter, or the rejections naming source fields (mapping problems first)."""
    secrets = secrets_of(mapped.raw, extra_secrets)
    rejections: list[Rejection] = []
    seen: set[str] = set()

    def reject(path: str, location: str, reason: str) -> None:
        text = f"{location} ({path}): {reason}" if path else f"{location}: {reason}"
        key = f"{location}|{scrub(text, secrets)}"
        if key not in seen:
            seen.add(key)
            rejections.append(Rejection(record_number, location, scrub(text, secrets), encounter_id))

    for path, location, reason in mapped.problems:
        reject(path, location, reason)
    blamed = {p for p, _, _ in mapped.problems}
    encounter: Encounter | None = None
    try:
        encounter = Encounter.model_validate(mapped.raw)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            path, reason = _message(error, path_of(tuple(error["loc"])))
            if any(path == b or path.startswith(b + ".") or (b.startswith(path + ".") and b in reason) for b in blamed):
                continue  # the mapping already said what is wrong there
            reason = reason.removeprefix(f"{path}: ").removeprefix(f"{path} ")
            reject(path, mapped.locate(path), reason)
    diagnoses = mapped.raw.get("diagnoses")
    if isinstance(diagnoses, list):
        for n, code in enumerate(diagnoses, start=1):
            path = f"diagnoses.{n}"
            if path in blamed or not isinstance(code, str):
                continue
            if ICD10_SHAPE.fullmatch(normalize_icd10(code)) and not icd10.exists(code):
                reject(path, mapped.locate(path), f"diagnosis {n} is not an ICD-10-CM code")
    if rejections:
        return None, rejections
    return encounter, []
