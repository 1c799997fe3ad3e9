"""POST /fhir/Bundle: a FHIR R4 Bundle from a clinic's EHR -> claims, one execution each, exactly as a
file dropped under encounters/ (workflow/intake.py), and the response Bundle.

The clinic is the caller's (the API names it) and the Bundle's Organization must be that clinic's
(the reader checks `Claim.provider` / `Encounter.serviceProvider` against the profile). The Bundle is
kept under `fhir/bundles/<clinic_id>/<digest>.json`, its report under `rejections/` like a file's.

Idempotent: the key is a digest of the Bundle's content, claim ids are derived from clinic +
encounter id, and executions are named by claim id. A resent Bundle creates nothing new and gets the
same answer; a visit already billed from another Bundle or file is answered `409 Conflict` on its entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from medbill.intake import Rejection, intake_report, read_fhir_bundle
from medbill.intake.fhir.bundle import answer_duplicate
from medbill.ports import Artifacts, ClaimStore, Workflow
from medbill.prefixes import FHIR_API_PREFIX
from medbill.workflow.clinic_profiles import ClinicProfiles
from medbill.workflow.intake import bill_record, report_key_for


@dataclass
class BundleReceipt:
    source_key: str
    response: dict[str, Any]  # the response Bundle, or one OperationOutcome when the Bundle is unreadable
    file_error: str | None = None
    claims_created: int = 0
    claims_existing: int = 0  # created by an earlier delivery of this same Bundle
    rejected: int = 0  # visits (records) rejected
    claim_ids: list[str] = field(default_factory=list)


def bundle_key(clinic_id: str, body: bytes) -> str:
    """Where the Bundle is kept: named by a digest of its content (JSON re-serialised canonically, so a
    resend with other whitespace or key order is the same Bundle)."""
    try:
        canonical = json.dumps(
            json.loads(body.decode("utf-8-sig"), parse_float=Decimal),
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        ).encode()
    except (UnicodeDecodeError, ValueError, RecursionError):
        canonical = body
    return f"{FHIR_API_PREFIX}{clinic_id}/{hashlib.sha256(canonical).hexdigest()[:40]}.json"


def receive_bundle(
    repo: ClaimStore,
    store: Artifacts,
    workflow: Workflow,
    profiles: ClinicProfiles,
    clinic_id: str,
    body: bytes,
) -> BundleReceipt:
    """Bill the Bundle's visits for `clinic_id`. Raises ProfileNotFound / InvalidProfile (nothing read)."""
    profile = profiles.get(clinic_id)
    key = bundle_key(clinic_id, body)
    store.write(key, body, "application/fhir+json")
    result = read_fhir_bundle(body, profile)
    receipt = BundleReceipt(source_key=key, response=result.response, file_error=result.file_error)
    duplicates: list[Rejection] = []
    for record in result.encounters:
        how, claim_id, duplicate = bill_record(repo, workflow, key, record)
        if duplicate is not None:
            duplicates.append(duplicate)
            answer_duplicate(receipt.response, record.record_number - 1, claim_id, duplicate.reason)
            continue
        receipt.claims_created += how == "created"
        receipt.claims_existing += how == "existing"
        receipt.claim_ids.append(claim_id)
    numbers = {d.record_number for d in duplicates}
    reported = replace(
        result,
        encounters=[r for r in result.encounters if r.record_number not in numbers],
        rejections=[*result.rejections, *duplicates],
    )
    receipt.rejected = len(reported.rejected_records)
    report = intake_report(key, reported)
    report["complete"] = True
    store.write_json(report_key_for(key), report)
    return receipt
