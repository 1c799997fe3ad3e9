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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from medbill.intake import AcceptedRecord, IntakeResult, Rejection, intake_report, read_encounter_file
from medbill.intake.encounter_stream import HEAD_BYTES, EncounterReader, RecordOutcome, Resume
from medbill.intake.fhir.bundle import FhirIntakeResult, answer_duplicate
from medbill.intake.hl7v2.reader import Hl7IntakeResult
from medbill.intake.hl7v2.reader import answer_duplicate as answer_hl7_duplicate
from medbill.intake.limits import MAX_EHR_FILE_BYTES, MAX_FILE_BYTES, file_too_large
from medbill.intake.reader import ehr_failure, ehr_format, sniff_ehr
from medbill.models.claim import Claim, ClaimLine, claim_id_for
from medbill.models.common import utcnow
from medbill.models.encounter import Encounter
from medbill.ports import Artifacts, ClaimStore, ObjectReplaced, ObjectVersion, Workflow
from medbill.prefixes import REJECTIONS_PREFIX
from medbill.workflow.clinic_profiles import ClinicProfiles, InvalidProfile, clinic_of_key, profile_key
from medbill.workflow.intake_parts import PartReport
from medbill.workflow.intake_resend import (
    changed_fields,
    changed_rejection,
    duplicate_rejection,
    fingerprint,
    note_changed_resend,
)


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
    changed: int = 0  # records of encounters received before with other content (reported, not billed)
    # Set when time ran out: the record to start from in the next message (the file is not done), and
    # where the next pass reads on from (encounter_stream.Resume as JSON; JSON and CSV files).
    continue_from: int | None = None
    resume: dict[str, Any] | None = None
    # The version of the object every pass reads (ObjectVersion as a dict): the continuation carries it.
    version: dict[str, Any] | None = None
    # Set when the file was replaced under its key before this version was read in full: what became
    # of this version (the new one is read from its own S3 notification).
    superseded: str | None = None


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
        received=fingerprint(claim_id, encounter),
        lines=lines,
    )


def ingest_encounter_file(
    repo: ClaimStore,
    store: Artifacts,
    workflow: Workflow,
    key: str,
    *,
    start_record: int = 1,
    resume: Resume | None = None,
    size: int | None = None,
    version: ObjectVersion | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    profiles: ClinicProfiles | None = None,
) -> IntakeSummary:
    """Claims for the file's valid records, from `resume` (where an earlier pass stopped) or from
    `start_record`. When `out_of_time()` says so, stop before the next record and say where to
    continue (`continue_from`, `resume`): a file of any size ends complete. `size`: the object's size
    from the S3 notification (else a HEAD), checked against the limits before anything is read.
    `version`: the object version this file is (from the notification, or what the first pass read);
    every pass reads that version only, and a pass that finds the key holding another one stops
    (`superseded`): the new version has its own notification (decision 40)."""
    summary = IntakeSummary(source_key=key, report_key=report_key_for(key))
    first_pass = resume is None and start_record == 1
    if first_pass and size is not None and size > MAX_FILE_BYTES:
        return _refused(store, summary, None, file_too_large(size))
    if first_pass or version is not None:
        stat = store.stat(key)  # one HEAD per pass: the size if unknown, and which version is current
        if version is not None and not stat.version.same_as(version):
            return _superseded(
                store, summary, version, None if first_pass else (resume.record if resume else start_record)
            )
        version = stat.version
        size = stat.size if size is None else size
        if first_pass and size > MAX_FILE_BYTES:
            return _refused(store, summary, None, file_too_large(size), version)
    summary.version = asdict(version) if version is not None else None
    try:
        if resume is None and (fmt := sniff_ehr(key, _head(store, key, version))) is not None:
            if size is not None and size > MAX_EHR_FILE_BYTES:
                return _refused(store, summary, fmt, file_too_large(size, MAX_EHR_FILE_BYTES), version)
            return _ingest_whole(repo, store, workflow, key, summary, start_record, out_of_time, profiles, version)
    except ObjectReplaced:
        assert version is not None  # an unpinned read never raises it
        return _superseded(store, summary, version, None if first_pass else start_record)
    return _ingest_stream(repo, store, workflow, key, summary, start_record, resume, out_of_time, profiles, version)


def _superseded(store: Artifacts, summary: IntakeSummary, version: ObjectVersion, at: int | None) -> IntakeSummary:
    """The key holds another object than the version this pass was for. Nothing more of this version is
    read (in a bucket without versions it is gone). `at`: the first record not read (None: nothing of
    it was read). The file's report says so while it is still this version's: a report the new
    version already wrote is the new version's, and it carries the note itself (PartReport)."""
    summary.version = asdict(version)
    if at is None:
        summary.superseded = "the file was replaced by a newer version before it was read: only the newer one is read"
        return summary
    summary.superseded = (
        f"the file was replaced by a newer version while it was being read: records from {at} on of the "
        "earlier version were not read; the newer version is read in full"
    )
    key = str(summary.report_key)
    try:
        report = json.loads(store.read(key))
    except Exception:  # no report yet: the earlier passes billed nothing that needs one
        return summary
    if report.get("version") != version.token:
        return summary
    report.update(file_error=summary.superseded, replaced_at=at, complete=True)
    store.write_json(key, report)
    return summary


def _head(store: Artifacts, key: str, version: ObjectVersion | None) -> bytes:
    head = bytearray()
    for chunk in store.open(key, 0, version):
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    return bytes(head)


def _refused(
    store: Artifacts, summary: IntakeSummary, fmt: str | None, reason: str, version: ObjectVersion | None = None
) -> IntakeSummary:
    """A file over a limit: not read at all; its report names the limit."""
    result = ehr_failure(fmt, reason) if fmt else IntakeResult.failed(reason)
    summary.file_error = reason
    report = intake_report(summary.source_key, result)
    report["complete"] = True
    if version is not None:
        report["version"] = version.token
    store.write_json(str(summary.report_key), report)
    return summary


def _ingest_stream(
    repo: ClaimStore,
    store: Artifacts,
    workflow: Workflow,
    key: str,
    summary: IntakeSummary,
    start_record: int,
    resume: Resume | None,
    out_of_time: Callable[[], bool],
    profiles: ClinicProfiles | None,
    version: ObjectVersion | None,
) -> IntakeSummary:
    """JSON, JSON Lines and CSV: one record read, validated and billed at a time."""
    clinic_id = clinic_of_key(key)
    try:
        profile = profiles.find(clinic_id) if profiles is not None and clinic_id is not None else None
    except InvalidProfile:
        profile = None  # JSON and CSV records carry everything: read them as before
    reader = EncounterReader(key, lambda offset: store.open(key, offset, version), profile=profile, resume=resume)
    first = resume.record if resume is not None else start_record
    token = version.token if version is not None else None
    report = PartReport(store, summary.report_key or report_key_for(key), key, first if first > 1 else None, token)
    done = 0
    at = first  # the record this pass reads next
    try:
        for outcome in reader:
            if outcome.record_number < start_record:
                continue  # a continuation from before continuations carried where to read (`resume`)
            if done and out_of_time():  # at least one record per pass: always progress
                summary.continue_from = outcome.record_number
                summary.resume = reader.resume_at(outcome.cursor).model_dump(mode="json")
                break
            done += 1
            _bill(repo, workflow, key, clinic_id, outcome, report, summary)
            at = outcome.record_number + 1
    except ObjectReplaced:  # replaced between two reads of this pass: never read the new one here
        replaced = True
    else:  # the new version's pass wrote the report meanwhile: it is the new one's (no HEAD needed)
        replaced = version is not None and not report.still_ours()
    if replaced:
        assert version is not None  # an unpinned pass is never replaced
        summary.continue_from = summary.resume = None
        if not done and first == 1:
            return _superseded(store, summary, version, None)  # nothing of it billed: nothing to report
        if report.still_ours():
            report.finish(summary, reader.format, None)  # what this pass billed; then the note
        return _superseded(store, summary, version, at)
    summary.file_error = reader.file_error
    report.finish(summary, reader.format, reader.file_error)
    return summary


def _bill(
    repo: ClaimStore,
    workflow: Workflow,
    key: str,
    clinic_id: str | None,
    outcome: RecordOutcome,
    report: PartReport,
    summary: IntakeSummary,
) -> None:
    if outcome.encounter is None:
        report.rejected(outcome.rejections)
        return
    record = AcceptedRecord(outcome.record_number, outcome.encounter)
    if clinic_id is not None and outcome.encounter.clinic_id != clinic_id:
        report.rejected([_other_clinic(record, clinic_id)])
        return
    how, claim_id, rejection = bill_record(repo, workflow, key, record)
    if rejection is not None:
        summary.changed += how == "changed"
        report.rejected([rejection])
        return
    summary.claims_created += how == "created"
    summary.claims_existing += how == "existing"
    summary.claim_ids.append(claim_id)
    report.accept(record, claim_id)


def _other_clinic(record: AcceptedRecord, clinic_id: str) -> Rejection:
    """A record of another clinic in this clinic's folder: rejected, not billed (the folder is the
    clinic's, and its access is the clinic's: a file there never bills for another clinic)."""
    other = record.encounter.clinic_id
    reason = f"the file is in the folder of clinic {clinic_id}, the record is clinic {other}'s: not billed"
    return Rejection(record.record_number, "clinic_id", reason, record.encounter.encounter_id)


def _ingest_whole(
    repo: ClaimStore,
    store: Artifacts,
    workflow: Workflow,
    key: str,
    summary: IntakeSummary,
    start_record: int,
    out_of_time: Callable[[], bool],
    profiles: ClinicProfiles | None,
    version: ObjectVersion | None,
) -> IntakeSummary:
    """HL7 v2 and FHIR files: read whole (within MAX_EHR_FILE_BYTES), as their readers need."""
    result = read_clinic_file(key, b"".join(store.open(key, 0, version)), profiles)
    summary.file_error = result.file_error
    report_key = str(summary.report_key)
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
            summary.changed += outcome == "changed"
            if isinstance(result, FhirIntakeResult):
                answer_duplicate(result.response, record.record_number - 1, claim_id, duplicate.reason)
            continue
        if outcome == "created":
            summary.claims_created += 1
        else:
            summary.claims_existing += 1
        summary.claim_ids.append(claim_id)
    summary.records = result.records
    if isinstance(result, Hl7IntakeResult):
        for dup in duplicates:  # already billed from another file: this message's ACK is not AA
            answer_hl7_duplicate(result, dup.record_number, dup.reason)
    rejections = [*result.rejections, *duplicates]
    summary.rejected = len({r.record_number for r in rejections})
    # Every file gets its report, a clean one too: it is the clinic's receipt (claim id per encounter).
    duplicate_records = {d.record_number for d in duplicates}
    report_result = replace(
        result,
        encounters=[r for r in result.encounters if r.record_number not in duplicate_records],
        rejections=rejections,
    )
    report = intake_report(key, report_result)
    # The report is rewritten after each part of a long file; "complete" says whether more follows.
    report["complete"] = summary.continue_from is None
    if version is not None:
        report["version"] = version.token
    store.write_json(report_key, report)
    return summary


def report_key_for(source_key: str) -> str:
    """rejections/<the file's key>, with one extension: `a.json` -> `a.json`, `a.csv` -> `a.csv.json`."""
    return f"{REJECTIONS_PREFIX}{source_key}" + ("" if source_key.lower().endswith(".json") else ".json")


def bill_record(
    repo: ClaimStore, workflow: Workflow, source_key: str, record: AcceptedRecord
) -> tuple[str, str, Rejection | None]:
    """("created" | "existing", claim id, None) with the claim's execution started (idempotent: the
    execution is named by the claim id); ("duplicate", claim id, the rejection) when the same
    encounter was already received from another file or record: billed once; ("changed", claim id,
    the rejection) when it was received before with other content: reported and shown on the claim's
    timeline, never billed over it (workflow.intake_resend)."""
    claim = new_claim(record.encounter, source_key, record.record_number)
    if repo.create_claim(claim):
        outcome = "created"
    else:
        existing = repo.get_claim(claim.claim_id)
        changed = changed_fields(existing, record.encounter)
        if changed:
            note_changed_resend(repo, claim.claim_id, source_key, record.record_number, changed)
            return "changed", claim.claim_id, changed_rejection(record, existing, source_key, changed)
        if existing.source_key != source_key or existing.record_number != record.record_number:
            return "duplicate", claim.claim_id, duplicate_rejection(record, existing, source_key)
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
    return read_encounter_file(key, body, profile)


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
