"""Files: the bucket's artifacts (encounter files, reports, outboxes, ERA files) and clinic profiles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ObjectVersion:
    """Which version of an object a reader holds: S3's VersionId when the bucket is versioned, and its
    ETag (without quotes) always. A file read in passes pins every pass to the version its first pass
    read, so a file replaced under the same key is never read half old, half new."""

    etag: str
    version_id: str | None = None

    @property
    def token(self) -> str:
        """What tells two versions apart (kept on the file's report)."""
        return self.version_id or self.etag

    def same_as(self, other: ObjectVersion) -> bool:
        if self.version_id and other.version_id:
            return self.version_id == other.version_id
        return self.etag == other.etag


@dataclass(frozen=True)
class ObjectStat:
    size: int  # bytes
    version: ObjectVersion


class Artifacts(Protocol):
    """Files: encounter files in, rejection reports, the 837P outbox, ERA files and their reports."""

    def read(self, key: str) -> bytes: ...
    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None: ...
    def write_json(self, key: str, document: dict[str, Any]) -> None: ...
    def stat(self, key: str) -> ObjectStat:
        """The object's size and current version, without reading it (a HEAD)."""
        ...

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterable[bytes]:
        """The object's bytes from offset `start` to its end, in chunks (a ranged GET read as a stream).
        With `version`: that version's bytes or `ObjectReplaced` (S3: by VersionId when there is one,
        else If-Match on the ETag), never another version's."""
        ...


class ClinicProfileFiles(Protocol):
    """Clinic profiles as stored (`config/clinics/<clinic_id>.json`); the domain parses and validates."""

    def read_profile(self, clinic_id: str) -> bytes | None: ...  # None: the clinic has no profile
    def write_profile(self, clinic_id: str, body: bytes) -> None: ...
