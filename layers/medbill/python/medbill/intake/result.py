"""What reading one encounter file produced: accepted encounters, rejections, or a file error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medbill.models.claim import claim_id_for
from medbill.models.encounter import Encounter


@dataclass(frozen=True)
class AcceptedRecord:
    record_number: int  # 1-based: JSON array index / JSON Lines line / CSV first data row of the encounter
    encounter: Encounter


@dataclass(frozen=True)
class Rejection:
    """One reason a record was rejected. Never carries PHI: codes and field paths only."""

    record_number: int
    field: str  # dotted path, 1-based list indices: "diagnoses.2", "service_lines.1.procedure_code"
    reason: str
    encounter_id: str | None = None

    def __post_init__(self) -> None:
        # A problem with the record as a whole (unparseable line, wrong shape) still names a field.
        if not self.field:
            object.__setattr__(self, "field", "record")  # frozen dataclass

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_number": self.record_number,
            "encounter_id": self.encounter_id,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class IntakeResult:
    encounters: list[AcceptedRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    file_error: str | None = None
    records: int = 0  # records found in the file: every one is accepted or rejected
    format: str | None = None  # "json", "jsonl" or "csv"

    @property
    def rejected_records(self) -> list[int]:
        """Record numbers with at least one rejection, in order."""
        return sorted({r.record_number for r in self.rejections})

    @classmethod
    def failed(cls, reason: str, format: str | None = None) -> IntakeResult:
        return cls(file_error=reason, format=format)


def rejection_report(source_key: str, result: IntakeResult) -> dict[str, Any]:
    """The JSON document written to `rejections/<source key>.json` (no PHI: ids, codes, field paths)."""
    accepted, rejected = len(result.encounters), len(result.rejected_records)
    return {
        "source_key": source_key,
        "format": result.format,
        "counts": {
            # max(): a result rebuilt by a caller (e.g. adding cross-file duplicates) may not carry `records`.
            "records": max(result.records, accepted + rejected),
            "accepted": accepted,
            "rejected": rejected,
        },
        "file_error": result.file_error,
        "rejections": [r.to_dict() for r in sorted(result.rejections, key=lambda r: r.record_number)],
        "accepted": [
            {
                "record_number": a.record_number,
                "encounter_id": a.encounter.encounter_id,
                "claim_id": claim_id_for(a.encounter.clinic_id, a.encounter.encounter_id),
            }
            for a in result.encounters
        ],
    }
