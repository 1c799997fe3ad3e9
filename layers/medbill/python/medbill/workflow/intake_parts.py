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
    def __init__(
        self, store: Artifacts, key: str, source_key: str, first: int | None, version: str | None = None
    ) -> None:
        """`first`: the first record of this pass when it continues a file (None: the first pass).
        `version`: the object version the file's passes read (ObjectVersion.token), kept on the report:
        a pass keeps only its own version's lines, never another version's of the same key."""
        self.store, self.key, self.source_key, self.version = store, key, source_key, version
        self.rejections: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.earlier_version: str | None = None
        earlier = self._read()
        self.found = earlier.get("version")  # the version whose report is there now
        if first is not None and (version is None or self.found in (None, version)):  # None: unpinned (older message)
            self.rejections = [r for r in earlier.get("rejections", []) if r["record_number"] < first]
            self.accepted = [a for a in earlier.get("accepted", []) if a["record_number"] < first]
        elif first is None and version is not None and self.found not in (None, version):
            self.earlier_version = _replaced_note(earlier)

    def _read(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.store.read(self.key)))
        except Exception:  # no report yet: nothing earlier to keep
            return {}

    def still_ours(self) -> bool:
        """Whether the report there is still this version's (or the one this pass found and replaces):
        a newer version's pass may have written it since."""
        return self._read().get("version") in (self.version, self.found)

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
        if self.version is not None:
            report["version"] = self.version
        if self.earlier_version is not None:
            report["earlier_version"] = self.earlier_version
        self.store.write_json(self.key, report)


def _replaced_note(earlier: dict[str, Any]) -> str | None:
    """What the report of a version this file replaced before it was read in full leaves to the new
    one's report (the new report takes the file's report key, so the clinic would otherwise not see it)."""
    if earlier.get("complete", True) and earlier.get("replaced_at") is None:
        return None  # an earlier upload read in full: its claims and report lines stand
    counts = earlier.get("counts", {})
    at = earlier.get("replaced_at")
    read = f"its records before {at}" if at else f"{counts.get('records', 0)} of its records"
    return (
        f"an earlier version of this file was replaced before it was read in full: {read} were read "
        f"({counts.get('accepted', 0)} accepted, {counts.get('rejected', 0)} rejected) and the rest of it was "
        "not; send those encounters again if this version does not carry them"
    )
