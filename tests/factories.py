"""Builders for test encounters and claims: synthetic people, valid NPIs, codes that exist."""

from __future__ import annotations

from datetime import date
from typing import Any

from medbill.models.encounter import Encounter

CANARY_LAST = "Zzyzxcanary"
CANARY_FIRST = "Quillon"
CANARY_DOB = "1961-07-19"
CANARY_MEMBER = "MBRCANARY7731"


def encounter_dict(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
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
            "address": {"line1": "1 Clinic Way", "city": "Springfield", "state": "IL", "postal_code": "62701"},
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
    data.update(overrides)
    return data


def make_encounter(**overrides: Any) -> Encounter:
    return Encounter.model_validate(encounter_dict(**overrides))


def today() -> date:
    return date.today()
