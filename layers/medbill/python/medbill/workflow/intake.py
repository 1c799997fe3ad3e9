"""Intake: an encounter file in S3 -> validated claims, one execution each, and a rejection report.

Safe to run twice on the same file: claims are created with a condition (the claim id is derived
from clinic + encounter id) and executions are named by the claim id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from medbill.intake import AcceptedRecord, IntakeResult, Rejection, read_encounter_file, rejection_report
from medbill.models.claim import Claim, ClaimLine, claim_id_for
from medbill.models.common import utcnow
from medbill.models.encounter import Encounter
from medbill.ports import Artifacts, ClaimStore, Workflow
from medbill.prefixes import REJECTIONS_PREFIX


@dataclass
class IntakeSummary:
    source_key: str
    records: int = 0  # records in the file (accepted + rejected)
    claims_created: int = 0
    claims_existing: int = 0  # already created by an earlier delivery of this same file
    rejected: int = 0  # records rejected (a record may have several reasons)
    file_error: str | None = None
    report_key: str | None = None
    claim_ids: list[str] = field(default_factory=list)
    # Set when time ran out: the record to start from in the next message (the file is not done).
    continue_from: int | None = None


def new_claim(encounter: Encounter, source_key: str, record_number: int) -> Claim:
    claim_id = claim_id_for(encounter.clinic_id, encounter.encounter_id)
    now = utcnow()
    lines = [
        ClaimLine(
            **line.model_dump(),
            line_number=n,
            line_control_number=f"{claim_id}-{n:02d}",
        )
        for n, line in enumerate(encounter.service_lines, start=1)
    ]
    return Claim(
        claim_id=claim_id,
        clinic_id=encounter.clinic_id,
        encounter_id=encounter.encounter_id,
        created_at=now,
        updated_at=now,
        source_key=source_key,
        record_number=record_number,
        encounter=encounter,
        lines=lines,
    )


def ingest_encounter_file(
    repo: ClaimStore,
    store: Artifacts,
    workflow: Workflow,
    key: str,
    *,
    start_record: int = 1,
    out_of_time: Callable[[], bool] = lambda: False,
) -> IntakeSummary:
    """Claims for the file's valid records from `start_record` on. When `out_of_time()` says so, stop
    before the next record and say where to continue: a file of any size ends complete."""
    result: IntakeResult = read_encounter_file(key, store.read(key))
    summary = IntakeSummary(source_key=key, file_error=result.file_error)
    report_key = f"{REJECTIONS_PREFIX}{key}.json"
    duplicates: list[Rejection] = _earlier_duplicates(store, report_key, result) if start_record > 1 else []
    done_this_pass = 0
    for record in result.encounters:
        if record.record_number < start_record:
            continue
        if done_this_pass and out_of_time():  # at least one record per pass: always progress
            summary.continue_from = record.record_number
            break
        done_this_pass += 1
        claim = new_claim(record.encounter, key, record.record_number)
        if repo.create_claim(claim):
            summary.claims_created += 1
        else:
            existing = repo.get_claim(claim.claim_id)
            if existing.source_key != key or existing.record_number != record.record_number:
                # The same encounter sent again in another file: bill it once, report the second copy.
                duplicates.append(_duplicate(record, existing))
                continue
            summary.claims_existing += 1
        workflow.start_claim(claim.claim_id, claim.clinic_id)  # idempotent: execution name = claim id
        summary.claim_ids.append(claim.claim_id)
    summary.records = result.records
    rejections = [*result.rejections, *duplicates]
    summary.rejected = len({r.record_number for r in rejections})
    # Every file gets its report, a clean one too: it is the clinic's receipt (claim id per encounter).
    duplicate_records = {d.record_number for d in duplicates}
    report_result = replace(
        result,
        encounters=[r for r in result.encounters if r.record_number not in duplicate_records],
        rejections=rejections,
    )
    summary.report_key = report_key
    report = rejection_report(key, report_result)
    # The report is rewritten after each part of a long file; "complete" says whether more follows.
    report["complete"] = summary.continue_from is None
    store.write_json(summary.report_key, report)
    return summary


def _earlier_duplicates(store: Artifacts, report_key: str, result: IntakeResult) -> list[Rejection]:
    """Cross-file duplicates found by earlier parts of this file, from the report they wrote."""
    try:
        earlier = json.loads(store.read(report_key))
    except Exception:  # no report yet: the earlier parts found nothing to report
        return []
    known = {(r.record_number, r.field, r.reason) for r in result.rejections}
    return [
        Rejection(
            record_number=r["record_number"], field=r["field"], reason=r["reason"], encounter_id=r.get("encounter_id")
        )
        for r in earlier.get("rejections", [])
        if (r["record_number"], r["field"], r["reason"]) not in known
    ]


def _duplicate(record: AcceptedRecord, existing: Claim) -> Rejection:
    return Rejection(
        record_number=record.record_number,
        field="encounter_id",
        reason=(
            f"encounter {record.encounter.encounter_id} was already received as claim {existing.claim_id} "
            f"from {existing.source_key} (record {existing.record_number}); not billed twice"
        ),
        encounter_id=record.encounter.encounter_id,
    )
