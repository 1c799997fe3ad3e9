"""read_encounter_file: any supported encounter file -> accepted encounters + rejections.

Every record ends accepted or rejected (never dropped); a file that cannot be read at all gets a
file error and no encounters. Pure domain code: no AWS.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from medbill.intake.encounter_stream import JSON_SUFFIXES, SNIFF_SUFFIXES, EncounterReader, detect_format, suffix_of
from medbill.intake.fhir.bundle import failed_bundle, read_fhir_bundle
from medbill.intake.hl7v2.reader import Hl7IntakeResult, read_hl7_file
from medbill.intake.result import AcceptedRecord, IntakeResult
from medbill.intake.stream import opener_of
from medbill.models.clinic_profile import ClinicProfile

__all__ = ["EncounterReader", "detect_format", "read_encounter_file"]


def _ehr_format(source_key: str, body: bytes) -> tuple[str, Any] | None:
    """("hl7", None) for an .hl7 file (or one with no telling extension that starts like HL7 v2),
    ("fhir", the parsed Bundle) for a JSON file that is one FHIR Bundle; None for everything else,
    which is read exactly as before."""
    suffix = suffix_of(source_key)
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


_BUNDLE = re.compile(rb'"resourceType"\s*:\s*"Bundle"')


def sniff_ehr(source_key: str, head: bytes) -> str | None:
    """ "hl7" or "fhir" from the first bytes of a file (read whole after), None for JSON and CSV (read as
    a stream): the content is not parsed here."""
    suffix = suffix_of(source_key)
    start = head[:16].removeprefix(b"\xef\xbb\xbf").lstrip()
    if suffix == ".hl7" or (suffix in SNIFF_SUFFIXES and start[:4] in (b"MSH|", b"FHS|", b"BHS|")):
        return "hl7"
    if suffix in (*JSON_SUFFIXES, *SNIFF_SUFFIXES) and start[:1] == b"{" and _BUNDLE.search(head):
        return "fhir"
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
    """Read one clinic file held in memory (JSON array, JSON Lines or CSV; chosen by extension, else by
    content). HL7 v2 (.hl7) and FHIR Bundles (.json) need the clinic's profile: what their messages do
    not carry. With a profile, JSON records may omit clinic_id, place_of_service and billing_provider
    (CSV rows may not). Files in S3 are read as a stream (EncounterReader); this is the same reading."""
    try:
        if (ehr := _ehr_format(source_key, body)) is not None:
            return _read_ehr(ehr, source_key, body, profile)
    except Exception as exc:  # any file must end in a report, never in retries into the DLQ
        return IntakeResult.failed(f"could not read the file ({type(exc).__name__})")
    reader = EncounterReader(source_key, opener_of(body), profile=profile)
    result = IntakeResult()
    for outcome in reader:
        result.records += 1
        if outcome.encounter is not None:
            result.encounters.append(AcceptedRecord(outcome.record_number, outcome.encounter))
        result.rejections.extend(outcome.rejections)
    result.format = reader.format
    result.file_error = reader.file_error
    if reader.file_error is not None and reader.records == 0:
        return IntakeResult.failed(reader.file_error, reader.format)
    return result
