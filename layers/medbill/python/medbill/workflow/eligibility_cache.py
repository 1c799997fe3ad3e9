"""Each member + payer + date of service is checked once a day: answers are kept (through the
`EligibilityAnswers` port, DynamoDB in AWS) under a key that is a hash, never the member id, for
the day they were given. The stage uses today's answer when there is one (a batch 270/271 run the
evening before fills it; so does the first real-time check of the day), except on a recheck: a
person who fixed something wants a fresh answer.

Only definite answers are kept: an unanswered check (`unavailable`) is never cached.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from medbill.models.eligibility import UNAVAILABLE, EligibilityResult, IdentityCorrection

_DECIMALS = ("copay", "deductible_remaining", "coinsurance", "out_of_pocket_remaining")
_DATES = ("plan_begin", "plan_end")


def answer_key(payer_id: str, member_id: str, date_of_service: date) -> str:
    """SHA-256 hex of payer + member id + date of service: addresses the cached answer only."""
    text = f"{payer_id.strip().upper()}|{member_id.strip().upper()}|{date_of_service.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()


def cacheable(result: EligibilityResult) -> bool:
    return result.reason != UNAVAILABLE


def covers(record: dict[str, Any], service_type: str) -> bool:
    """Whether a kept answer speaks for a visit of `service_type` (EQ01): its copay, coinsurance and
    "not covered" were read for the service type it was asked with (an evening batch asks what the
    appointments file says, 30 by default), so an answer for another one is not this visit's."""
    return record.get("service_type") == service_type


def to_record(result: EligibilityResult) -> dict[str, Any]:
    """JSON-safe (Decimal and dates as text)."""
    record = asdict(result)
    for name in _DECIMALS:
        record[name] = None if record[name] is None else str(record[name])
    for name in _DATES:
        record[name] = None if record[name] is None else record[name].isoformat()
    record["checked_at"] = result.checked_at.isoformat() if result.checked_at else None
    record["rejection_codes"] = list(result.rejection_codes)
    return record


def from_record(record: dict[str, Any]) -> EligibilityResult:
    known = {f.name for f in fields(EligibilityResult)}
    values = {k: v for k, v in record.items() if k in known}
    for name in _DECIMALS:
        values[name] = None if values.get(name) is None else Decimal(values[name])
    for name in _DATES:
        values[name] = None if values.get(name) is None else date.fromisoformat(values[name])
    values["checked_at"] = None if values.get("checked_at") is None else datetime.fromisoformat(values["checked_at"])
    values["rejection_codes"] = tuple(values.get("rejection_codes") or ())
    correction = values.get("correction")
    values["correction"] = IdentityCorrection(**correction) if correction else None
    return EligibilityResult(**values)
