"""An encounter that arrives again: the same (a redelivery or a duplicate) or changed (a correction).

The claim keeps a fingerprint of the encounter as the clinic first sent it (one digest per field,
salted with the claim id), so a later copy is compared with what was received, not with the claim's
encounter as stages changed it since (a payer's corrected member id, say). A changed copy is never
billed over the claim and never dropped silently: the file's report names the changed fields (never
their values) and what to do, and the claim's timeline gets an `encounter_resent_changed` event
naming the same fields, the file and the record, and the claim goes on the `resent_changed`
worklist with the field names until a person resolves it (workflow.resent_changes).
"""

from __future__ import annotations

import hashlib
from typing import Any

from medbill.billing.claim_updates import with_lock_retry
from medbill.intake import AcceptedRecord, Rejection
from medbill.models.claim import Claim
from medbill.models.common import utcnow
from medbill.models.encounter import Encounter
from medbill.ports import ClaimStore
from medbill.workflow.clinic_profiles import clinic_of_key

RESENT_CHANGED = "encounter_resent_changed"
_FIELDS_SHOWN = 12


def _leaves(value: Any) -> dict[str, str]:
    """Dotted path (1-based list indices) -> the value as text, for every leaf of a JSON document."""
    found: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}.{n}" if path else str(n), v) for n, v in enumerate(item, start=1))
        elif item is not None:
            found[path] = str(item)
    return found


def fingerprint(claim_id: str, encounter: Encounter) -> dict[str, str]:
    """Field path -> a digest of its value (16 hex digits; the claim id salts it)."""
    salt = hashlib.sha256(claim_id.encode())
    found: dict[str, str] = {}
    for path, text in _leaves(encounter.model_dump(mode="json", exclude_none=True)).items():
        digest = salt.copy()
        digest.update(f"\x1f{path}\x1f{text}".encode())
        found[path] = digest.hexdigest()[:16]
    return found


def changed_fields(existing: Claim, encounter: Encounter) -> list[str]:
    """The fields in which `encounter` differs from what the claim was first received with (names only)."""
    before = existing.received or fingerprint(existing.claim_id, existing.encounter)
    after = fingerprint(existing.claim_id, encounter)
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def _names(fields: list[str]) -> str:
    shown = ", ".join(fields[:_FIELDS_SHOWN])
    more = len(fields) - _FIELDS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def earlier_file(existing: Claim, source_key: str) -> str:
    """How a report names the file the claim came from: by key only when it is this clinic's file (the
    same clinic folder), else "an earlier file": a report never names another clinic's file."""
    clinic = clinic_of_key(source_key)
    if existing.source_key == source_key:
        return "an earlier copy of this file"
    if clinic is not None and clinic_of_key(existing.source_key) == clinic:
        return existing.source_key
    return "an earlier file"


def changed_rejection(record: AcceptedRecord, existing: Claim, source_key: str, fields: list[str]) -> Rejection:
    eid = record.encounter.encounter_id
    reason = (
        f"encounter {eid} was already received as claim {existing.claim_id} from {earlier_file(existing, source_key)} "
        f"(record {existing.record_number}) and this copy changes {_names(fields)}: not billed; the claim keeps the "
        "first copy and is on the resent_changed worklist for billing staff to correct the claim or keep it"
    )
    return Rejection(record.record_number, "encounter_id", reason, eid)


def duplicate_rejection(record: AcceptedRecord, existing: Claim, source_key: str) -> Rejection:
    eid = record.encounter.encounter_id
    reason = (
        f"encounter {eid} was already received as claim {existing.claim_id} from {earlier_file(existing, source_key)} "
        f"(record {existing.record_number}); not billed twice"
    )
    return Rejection(record.record_number, "encounter_id", reason, eid)


def note_changed_resend(
    repo: ClaimStore, claim_id: str, source_key: str, record_number: int, fields: list[str]
) -> None:
    """The claim's timeline event naming the changed fields, and the claim on the `resent_changed`
    worklist with them until staff resolve it (workflow.resent_changes). Once per file and record: a
    redelivered file adds nothing and does not reopen a change staff already resolved."""
    detail = {"event": RESENT_CHANGED, "source_key": source_key, "record_number": record_number, "fields": fields}
    if any(e.detail == detail for e in repo.events(claim_id)):
        return

    def put_before_staff(claim: Claim) -> Claim:
        claim.resent_changes = sorted(set(claim.resent_changes) | set(fields))
        claim.resent_changed_at = claim.resent_changed_at or utcnow()
        return repo.save(claim, actor="intake", detail=detail)

    with_lock_retry(repo, claim_id, put_before_staff)
