"""In-memory ports for the intake bench (bench_intake.py): just what ingest_encounter_file calls.
Benchmarks do not import the tests (import-linter), so these are their own, kept minimal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medbill.models.claim import Claim
from medbill.ports import ClaimEvent, ObjectStat, ObjectVersion

CHUNK = 1024 * 1024  # as the S3 adapter reads


class MemoryFiles:
    """The encounter file is read from disk in chunks, as the S3 adapter streams it (so the process
    never holds it whole); what intake writes (the report) is kept in memory."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources
        self.files: dict[str, bytes] = {}

    def read(self, key: str) -> bytes:
        return self.files[key] if key in self.files else self.sources[key].read_bytes()

    def stat(self, key: str) -> ObjectStat:
        info = self.sources[key].stat()
        return ObjectStat(info.st_size, ObjectVersion(etag=f"{info.st_mtime_ns:x}-{info.st_size:x}"))

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterator[bytes]:
        with self.sources[key].open("rb") as f:
            f.seek(start)
            while chunk := f.read(CHUNK):
                yield chunk

    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        self.files[key] = body.encode() if isinstance(body, str) else body

    def write_json(self, key: str, document: dict[str, Any]) -> None:
        self.write(key, json.dumps(document, indent=2, sort_keys=True, default=str), "application/json")


class MemoryClaims:
    """Claims are written as DynamoDB items (serialised, as the adapter would send them) and only their
    ids kept: in AWS the store is not in the Lambda's memory. The bench's files have no repeats."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.bytes_written = 0

    def create_claim(self, claim: Claim, actor: str = "intake") -> bool:
        if claim.claim_id in self.ids:
            return False
        self.bytes_written += len(claim.model_dump_json())
        self.ids.add(claim.claim_id)
        return True

    def get_claim(self, claim_id: str) -> Claim:
        raise LookupError(f"{claim_id}: the bench keeps ids only")

    def events(self, claim_id: str) -> list[ClaimEvent]:
        return []

    def save(self, claim: Claim, *, actor: str, new_status: Any = None, detail: Any = None) -> Claim:
        # Unreachable on the bench's files (no repeats: get_claim raises first); it wrote to an
        # `items` the class never had. Counted like a create, as the adapter would send it.
        self.bytes_written += len(claim.model_dump_json())
        return claim


class NoWorkflow:
    def __init__(self) -> None:
        self.started = 0

    def start_claim(self, claim_id: str, clinic_id: str) -> bool:
        self.started += 1
        return True

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        raise AssertionError("intake starts executions, it never resumes one")
