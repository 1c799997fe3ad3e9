"""read_encounter_file: any supported encounter file -> accepted encounters + rejections.

Every record ends accepted or rejected (never dropped); a file that cannot be read at all gets a
file error and no encounters. Pure domain code: no AWS.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from medbill.intake import csv_reader
from medbill.intake.fhir.bundle import failed_bundle, read_fhir_bundle
from medbill.intake.hl7v2.reader import Hl7IntakeResult, read_hl7_file
from medbill.intake.json_reader import FileError, parse_json_records
from medbill.intake.mapped import billing_provider_of
from medbill.intake.result import AcceptedRecord, IntakeResult, Rejection
from medbill.intake.validate import validate_record
from medbill.models.clinic_profile import ClinicProfile

JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
SNIFF_SUFFIXES = ("", ".txt", ".dat")  # no telling extension: look at the content


def _suffix(source_key: str) -> str:
    name = source_key.rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def detect_format(source_key: str, text: str) -> str:
    suffix = _suffix(source_key)
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in SNIFF_SUFFIXES:
        return "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    raise FileError(f"unsupported file type {suffix} (expected .json, .jsonl or .csv)")


def decode(body: bytes) -> str:
    try:
        text = body.decode("utf-8-sig")  # a UTF-8 byte order mark (Excel's CSV export) is dropped
    except UnicodeDecodeError as exc:
        raise FileError(f"the file is not UTF-8 text (invalid byte at offset {exc.start})") from None
    if not text.strip():
        raise FileError("the file is empty")
    if "\x00" in text:
        raise FileError("the file is binary, not text")
    return text


class _Collector:
    """Accepts or rejects each record and catches duplicate encounter ids within the file."""

    def __init__(
        self, result: IntakeResult, unit: str, *, find_duplicates: bool = True, defaults: dict[str, Any] | None = None
    ) -> None:
        self.result = result
        self.defaults = defaults or {}  # what a record may leave to the clinic profile (JSON records)
        self.unit = unit  # how the clinic finds a record: "record" (array), "line" (JSON Lines), "row" (CSV)
        # CSV: the grouping already rejects every record of an encounter that appears more than once.
        self.find_duplicates = find_duplicates
        self.first_seen: dict[tuple[str, str], int] = {}

    def duplicate_of(self, raw: Any) -> int | None:
        if not self.find_duplicates or not isinstance(raw, dict):
            return None
        cid, eid = raw.get("clinic_id"), raw.get("encounter_id")
        if not (isinstance(cid, str) and isinstance(eid, str) and cid.strip() and eid.strip()):
            return None
        return self.first_seen.get((cid.strip(), eid.strip()))

    def remember(self, raw: Any, record_number: int) -> None:
        if isinstance(raw, dict):
            cid, eid = raw.get("clinic_id"), raw.get("encounter_id")
            if isinstance(cid, str) and isinstance(eid, str) and cid.strip() and eid.strip():
                self.first_seen.setdefault((cid.strip(), eid.strip()), record_number)

    def add(self, record_number: int, raw: Any, problems: list[tuple[str, str]], hint: Any = None) -> None:
        self.result.records += 1
        if self.defaults and isinstance(raw, dict):
            raw = {**self.defaults, **raw}  # the record's own fields win
        eid = raw.get("encounter_id") if isinstance(raw, dict) else None
        eid = eid.strip()[:50] if isinstance(eid, str) and eid.strip() else None
        first = self.duplicate_of(raw)
        if first is not None:
            cid = str(raw["clinic_id"]).strip()
            problems = [
                (
                    "encounter_id",
                    f"encounter {eid} of clinic {cid} already appears at {self.unit} {first} of this file",
                ),
                *problems,
            ]
        self.remember(raw, record_number)
        if problems:
            self.result.rejections.extend(Rejection(record_number, f, r, eid) for f, r in problems)
            return
        encounter, rejections = validate_record(raw, record_number, hint)
        if encounter is None:
            self.result.rejections.extend(rejections)
        else:
            self.result.encounters.append(AcceptedRecord(record_number, encounter))


def profile_defaults(profile: ClinicProfile) -> dict[str, Any]:
    """What a JSON record in the folder of a clinic with a profile may omit (docs/encounter-format.md)."""
    return {
        "clinic_id": profile.clinic_id,
        "place_of_service": profile.default_place_of_service,
        "billing_provider": billing_provider_of(profile),
    }


def _ehr_format(source_key: str, body: bytes) -> tuple[str, Any] | None:
    """("hl7", None) for an .hl7 file (or one with no telling extension that starts like HL7 v2),
    ("fhir", the parsed Bundle) for a JSON file that is one FHIR Bundle; None for everything else,
    which is read exactly as before."""
    suffix = _suffix(source_key)
    head = body[:16].removeprefix(b"\xef\xbb\xbf").lstrip()
    if suffix == ".hl7" or (suffix in SNIFF_SUFFIXES and head[:4] in (b"MSH|", b"FHS|", b"BHS|")):
        return "hl7", None
    if suffix in (*JSON_SUFFIXES, *SNIFF_SUFFIXES) and head[:1] == b"{" and b'"Bundle"' in body:
        try:
            doc = json.loads(body.decode("utf-8-sig"), parse_float=Decimal)  # money never passes through float
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        return ("fhir", doc) if isinstance(doc, dict) and doc.get("resourceType") == "Bundle" else None
    return None


def ehr_format(source_key: str, body: bytes) -> str | None:
    """ "hl7" or "fhir" for a file only the clinic's profile can read; None for JSON and CSV."""
    ehr = _ehr_format(source_key, body)
    return ehr[0] if ehr else None


def ehr_failure(fmt: str, reason: str) -> IntakeResult:
    """A file error for an HL7 v2 ("hl7") or FHIR ("fhir") file, shaped as its reader's results are
    (an HL7 result with no messages; a FHIR result answering one OperationOutcome)."""
    return Hl7IntakeResult(file_error=reason, format="hl7") if fmt == "hl7" else failed_bundle(reason)


def _read_ehr(ehr: tuple[str, Any], source_key: str, body: bytes, profile: ClinicProfile | None) -> IntakeResult:
    fmt, doc = ehr
    if profile is None:
        what = "HL7 v2" if fmt == "hl7" else "FHIR"
        return ehr_failure(fmt, f"{what} files are read with the clinic's profile, and none is set up")
    if fmt == "hl7":
        return read_hl7_file(source_key, body, profile)
    return read_fhir_bundle(doc, profile)


def read_encounter_file(source_key: str, body: bytes, profile: ClinicProfile | None = None) -> IntakeResult:
    """Read one clinic file (JSON array, JSON Lines or CSV; chosen by extension, else by content). HL7 v2
    (.hl7) and FHIR Bundles (.json) need the clinic's profile: what their messages do not carry. With a
    profile, JSON records may omit clinic_id, place_of_service and billing_provider (CSV rows may not)."""
    fmt: str | None = None
    try:
        if (ehr := _ehr_format(source_key, body)) is not None:
            return _read_ehr(ehr, source_key, body, profile)
        text = decode(body)
        fmt = detect_format(source_key, text)
        result = IntakeResult(format=fmt)
        if fmt == "csv":
            collector = _Collector(result, "row", find_duplicates=False)
            for rec, raw, problems in csv_reader.iter_records(text):
                # Grouping problems (structure, split encounters, disagreeing rows) are the rejection:
                # validating a record whose rows disagree would report noise.
                collector.add(rec.record_number, raw, problems, csv_reader.hint_for(rec))
        else:
            fmt, records = parse_json_records(text, lines_only=fmt == "jsonl")
            result.format = fmt
            defaults = profile_defaults(profile) if profile is not None else None
            collector = _Collector(result, "record" if fmt == "json" else "line", defaults=defaults)
            for number, raw, parse_error in records:
                collector.add(number, raw, [("", parse_error)] if parse_error else [])
    except FileError as exc:
        return IntakeResult.failed(str(exc), fmt)
    except Exception as exc:  # any file must end in a report, never in retries into the DLQ
        # The type name only: an exception's message may quote the file's content (PHI).
        return IntakeResult.failed(f"could not read the file ({type(exc).__name__})", fmt)
    return result
