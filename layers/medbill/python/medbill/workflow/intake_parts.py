"""The report of an encounter file read in passes: each pass keeps the earlier passes' lines (records
before its first) and adds its own, so a continuation never reads the file's top again to report it.
A pass run twice (SQS delivers at least once) replaces its own lines instead of adding them again."""

from __future__ import annotations

import json
from typing import Any, Protocol

from medbill.intake import AcceptedRecord, Rejection
from medbill.ports import Artifacts


class _Summary(Protocol):
    records: int
    rejected: int
    continue_from: int | None


class PartReport:
    def __init__(self, store: Artifacts, key: str, source_key: str, first: int | None) -> None:
        """`first`: the first record of this pass when it continues a file (None: the first pass)."""
        self.store, self.key, self.source_key = store, key, source_key
        self.rejections: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        if first is not None:
            try:
                earlier = json.loads(self.store.read(key))
            except Exception:  # no report yet: nothing earlier to keep
                earlier = {}
            self.rejections = [r for r in earlier.get("rejections", []) if r["record_number"] < first]
            self.accepted = [a for a in earlier.get("accepted", []) if a["record_number"] < first]

    def rejected(self, rejections: list[Rejection]) -> None:
        self.rejections.extend(r.to_dict() for r in rejections)

    def accept(self, record: AcceptedRecord, claim_id: str) -> None:
        self.accepted.append(
            {"record_number": record.record_number, "encounter_id": record.encounter.encounter_id, "claim_id": claim_id}
        )

    def finish(self, summary: _Summary, fmt: str | None, file_error: str | None) -> None:
        """Write the report (rejection_report's shape; "complete" says whether more of the file follows)."""
        rejected = len({r["record_number"] for r in self.rejections})
        summary.records = len(self.accepted) + rejected
        summary.rejected = rejected
        report = {
            "source_key": self.source_key,
            "format": fmt,
            "counts": {"records": summary.records, "accepted": len(self.accepted), "rejected": rejected},
            "file_error": file_error,
            "rejections": sorted(self.rejections, key=lambda r: r["record_number"]),
            "accepted": sorted(self.accepted, key=lambda a: a["record_number"]),
            "complete": summary.continue_from is None,
        }
        self.store.write_json(self.key, report)
