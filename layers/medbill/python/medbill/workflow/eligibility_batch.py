"""Batch eligibility: tomorrow's appointments -> one 270 -> the 271s matched back by TRN trace ->
answers kept for the day (`EligibilityAnswers`), so the claim's eligibility stage finds a fresh
answer instead of asking again.

Appointments file (`appointments/<clinic>-<date>.jsonl` or `.csv`; docs/eligibility.md): one
appointment per line (JSON Lines) or row (CSV, header row), fields `appointment_id`,
`date_of_service` (YYYY-MM-DD), `payer_id`, `payer_name`, `member_id`, `last_name`, `first_name`,
`birth_date` (the subscriber), `provider_npi`, `provider_name`, optional `service_type` (EQ01,
default 30) and, when the patient is a dependent, `patient_last_name`, `patient_first_name`,
`patient_birth_date`, `relationship` (spouse / child / other). A bad row is rejected (its row
number and the fields at fault, never their values) and the rest go on.

The manifest (trace -> what was asked) is kept with the 270 so the 271 can be matched back; it holds
member ids and names, like the encounter files, and lives in the same encrypted bucket.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from medbill.models.common import npi_check_digit_ok
from medbill.models.eligibility import EligibilityInquiry
from medbill.ports import EligibilityAnswers
from medbill.workflow import eligibility_cache
from medbill.workflow.eligibility import request_for, result_from_271
from medbill.x12.eligibility import answers_by_trace, write_270
from medbill.x12.eligibility.codes import SERVICE_TYPES
from medbill.x12.eligibility.reader271 import parse_271
from medbill.x12.interchange import ControlNumbers

REQUIRED = (
    "appointment_id",
    "date_of_service",
    "payer_id",
    "payer_name",
    "member_id",
    "last_name",
    "first_name",
    "provider_npi",
    "provider_name",
)
_RELATIONSHIPS = {"spouse": "01", "child": "19", "other": "34"}


@dataclass
class AppointmentsRead:
    inquiries: list[EligibilityInquiry] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)  # {"row": n, "reason": ...}
    file_error: str | None = None

    def report(self, source_key: str) -> dict[str, Any]:
        return {
            "source_key": source_key,
            "counts": {
                "rows": len(self.inquiries) + len(self.rejections),
                "accepted": len(self.inquiries),
                "rejected": len(self.rejections),
            },
            "rejections": self.rejections,
            "file_error": self.file_error,
        }


def trace_for(source_key: str, row: int) -> str:
    """TRN02: the same file and row always give the same trace (a re-run sends the same 270)."""
    return "APT" + hashlib.sha256(f"{source_key}\x1f{row}".encode()).hexdigest()[:20].upper()


def _rows(source_key: str, body: bytes) -> Iterator[tuple[int, Any]]:
    text = body.decode("utf-8-sig")
    if source_key.lower().endswith(".csv"):
        for n, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):  # line 1 is the header
            yield n, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        return
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError:
                yield n, None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _inquiry(source_key: str, n: int, row: dict[str, Any]) -> tuple[EligibilityInquiry | None, str]:
    missing = [f for f in REQUIRED if not str(row.get(f) or "").strip()]
    if missing:
        return None, "missing " + ", ".join(missing)
    bad = [f for f in ("date_of_service", "birth_date", "patient_birth_date") if row.get(f) and _date(row[f]) is None]
    npi = str(row["provider_npi"])
    if not (len(npi) == 10 and npi.isdigit() and npi_check_digit_ok(npi)):
        bad.append("provider_npi")
    service_type = str(row.get("service_type") or "30")
    if service_type not in SERVICE_TYPES:
        bad.append("service_type")
    dependent = bool(row.get("patient_last_name"))
    if dependent and (_date(row.get("patient_birth_date")) is None or row.get("relationship") not in _RELATIONSHIPS):
        bad += [f for f in ("patient_birth_date", "relationship") if f not in bad]
    if bad:
        return None, "invalid " + ", ".join(dict.fromkeys(bad))
    inquiry = EligibilityInquiry(
        payer_id=str(row["payer_id"]),
        payer_name=str(row["payer_name"]),
        member_id=str(row["member_id"]),
        date_of_service=_date(row["date_of_service"]),  # type: ignore[arg-type]
        trace_number=trace_for(source_key, n),
        subscriber_last_name=str(row["last_name"]),
        subscriber_first_name=str(row["first_name"]),
        subscriber_birth_date=_date(row.get("birth_date")) if row.get("birth_date") else None,
        dependent_last_name=str(row.get("patient_last_name") or ""),
        dependent_first_name=str(row.get("patient_first_name") or ""),
        dependent_birth_date=_date(row.get("patient_birth_date")) if dependent else None,
        dependent_relationship=_RELATIONSHIPS.get(str(row.get("relationship")), "") if dependent else "",
        service_type=service_type,
        provider_npi=npi,
        provider_name=str(row["provider_name"]),
    )
    return inquiry, ""


def read_appointments(source_key: str, body: bytes) -> AppointmentsRead:
    out = AppointmentsRead()
    try:
        rows = list(_rows(source_key, body))
    except (UnicodeDecodeError, csv.Error) as err:
        out.file_error = f"not readable: {type(err).__name__}"
        return out
    for n, row in rows:
        if not isinstance(row, dict):
            out.rejections.append({"row": n, "reason": "not a JSON object"})
            continue
        inquiry, reason = _inquiry(source_key, n, row)
        if inquiry is None:
            out.rejections.append({"row": n, "reason": reason})
        else:
            out.inquiries.append(inquiry)
    return out


def manifest(inquiries: list[EligibilityInquiry]) -> dict[str, Any]:
    """What the 270 asked, by trace (dates as text): kept beside the 270 to match its 271s."""
    return {
        i.trace_number: {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(i).items()}
        for i in inquiries
    }


def _from_manifest(entry: dict[str, Any]) -> EligibilityInquiry:
    values = dict(entry)
    for name in ("date_of_service", "subscriber_birth_date", "dependent_birth_date"):
        values[name] = date.fromisoformat(values[name]) if values.get(name) else None
    return EligibilityInquiry(**values)


def write_batch_270(
    inquiries: list[EligibilityInquiry],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    created: datetime,
    trace_originator: str = "9MEDBILL01",
    usage: str = "P",
    reference: str = "",
) -> str:
    """One 270 with every appointment (one HL 22 each): the batch for the clearinghouse."""
    return write_270(
        [request_for(i) for i in inquiries],
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_numbers=ControlNumbers(interchange=control_number, group=control_number),
        created=created,
        trace_originator=trace_originator,
        usage=usage,
        reference=reference,
    )


@dataclass
class MatchSummary:
    matched: int = 0
    kept: int = 0  # definite answers stored
    unknown_traces: int = 0  # answers for traces not in the manifest
    problems: int = 0
    reasons: list[str] = field(default_factory=list)  # per matched answer: "active" or the hold reason
    # What was kept, for resuming the claims waiting on it (never in the report: hashes, NPIs).
    kept_answers: list[KeptAnswer] = field(default_factory=list)


@dataclass(frozen=True)
class KeptAnswer:
    """One definite answer kept: its cache key (payer + member + DOS, hashed), the service type it was
    asked for and the provider it was asked as (2100B NPI: the clinic's billing provider)."""

    key: str
    service_type: str
    provider_npi: str


def days_kept(received: datetime, date_of_service: date) -> list[str]:
    """The days an answer counts as today's: the day it came and, for an appointment still to come
    (a batch answered the evening before), its date of service, when the claim's stage will ask."""
    days = [received.date()]
    if date_of_service > received.date():
        days.append(date_of_service)
    return [d.isoformat() for d in days]


def match_271(text: str, asked: dict[str, Any], answers: EligibilityAnswers, received: datetime) -> MatchSummary:
    """Each answer of the 271 matched to its question by TRN trace and kept (`days_kept`)."""
    responses, problems = parse_271(text)
    summary = MatchSummary(problems=len(problems) + sum(len(r.problems) for r in responses))
    by_trace = answers_by_trace(s for r in responses for s in r.subscribers)
    for trace, (answer, member) in by_trace.items():
        entry = asked.get(trace)
        if entry is None:
            summary.unknown_traces += 1
            continue
        inquiry = _from_manifest(entry)
        result = result_from_271(answer, member, inquiry, checked_at=received)
        summary.matched += 1
        summary.reasons.append(result.reason or "active")
        if eligibility_cache.cacheable(result):
            key = eligibility_cache.answer_key(inquiry.payer_id, inquiry.member_id, inquiry.date_of_service)
            record = eligibility_cache.to_record(result)
            for day in days_kept(received, inquiry.date_of_service):
                answers.cache_eligibility(key, day, record)
            summary.kept += 1
            summary.kept_answers.append(KeptAnswer(key, inquiry.service_type, inquiry.provider_npi))
    return summary
