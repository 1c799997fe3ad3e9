"""Builders for test encounters and claims: synthetic people, valid NPIs, codes that exist."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from medbill.models.encounter import Encounter

CANARY_LAST = "Zzyzxcanary"
CANARY_FIRST = "Quillon"
CANARY_DOB = "1961-07-19"
CANARY_MEMBER = "MBRCANARY7731"

# The demo clinic's encounter, as the unit tests build it (no subscriber or rendering provider):
# pass it as `base=` and override what a test depends on.
DEMO_ENCOUNTER: dict[str, Any] = {
    "clinic_id": "clinic-northside",
    "encounter_id": "E-1",
    "date_of_service": "2026-11-20",
    "place_of_service": "11",
    "patient": {
        "last_name": "Testerson",
        "first_name": "Ada",
        "date_of_birth": "1968-04-12",
        "sex": "F",
        "address": {"line1": "12 Sample Lane", "city": "Springfield", "state": "IL", "postal_code": "62704"},
    },
    "coverage": {"payer_id": "PAYERA01", "payer_name": "Acme (demo)", "member_id": "ACM100200301"},
    "billing_provider": {
        "npi": "1990000014",
        "taxonomy": "261QP2300X",
        "organization_name": "Northside Family Medicine (demo)",
        "tin": "990012345",
        "address": {"line1": "100 Demo Plaza", "city": "Springfield", "state": "IL", "postal_code": "627011234"},
    },
    "diagnoses": ["E11.9", "I10"],
    "service_lines": [
        {"procedure_code": "99213", "diagnosis_pointers": [1, 2]},
        {"procedure_code": "36415", "diagnosis_pointers": [1]},
    ],
}


def encounter_dict(*, base: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """An encounter record: a deep copy of `base` (default: the canary encounter) with `overrides`.

    An override replaces a top-level field; a key with `__` sets one nested field instead
    (`coverage__member_id="X"`, `patient__address__city="Y"`). Overrides apply in order.
    """
    data = _canary_encounter() if base is None else copy.deepcopy(dict(base))
    for key, value in overrides.items():
        *path, leaf = key.split("__")
        target = data
        for part in path:
            target[part] = dict(target[part])  # copy on the way down: never write into a caller's dict
            target = target[part]
        target[leaf] = value
    return data


def _canary_encounter() -> dict[str, Any]:
    return {
        "clinic_id": "clinic-test",
        "encounter_id": "ENC-0001",
        "date_of_service": "2026-11-02",
        "place_of_service": "11",
        "patient": {
            "last_name": CANARY_LAST,
            "first_name": CANARY_FIRST,
            "date_of_birth": CANARY_DOB,
            "sex": "F",
            "address": {"line1": "12 Canary Row", "city": "Springfield", "state": "IL", "postal_code": "62701"},
        },
        "subscriber": {"relationship": "self"},
        "coverage": {
            "payer_id": "PAYERA01",
            "payer_name": "ACME HEALTH PLAN",
            "member_id": CANARY_MEMBER,
            "group_number": "GRP100",
        },
        "billing_provider": {
            "npi": "1234567893",
            "taxonomy": "207Q00000X",
            "organization_name": "TEST FAMILY CLINIC",
            "tin": "123456789",
            "address": {"line1": "1 Clinic Way", "city": "Springfield", "state": "IL", "postal_code": "627011234"},
        },
        "rendering_provider": {
            "npi": "1245319599",
            "taxonomy": "207Q00000X",
            "last_name": "WELBY",
            "first_name": "MARCUS",
        },
        "diagnoses": ["E11.9", "I10"],
        "service_lines": [
            {"procedure_code": "99213", "modifiers": ["25"], "units": "1", "diagnosis_pointers": [1, 2]},
            {"procedure_code": "36415", "units": "1", "diagnosis_pointers": [1]},
        ],
    }


# The demo record at "clinic-x", the clinic the unit tests' own fee schedules are written for.
CLINIC_X_ENCOUNTER = encounter_dict(
    base=DEMO_ENCOUNTER,
    clinic_id="clinic-x",
    coverage__member_id="ACM1",
    billing_provider__organization_name="Demo clinic",
)


def make_encounter(**overrides: Any) -> Encounter:
    return Encounter.model_validate(encounter_dict(**overrides))
