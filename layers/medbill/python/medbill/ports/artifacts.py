"""Files: the bucket's artifacts (encounter files, reports, outboxes, ERA files) and clinic profiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Artifacts(Protocol):
    """Files: encounter files in, rejection reports, the 837P outbox, ERA files and their reports."""

    def read(self, key: str) -> bytes: ...
    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None: ...
    def write_json(self, key: str, document: dict[str, Any]) -> None: ...
    def size(self, key: str) -> int:
        """The object's size in bytes, without reading it (a HEAD)."""
        ...

    def open(self, key: str, start: int = 0) -> Iterable[bytes]:
        """The object's bytes from offset `start` to its end, in chunks (a ranged GET read as a stream)."""
        ...


class ClinicProfileFiles(Protocol):
    """Clinic profiles as stored (`config/clinics/<clinic_id>.json`); the domain parses and validates."""

    def read_profile(self, clinic_id: str) -> bytes | None: ...  # None: the clinic has no profile
    def write_profile(self, clinic_id: str, body: bytes) -> None: ...
