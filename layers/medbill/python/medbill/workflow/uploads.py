"""Encounter files uploaded from the staff console: a presigned S3 POST into the clinic's folder.

The browser sends the file straight to S3 (the API never carries it: a Lambda response and request
are limited to 6 MB, and the file would pass through our logs' reach); the S3 notification then
starts intake exactly as for a file a clinic drops by SFTP or the CLI. The key names the clinic's
folder, so intake bills only that clinic's records from it (workflow/intake.py), and it never
carries the file's own name: a clinic's file names can hold a patient's name, and keys reach logs.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from medbill.models.common import utcnow
from medbill.ports import EncounterUploads
from medbill.prefixes import ENCOUNTERS_PREFIX
from medbill.workflow.intake import report_key_for

# What intake reads (intake/reader.py): JSON, JSON Lines, CSV, HL7 v2 and plain text (sniffed).
UPLOAD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".hl7", ".txt")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
UPLOAD_EXPIRES_S = 300
_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")


class BadUpload(ValueError):
    """The upload request names a file intake cannot read (the message names the rule, not the name)."""


@dataclass(frozen=True)
class UploadTicket:
    key: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int
    report_key: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url,
            "fields": self.fields,
            "expires_at": self.expires_at.isoformat(),
            "max_bytes": self.max_bytes,
            "report_key": self.report_key,
        }


def upload_suffix(file_name: str) -> str:
    if not _NAME.match(file_name):
        raise BadUpload("file_name must be 1 to 200 characters, without a path")
    lower = file_name.lower()
    suffix = next((s for s in UPLOAD_SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        raise BadUpload(f"file_name must end in one of {', '.join(UPLOAD_SUFFIXES)}")
    return suffix


def new_upload(signer: EncounterUploads, clinic_id: str, file_name: str, size: int) -> UploadTicket:
    """A one-use presigned POST for one file of `size` bytes into `encounters/<clinic_id>/`."""
    suffix = upload_suffix(file_name)
    if not 1 <= size <= MAX_UPLOAD_BYTES:
        raise BadUpload(f"size must be 1 to {MAX_UPLOAD_BYTES} bytes")
    now = utcnow()
    key = f"{ENCOUNTERS_PREFIX}{clinic_id}/upload-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}{suffix}"
    form = signer.upload_form(key, max_bytes=size, expires_s=UPLOAD_EXPIRES_S)
    return UploadTicket(
        key=key,
        url=str(form["url"]),
        fields={str(k): str(v) for k, v in form["fields"].items()},
        expires_at=now + timedelta(seconds=UPLOAD_EXPIRES_S),
        max_bytes=size,
        report_key=report_key_for(key),
    )


_UPLOAD_ID = re.compile(r"^upload-[0-9]{8}T[0-9]{6}-[0-9a-f]{12}\.[a-z]{3,6}$")


class UploadNotFound(LookupError):
    def __init__(self, clinic_id: str, upload_id: str) -> None:
        super().__init__(f"upload {upload_id} of clinic {clinic_id} has no intake report (yet)")


def upload_report(uploads: EncounterUploads, clinic_id: str, upload_id: str) -> dict[str, Any]:
    """The intake report of an uploaded file (claim ids accepted, rejections by record and field:
    no PHI, workflow/intake.py), once intake has read it."""
    if not _UPLOAD_ID.match(upload_id):
        raise UploadNotFound(clinic_id, "(not an upload id)")
    body = uploads.read_if_present(report_key_for(f"{ENCOUNTERS_PREFIX}{clinic_id}/{upload_id}"))
    if body is None:
        raise UploadNotFound(clinic_id, upload_id)
    report: dict[str, Any] = json.loads(body)
    return report
