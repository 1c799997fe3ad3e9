"""EncounterReader: a JSON, JSON Lines or CSV encounter file read as a stream, one record at a time.

Every record comes out accepted (the encounter) or rejected (the reasons); a problem with the file
itself ends the reading with `file_error` (the records before it keep their outcomes, the error says
from which record nothing was read). Memory is one chunk of the file plus one record, whatever the
file's size; `resume_at` says where a later pass starts reading so it does not begin at the top.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medbill.intake import csv_reader, csv_stream
from medbill.intake.json_records import RecordDecoder
from medbill.intake.json_stream import array_records, line_records
from medbill.intake.limits import MAX_RECORD_BYTES, size_text
from medbill.intake.mapped import billing_provider_of
from medbill.intake.result import Rejection
from medbill.intake.stream import Cursor, FileError, Opener
from medbill.intake.validate import validate_record
from medbill.models.clinic_profile import ClinicProfile
from medbill.models.encounter import Encounter
from medbill.ports import ObjectReplaced

JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
SNIFF_SUFFIXES = ("", ".txt", ".dat")  # no telling extension: look at the content
HEAD_BYTES = 64 * 1024  # what is looked at to tell the format


def suffix_of(source_key: str) -> str:
    name = source_key.rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def detect_format(source_key: str, text: str) -> str:
    suffix = suffix_of(source_key)
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in SNIFF_SUFFIXES:
        return "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    raise FileError(f"unsupported file type {suffix} (expected .json, .jsonl or .csv)")


class Resume(BaseModel):
    """Where a later pass over the file starts: the cursor of its first record, the file's format (as
    the first pass found it) and, for CSV, the split encounters the first pass found (ids and row
    numbers, no PHI). Travels in the intake queue's continuation message."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: str = Field(pattern=r"^(json|jsonl|csv|object)$")
    record: int = Field(ge=1)
    offset: int = Field(ge=0)
    line: int = Field(ge=1)
    column: int = Field(ge=1)
    seen: int = Field(ge=0)
    split: list[tuple[str, str, str]] = Field(default_factory=list)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.record, self.offset, self.line, self.column, self.seen)


@dataclass(frozen=True)
class RecordOutcome:
    record_number: int
    cursor: Cursor  # where the record starts in the file
    encounter: Encounter | None
    rejections: list[Rejection]


def profile_defaults(profile: ClinicProfile) -> dict[str, Any]:
    """What a JSON record in the folder of a clinic with a profile may omit (docs/encounter-format.md)."""
    return {
        "clinic_id": profile.clinic_id,
        "place_of_service": profile.default_place_of_service,
        "billing_provider": billing_provider_of(profile),
    }


@dataclass
class _Duplicates:
    """Encounter ids seen earlier in the file (ids and numbers only: bounded by the records limit)."""

    unit: str  # how the clinic finds a record: "record" (array), "line" (JSON Lines)
    first_seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def check(self, raw: Any, record_number: int) -> tuple[str, str] | None:
        if not isinstance(raw, dict):
            return None
        cid, eid = raw.get("clinic_id"), raw.get("encounter_id")
        if not (isinstance(cid, str) and isinstance(eid, str) and cid.strip() and eid.strip()):
            return None
        key = (cid.strip()[:30], eid.strip()[:50])
        first = self.first_seen.setdefault(key, record_number)
        if first == record_number:
            return None
        return (
            "encounter_id",
            f"encounter {key[1]} of clinic {key[0]} already appears at {self.unit} {first} of this file",
        )


def _head(open_at: Opener) -> bytes:
    head = bytearray()
    for chunk in open_at(0):
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    return bytes(head)


class EncounterReader:
    """Iterate a file's records. `resume`: continue where an earlier pass stopped (its `resume_at`)."""

    def __init__(
        self,
        source_key: str,
        open_at: Opener,
        *,
        profile: ClinicProfile | None = None,
        resume: Resume | None = None,
    ) -> None:
        self.source_key = source_key
        self.open_at = open_at
        self.defaults = profile_defaults(profile) if profile is not None else {}
        self.resume = resume
        self.format: str | None = resume.format if resume else None
        self.file_error: str | None = None
        self.records = 0  # records this pass produced
        self.split: dict[tuple[str, str], str] = {(c, e): r for c, e, r in resume.split} if resume else {}

    def resume_at(self, cursor: Cursor) -> Resume:
        """Where a later pass starts to read the record at `cursor`."""
        split = [(c, e, r) for (c, e), r in self.split.items()]
        fmt = self.format or "json"
        return Resume(format=fmt, split=split, **cursor.to_dict())

    def __iter__(self) -> Iterator[RecordOutcome]:
        at: int | None = None  # the record being read
        try:
            for cursor, raw, problems, hint in self._raw_records():
                at = cursor.record
                outcome = self._outcome(cursor, raw, problems, hint)
                self.records += 1
                at = None
                yield outcome
        except FileError as exc:
            self.file_error = str(exc)
        except ObjectReplaced:
            raise  # not this file's fault: the caller stops this version (workflow.intake)
        except Exception as exc:  # any file must end in a report, never in retries into the DLQ
            # The type name only: an exception's message may quote the file's content (PHI).
            self.file_error = f"could not read the file ({type(exc).__name__})"
            if at is not None and self.records:
                self.file_error += f"; records from {at} on were not read"
        else:
            if self.records == 0 and self.resume is None:
                self.file_error = self._empty_message()

    def _empty_message(self) -> str:
        if self.format == "csv":
            return "the file has a header but no data rows"
        return "the file has no encounter records"

    def _outcome(self, cursor: Cursor, raw: Any, problems: list[tuple[str, str]], hint: Any) -> RecordOutcome:
        number = cursor.record
        if self.defaults and isinstance(raw, dict):
            raw = {**self.defaults, **raw}  # the record's own fields win
        eid = raw.get("encounter_id") if isinstance(raw, dict) else None
        eid = eid.strip()[:50] if isinstance(eid, str) and eid.strip() else None
        if problems:
            return RecordOutcome(number, cursor, None, [Rejection(number, f, r, eid) for f, r in problems])
        encounter, rejections = validate_record(raw, number, hint)
        return RecordOutcome(number, cursor, encounter, rejections)

    def _raw_records(self) -> Iterator[tuple[Cursor, Any, list[tuple[str, str]], Any]]:
        if self.resume is None:
            self.format = self._sniff()
        cursor = self.resume.cursor if self.resume else None
        if self.format == "csv":
            if self.resume is None:
                self.split = csv_stream.split_encounters(self.open_at)
            _, records = csv_stream.records(self.open_at, cursor, self.split)
            for rec, where in records:
                raw, problems = csv_reader.to_raw_encounter(rec)
                yield where, raw, rec.problems + problems, csv_reader.hint_for(rec)
            return
        items: Iterable[tuple[Cursor, Any, list[tuple[str, str]]]]
        if self.format == "object":
            self.format = "jsonl"  # reported as JSON Lines with one line, as ever
            items = self._single_object()
        elif self.format == "json":
            items = array_records(self.open_at(cursor.offset if cursor else 0), cursor)
        else:
            items = line_records(self.open_at(cursor.offset if cursor else 0), cursor)
        duplicates = _Duplicates("record" if self.format == "json" else "line")
        for where, raw, problems in items:
            dup = duplicates.check(raw, where.record)
            yield where, raw, [dup, *problems] if dup else problems, None

    def _sniff(self) -> str:
        """The format from the extension and the first bytes; a file that is not text at all stops here."""
        head = _head(self.open_at)
        if not head.removeprefix(b"\xef\xbb\xbf").strip():
            raise FileError("the file is empty")
        try:
            text = codecs.getincrementaldecoder("utf-8-sig")("strict").decode(head)
        except UnicodeDecodeError as exc:
            raise FileError(f"the file is not UTF-8 text (invalid byte at offset {exc.start})") from None
        if "\x00" in text:
            raise FileError("the file is binary, not text")
        fmt = detect_format(self.source_key, text)
        if fmt != "json":
            return fmt
        first = text.lstrip()[:1]
        if first == "[":
            return "json"
        if first != "{":
            kind = "a string" if first == '"' else "true/false/null" if first in "tfn" else "a number"
            raise FileError(f"the top level must be an array of encounter objects, not {kind}")
        # An object: one per line (JSON Lines), or one object over several lines (one record).
        line = text.lstrip().split("\n", 1)[0]
        try:
            if isinstance(json.loads(line), dict):
                return "jsonl"
        except ValueError:
            pass
        return "object"

    def _single_object(self) -> Iterator[tuple[Cursor, Any, list[tuple[str, str]]]]:
        body = bytearray()
        for chunk in self.open_at(0):
            body += chunk
            if len(body) > MAX_RECORD_BYTES:
                raise FileError(
                    f"the file is one JSON object over the limit of {size_text(MAX_RECORD_BYTES)} per record: "
                    "send an array of encounter objects or one per line"
                )
        text = body.decode("utf-8-sig")
        try:
            value, end, problems = RecordDecoder().decode(text, len(text) - len(text.lstrip()))
        except json.JSONDecodeError as exc:
            raise FileError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise FileError("not readable JSON: arrays or objects are nested too deeply") from None
        if text[end:].strip():
            raise FileError("not valid JSON: extra data after the object")
        yield Cursor(), value, problems
