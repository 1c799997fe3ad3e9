"""Builders for the EHR intake tests: a clinic profile, DFT messages and FHIR Bundles carrying canary PHI,
and the shared intake samples (read in place; skipped with a message when the folder is absent)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medbill.models.clinic_profile import ClinicProfile
from tests.factories import CANARY_FIRST, CANARY_LAST, CANARY_MEMBER
from tests.shared_data import FOLDERS, require_dir

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLES_ENV = FOLDERS["intake-samples"]
NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)

CANARY_STREET = "77 Zqcanary Street"
CANARY_CITY = "Zqcanaryville"
CANARY_GROUP = "GRPZQCANARY"
CANARY_DOB_HL7 = "19610719"
CANARY_DOB = "1961-07-19"
# Every PHI value the builders put in a message (and the forms a reason could print them in).
CANARIES = [
    CANARY_LAST,
    CANARY_FIRST,
    CANARY_MEMBER,
    CANARY_STREET,
    CANARY_CITY,
    CANARY_GROUP,
    CANARY_DOB_HL7,
    CANARY_DOB,
]


def intake_samples() -> Path:
    """../shared/intake-samples next to the repository, or $MEDBILL_INTAKE_SAMPLES; else skip."""
    return require_dir("intake-samples")


PROFILE: dict[str, Any] = {
    "clinic_id": "clinic-northside",
    "billing_provider": {
        "npi": "1990000014",
        "taxonomy": "261QP2300X",
        "organization_name": "Northside Family Medicine (demo)",
        "tin": "990012345",
        "address": {"line1": "100 Demo Plaza", "city": "Springfield", "state": "IL", "postal_code": "627011234"},
    },
    "facility_ids": ["NORTHSIDE", "2.16.840.1.113883.3.9999"],
    "providers": {"1290000037": "207Q00000X"},
}


def profile(**overrides: Any) -> ClinicProfile:
    data = copy.deepcopy(PROFILE)
    data.update(copy.deepcopy(overrides))
    return ClinicProfile.model_validate(data)


# The default DFT^P03: (segment id, {field number: value}); MSH numbering counts MSH-1 as the separator.
DFT: list[tuple[str, dict[int, str]]] = [
    (
        "MSH",
        {
            2: "^~\\&",
            3: "EHRAPP",
            4: "NORTHSIDE",
            5: "MEDBILL",
            7: "20261120093000",
            9: "DFT^P03^DFT_P03",
            10: "MSG0001",
            11: "P",
            12: "2.5.1",
        },
    ),
    ("EVN", {1: "P03", 2: "20261120093000"}),
    (
        "PID",
        {
            1: "1",
            3: "MRN100^^^NS^MR",
            5: f"{CANARY_LAST}^{CANARY_FIRST}^Q",
            7: CANARY_DOB_HL7,
            8: "F",
            11: f"{CANARY_STREET}^Apt 2^{CANARY_CITY}^IL^62704-1234",
        },
    ),
    (
        "PV1",
        {
            1: "1",
            2: "O",
            3: "NSMAIN",
            7: "1290000037^Testdoc^Quinn^^^^^^&2.16.840.1.113883.4.6&ISO^^^^NPI",
            19: "V20261120-01",
        },
    ),
    (
        "FT1",
        {
            1: "1",
            4: "20261120",
            6: "CG",
            10: "1",
            11: "125.00&USD",
            19: "E11.9^Type 2 diabetes^I10~I10^Hypertension^I10",
            25: "99213^Office visit^C4",
            26: "25",
        },
    ),
    (
        "FT1",
        {
            1: "2",
            4: "20261120",
            6: "CG",
            10: "2",
            11: "30.00&USD",
            12: "15.00&USD",
            19: "E11.9^^I10",
            25: "36415^Venipuncture^C4",
        },
    ),
    ("DG1", {1: "1", 2: "I10", 3: "E11.9^Type 2 diabetes mellitus^I10", 6: "F", 15: "1"}),
    ("DG1", {1: "2", 3: "I10^Essential hypertension^I10", 6: "F"}),
    ("GT1", {1: "1", 3: f"{CANARY_LAST}^{CANARY_FIRST}", 11: "SEL"}),
    ("IN1", {1: "1", 3: "ACME01", 4: "Acme Commercial Health", 8: CANARY_GROUP, 17: "SEL", 36: CANARY_MEMBER}),
]


def segment(sid: str, fields: dict[int, str]) -> str:
    shift = 1 if sid == "MSH" else 0
    parts = [""] * (max(fields, default=0) + 1 - shift)
    parts[0] = sid
    for n, value in fields.items():
        parts[n - shift] = value
    return "|".join(parts)


def dft(
    changes: dict[tuple[str, int], dict[int, str]] | None = None,
    *,
    drop: tuple[tuple[str, int], ...] = (),
    add: list[tuple[str, dict[int, str]]] | None = None,
    sep: str = "\r",
) -> str:
    """The default DFT with `changes` ({("FT1", 2): {25: "J3301"}}) applied (occurrences 1-based)."""
    out, counts = [], {}
    for sid, fields in DFT:
        counts[sid] = counts.get(sid, 0) + 1
        key = (sid, counts[sid])
        if key in drop:
            continue
        merged = {**fields, **(changes or {}).get(key, {})}
        out.append(segment(sid, {k: v for k, v in merged.items() if v is not None}))
    out += [segment(sid, fields) for sid, fields in add or []]
    return sep.join(out) + sep


# --- FHIR ---------------------------------------------------------------------------------------------

CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"


def fhir_bundle(kind: str = "transaction") -> dict[str, Any]:
    """Patient, Coverage, Condition x2, Practitioner, Encounter and two ChargeItems (context = the Encounter)."""
    ref = "urn:uuid:"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{ref}p1",
            "resource": {
                "resourceType": "Patient",
                "id": "p1",
                "name": [{"use": "official", "family": CANARY_LAST, "given": [CANARY_FIRST, "Q"]}],
                "gender": "female",
                "birthDate": CANARY_DOB,
                "address": [
                    {"line": [CANARY_STREET], "city": CANARY_CITY, "state": "IL", "postalCode": "62704"},
                ],
            },
        },
        {
            "fullUrl": f"{ref}cov1",
            "resource": {
                "resourceType": "Coverage",
                "id": "cov1",
                "status": "active",
                "subscriberId": CANARY_MEMBER,
                "beneficiary": {"reference": f"{ref}p1"},
                "relationship": {"coding": [{"code": "self"}]},
                "payor": [{"identifier": {"value": "ACME01"}, "display": "Acme Commercial Health"}],
                "class": [{"type": {"coding": [{"code": "group"}]}, "value": CANARY_GROUP}],
            },
        },
        {
            "fullUrl": f"{ref}dx1",
            "resource": {
                "resourceType": "Condition",
                "id": "dx1",
                "subject": {"reference": f"{ref}p1"},
                "code": {"coding": [{"system": ICD10CM, "code": "E11.9"}]},
            },
        },
        {
            "fullUrl": f"{ref}dx2",
            "resource": {
                "resourceType": "Condition",
                "id": "dx2",
                "subject": {"reference": f"{ref}p1"},
                "code": {
                    "coding": [
                        {"system": "http://snomed.info/sct", "code": "38341003"},
                        {"system": ICD10CM, "code": "I10"},
                    ]
                },
            },
        },
        {
            "fullUrl": f"{ref}dr1",
            "resource": {
                "resourceType": "Practitioner",
                "id": "dr1",
                "identifier": [{"system": NPI, "value": "1290000037"}],
                "name": [{"family": "Testdoc", "given": ["Quinn"]}],
            },
        },
        {
            "fullUrl": f"{ref}enc1",
            "resource": {
                "resourceType": "Encounter",
                "id": "enc1",
                "identifier": [{"system": "urn:northside:visit", "value": "V20261120-01"}],
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": f"{ref}p1"},
                "period": {"start": "2026-11-20T09:30:00-06:00"},
                "diagnosis": [
                    {"condition": {"reference": f"{ref}dx2"}, "rank": 2},
                    {"condition": {"reference": f"{ref}dx1"}, "rank": 1},
                ],
            },
        },
        _charge("ch1", "99213", 125.0, 1, ["E11.9", "I10"]),
        _charge("ch2", "36415", 30.0, 2, ["E11.9"]),
    ]
    if kind == "transaction":
        for e in entries:
            rtype, rid = e["resource"]["resourceType"], e["resource"]["id"]
            e["request"] = {"method": "PUT", "url": f"{rtype}/{rid}"}
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _charge(cid: str, code: str, amount: float, quantity: int, reasons: list[str]) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{cid}",
        "resource": {
            "resourceType": "ChargeItem",
            "id": cid,
            "status": "billable",
            "code": {"coding": [{"system": CPT, "code": code}]},
            "subject": {"reference": "urn:uuid:p1"},
            "context": {"reference": "Encounter/enc1"},
            "quantity": {"value": quantity},
            "priceOverride": {"value": amount, "currency": "USD"},
            "performer": [{"actor": {"reference": "urn:uuid:dr1"}}],
            "reason": [{"coding": [{"system": ICD10CM, "code": r}]} for r in reasons],
        },
    }


def expected_encounter(**overrides: Any) -> dict[str, Any]:
    """The encounter both the default DFT and the default Bundle become (JSON form)."""
    out: dict[str, Any] = {
        "clinic_id": "clinic-northside",
        "encounter_id": "V20261120-01",
        "date_of_service": "2026-11-20",
        "place_of_service": "11",
        "patient": {
            "last_name": CANARY_LAST,
            "first_name": CANARY_FIRST,
            "middle_name": "Q",
            "date_of_birth": CANARY_DOB,
            "sex": "F",
            "address": {
                "line1": CANARY_STREET,
                "line2": "Apt 2",
                "city": CANARY_CITY,
                "state": "IL",
                "postal_code": "627041234",
            },
        },
        "subscriber": {"relationship": "self", "person": None},
        "coverage": {
            "payer_id": "ACME01",
            "payer_name": "Acme Commercial Health",
            "member_id": CANARY_MEMBER,
            "group_number": CANARY_GROUP,
            "claim_filing_indicator": "CI",
        },
        "billing_provider": {
            **PROFILE["billing_provider"],
            "last_name": None,
            "first_name": None,
            "tin_qualifier": "EI",
            "address": {**PROFILE["billing_provider"]["address"], "line2": None},
            "pay_to_address": None,
        },
        "rendering_provider": {
            "npi": "1290000037",
            "taxonomy": "207Q00000X",
            "organization_name": None,
            "last_name": "Testdoc",
            "first_name": "Quinn",
            "tin": None,
            "address": None,
        },
        "service_facility": None,
        "other_coverages": [],
        "guarantor": None,
        "diagnoses": ["E119", "I10"],
        "service_lines": [
            {
                "procedure_code": "99213",
                "modifiers": ["25"],
                "units": "1",
                "diagnosis_pointers": [1, 2],
                "charge": "125.00",
            },
            {"procedure_code": "36415", "modifiers": [], "units": "2", "diagnosis_pointers": [1], "charge": "30.00"},
        ],
    }
    out.update(overrides)
    return out
