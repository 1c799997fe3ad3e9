"""Console uploads: the key is the clinic's folder and never the file's own name; the form allows
exactly the stated size; only files intake reads; the report is read back by upload id."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from medbill.workflow.uploads import (
    MAX_UPLOAD_BYTES,
    UPLOAD_EXPIRES_S,
    BadUpload,
    UploadNotFound,
    new_upload,
    upload_report,
)


class Signer:
    """Records what was asked; answers a form the way S3's presigned POST does."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int, int]] = []
        self.files: dict[str, bytes] = {}

    def upload_form(self, key: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        self.asked.append((key, max_bytes, expires_s))
        return {"url": "https://bucket.s3.amazonaws.com/", "fields": {"key": key, "policy": "p"}}

    def read_if_present(self, key: str) -> bytes | None:
        return self.files.get(key)


def test_an_upload_goes_to_the_clinics_folder_under_a_name_of_ours() -> None:
    signer = Signer()
    ticket = new_upload(signer, "clinic-a", "Doe, Jane 1980-04-02.CSV", 1234)
    assert re.fullmatch(r"encounters/clinic-a/upload-\d{8}T\d{6}-[0-9a-f]{12}\.csv", ticket.key)
    assert "Doe" not in json.dumps(ticket.as_dict()) and "1980" not in json.dumps(ticket.as_dict())
    assert signer.asked == [(ticket.key, 1234, UPLOAD_EXPIRES_S)]
    assert ticket.fields == {"key": ticket.key, "policy": "p"} and ticket.max_bytes == 1234
    assert ticket.report_key == f"rejections/{ticket.key}.json"
    assert new_upload(signer, "clinic-a", "x.json", 1).key != ticket.key  # a new key every time


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("visits.exe", 10, "file_name must end in one of .json, .jsonl, .ndjson, .csv, .hl7, .txt"),
        ("../x.json", 10, "file_name must be 1 to 200 characters, without a path"),
        ("a\\b.json", 10, "file_name must be 1 to 200 characters, without a path"),
        ("x.json", 0, f"size must be 1 to {MAX_UPLOAD_BYTES} bytes"),
        ("x.json", MAX_UPLOAD_BYTES + 1, f"size must be 1 to {MAX_UPLOAD_BYTES} bytes"),
    ],
)
def test_a_file_intake_cannot_read_is_refused_before_any_form(name: str, size: int, message: str) -> None:
    signer = Signer()
    with pytest.raises(BadUpload) as err:
        new_upload(signer, "clinic-a", name, size)
    assert str(err.value) == message and signer.asked == []


def test_the_report_is_read_back_by_upload_id_once_intake_wrote_it() -> None:
    signer = Signer()
    ticket = new_upload(signer, "clinic-a", "x.json", 5)
    upload_id = ticket.key.rsplit("/", 1)[1]
    with pytest.raises(UploadNotFound) as err:
        upload_report(signer, "clinic-a", upload_id)
    assert str(err.value) == f"upload {upload_id} of clinic clinic-a has no intake report (yet)"
    signer.files[ticket.report_key] = b'{"accepted": [{"claim_id": "CLM1"}]}'
    assert upload_report(signer, "clinic-a", upload_id) == {"accepted": [{"claim_id": "CLM1"}]}
    with pytest.raises(UploadNotFound):
        upload_report(signer, "clinic-b", upload_id)  # another clinic's folder: not this file
    with pytest.raises(UploadNotFound):
        upload_report(signer, "clinic-a", "../../config/clinics/clinic-a.json")


def test_a_clinics_folder_bills_only_that_clinic_even_without_a_profile() -> None:
    from medbill.workflow.intake import read_clinic_file
    from tests.factories import encounter_dict

    records = [
        encounter_dict(encounter_id="A1", clinic_id="clinic-a"),
        encounter_dict(encounter_id="B1", clinic_id="clinic-b"),
    ]
    body = json.dumps(records, default=str).encode()
    result = read_clinic_file("encounters/clinic-a/upload-20261207T000000-0123456789ab.json", body, None)
    assert [r.encounter.encounter_id for r in result.encounters] == ["A1"]
    assert [(r.record_number, r.field, r.reason) for r in result.rejections] == [
        (2, "clinic_id", "the file is in the folder of clinic clinic-a, the record is clinic clinic-b's: not billed")
    ]
    anywhere = read_clinic_file("encounters/mixed.json", body, None)  # not a clinic's folder: as before
    assert [r.encounter.encounter_id for r in anywhere.encounters] == ["A1", "B1"]
