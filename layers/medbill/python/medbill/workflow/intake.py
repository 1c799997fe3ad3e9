"""Intake: an encounter file in S3 -> validated claims, one execution each, and the file's report.

Safe to run twice on the same file: claims are created with a condition (the claim id is derived
from clinic + encounter id) and executions are named by the claim id.

HL7 v2 and FHIR files are read with the clinic's profile: the clinic is the file's folder
(`encounters/<clinic_id>/<file>`). A JSON or CSV file in a clinic's folder may only carry that
clinic's records; elsewhere (directly under encounters/) JSON and CSV are read exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from medbill.intake import AcceptedRecord, IntakeResult, Rejection, intake_report, read_encounter_file
from medbill.intake.fhir.bundle import FhirIntakeResult, answer_duplicate
from medbill.intake.reader import ehr_failure, ehr_format
from medbill.models.claim import Claim, ClaimLine, claim_id_for
from medbill.models.common import utcnow
from medbill.models.encounter import Encounter
from medbill.ports import Artifacts, ClaimStore, Workflow
from medbill.prefixes import REJECTIONS_PREFIX
from medbill.workflow.clinic_profiles import ClinicProfiles, InvalidProfile, clinic_of_key, profile_key


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
    profiles: ClinicProfiles | None = None,
) -> IntakeSummary:
    """Claims for the file's valid records from `start_record` on. When `out_of_time()` says so, stop
    before the next record and say where to continue: a file of any size ends complete."""
    result = read_clinic_file(key, store.read(key), profiles)
    summary = IntakeSummary(source_key=key, file_error=result.file_error)
    report_key = report_key_for(key)
    duplicates: list[Rejection] = _earlier_duplicates(store, report_key, result) if start_record > 1 else []
    done_this_pass = 0
    for record in result.encounters:
        if record.record_number < start_record:
            continue
        if done_this_pass and out_of_time():  # at least one record per pass: always progress
            summary.continue_from = record.record_number
            break
        done_this_pass += 1
        outcome, claim_id, duplicate = bill_record(repo, workflow, key, record)
        if duplicate is not None:
            duplicates.append(duplicate)
            if isinstance(result, FhirIntakeResult):
                answer_duplicate(result.response, record.record_number - 1, claim_id, duplicate.reason)
            continue
        if outcome == "created":
            summary.claims_created += 1
        else:
            summary.claims_existing += 1
        summary.claim_ids.append(claim_id)
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
    report = intake_report(key, report_result)
    # The report is rewritten after each part of a long file; "complete" says whether more follows.
    report["complete"] = summary.continue_from is None
    store.write_json(summary.report_key, report)
    return summary


def report_key_for(source_key: str) -> str:
    return f"{REJECTIONS_PREFIX}{source_key}.json"


def bill_record(
    repo: ClaimStore, workflow: Workflow, source_key: str, record: AcceptedRecord
) -> tuple[str, str, Rejection | None]:
    """("created" | "existing", claim id, None) with the claim's execution started (idempotent: the
    execution is named by the claim id), or ("duplicate", claim id, the rejection) when the same
    encounter was already received from another file or record: billed once."""
    claim = new_claim(record.encounter, source_key, record.record_number)
    if repo.create_claim(claim):
        outcome = "created"
    else:
        existing = repo.get_claim(claim.claim_id)
        if existing.source_key != source_key or existing.record_number != record.record_number:
            return "duplicate", claim.claim_id, _duplicate(record, existing)
        outcome = "existing"
    workflow.start_claim(claim.claim_id, claim.clinic_id)
    return outcome, claim.claim_id, None


def read_clinic_file(key: str, body: bytes, profiles: ClinicProfiles | None) -> IntakeResult:
    """read_encounter_file with the profile of the clinic whose folder holds the file."""
    clinic_id = clinic_of_key(key)
    fmt = ehr_format(key, body)
    what = {"hl7": "HL7 v2", "fhir": "FHIR"}.get(fmt or "", "")
    if fmt and clinic_id is None:
        return ehr_failure(fmt, f"{what} files go in the clinic's folder: encounters/<clinic_id>/<file>")
    try:
        profile = profiles.find(clinic_id) if profiles is not None and clinic_id is not None else None
    except InvalidProfile as exc:
        if fmt:
            return ehr_failure(fmt, f"{exc} (fix {profile_key(exc.clinic_id)})")
        profile = None  # JSON and CSV records carry everything: read them as before
    if fmt and profile is None:
        where = profile_key(str(clinic_id))
        reason = f"{what} files are read with the clinic's profile and clinic {clinic_id} has none (put {where})"
        return ehr_failure(fmt, reason)
    result = read_encounter_file(key, body, profile)
    if clinic_id is not None and not fmt:
        # A clinic's folder holds that clinic's records only, profile or not: staff upload into
        # their clinic's folder (POST /clinics/{clinic_id}/uploads), and a record of another clinic
        # there must not be billed for it.
        _only_this_clinic(result, clinic_id)
    return result


def _only_this_clinic(result: IntakeResult, clinic_id: str) -> None:
    """A JSON / CSV record of another clinic in this clinic's folder is rejected, not billed."""
    kept: list[AcceptedRecord] = []
    for record in result.encounters:
        other = record.encounter.clinic_id
        if other == clinic_id:
            kept.append(record)
            continue
        reason = f"the file is in the folder of clinic {clinic_id}, the record is clinic {other}'s: not billed"
        result.rejections.append(Rejection(record.record_number, "clinic_id", reason, record.encounter.encounter_id))
    result.encounters = kept


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
