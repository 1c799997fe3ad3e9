"""Encounter intake: the console's direct uploads and the queue that continues a long file."""

from __future__ import annotations

from typing import Any, Protocol


class EncounterUploads(Protocol):
    """Encounter files staff upload from the console: a one-use, short-lived upload of one file to a
    key (an S3 presigned POST: the browser sends the file straight to storage), answered as
    {"url": ..., "fields": {...}} (a multipart form); and the intake report of a file, once written."""

    def upload_form(self, key: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]: ...
    def read_if_present(self, key: str) -> bytes | None: ...


class IntakeQueue(Protocol):
    """Continues a long encounter file in a new message."""

    def send_continuation(
        self,
        key: str,
        from_record: int,
        resume: dict[str, Any] | None = None,
        version: dict[str, Any] | None = None,
    ) -> None:
        """`resume`: where the next pass reads on (intake.encounter_stream.Resume as JSON); `version`:
        the object version the file's passes read (ObjectVersion as a dict)."""
        ...
