"""Builders for encounter records (JSON dicts and CSV text) used by the intake tests."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

from tests.factories import DEMO_ENCOUNTER
from tests.factories import encounter_dict as shared_encounter_dict


def encounter_dict(encounter_id: str = "E-1", **overrides: Any) -> dict[str, Any]:
    return shared_encounter_dict(base=DEMO_ENCOUNTER, encounter_id=encounter_id, **copy.deepcopy(overrides))


def json_body(*records: Any) -> bytes:
    return json.dumps(list(records)).encode()


CSV_COLUMNS = [
    "clinic_id", "encounter_id", "date_of_service", "place_of_service",
    "patient_last_name", "patient_first_name", "patient_dob", "patient_sex",
    "patient_address_line1", "patient_city", "patient_state", "patient_postal_code",
    "subscriber_relationship", "subscriber_last_name", "subscriber_first_name", "subscriber_dob",
    "subscriber_sex", "subscriber_address_line1", "subscriber_city", "subscriber_state",
    "subscriber_postal_code",
    "payer_id", "payer_name", "member_id", "group_number",
    "billing_npi", "billing_tin", "billing_taxonomy", "billing_name",
    "billing_address_line1", "billing_city", "billing_state", "billing_postal_code",
    "diagnoses", "procedure_code", "modifiers", "units", "diagnosis_pointers", "charge",
]  # fmt: skip


def csv_row(encounter_id: str = "E-1", **overrides: str) -> dict[str, str]:
    row = {
        "clinic_id": "clinic-lakeview",
        "encounter_id": encounter_id,
        "date_of_service": "2026-11-20",
        "place_of_service": "11",
        "patient_last_name": "Placeholder",
        "patient_first_name": "Ivy",
        "patient_dob": "1972-03-14",
        "patient_sex": "F",
        "patient_address_line1": "44 Demo Harbor Rd",
        "patient_city": "Lakeview",
        "patient_state": "MI",
        "patient_postal_code": "48850",
        "payer_id": "PAYERA01",
        "payer_name": "Acme (demo)",
        "member_id": "ACM300400501",
        "billing_npi": "1990000022",
        "billing_tin": "990067890",
        "billing_taxonomy": "261QP2300X",
        "billing_name": "Lakeview Community Clinic (demo)",
        "billing_address_line1": "2 Lakeshore Demo Dr",
        "billing_city": "Lakeview",
        "billing_state": "MI",
        "billing_postal_code": "488501234",
        "diagnoses": "E78.5|R53.83",
        "procedure_code": "99214",
        "units": "1",
        "diagnosis_pointers": "1|2",
    }
    row.update(overrides)
    return row


def csv_body(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=columns or CSV_COLUMNS, lineterminator="\n", restval="", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()
