"""Batch eligibility on the bucket: an appointments file -> its rejection report, one 270 in
`outbox/270/` and the manifest that matches its 271s back; a 271 fetched into `eligibility/271/`
-> the day's answers. The rules are in workflow.eligibility_batch; this is where files go.

The 270's BHT03 (`B` + the control number) names its manifest (`eligibility/270/<BHT03>.json`);
the 271 echoes BHT03, so the answer finds its questions without a lookup table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from medbill.ports import Artifacts, EligibilityAnswers
from medbill.prefixes import REJECTIONS_PREFIX
from medbill.workflow import eligibility_batch as batch
from medbill.x12.eligibility.reader271 import parse_271

APPOINTMENTS_PREFIX = "appointments/"  # clinics drop tomorrow's appointments here
OUTBOX_270_PREFIX = "outbox/270/"  # 270 batches for the clearinghouse
MANIFEST_PREFIX = "eligibility/270/"  # what each 270 asked, by trace (PHI: same bucket as encounters)


@dataclass(frozen=True)
class BatchPrepared:
    accepted: int
    rejected: int
    outbox_key: str | None  # None: nothing to ask
    reference: str | None


def prepare_batch(
    artifacts: Artifacts,
    key: str,
    *,
    control_number: int,
    created: datetime,
    sender_id: str,
    receiver_id: str,
    usage: str = "P",
) -> BatchPrepared:
    read = batch.read_appointments(key, artifacts.read(key))
    artifacts.write_json(f"{REJECTIONS_PREFIX}{key}.json", read.report(key))
    if not read.inquiries:
        return BatchPrepared(0, len(read.rejections), None, None)
    reference = f"B{control_number:09d}"
    x12 = batch.write_batch_270(
        read.inquiries,
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_number=control_number,
        created=created,
        usage=usage,
        reference=reference,
    )
    artifacts.write_json(f"{MANIFEST_PREFIX}{reference}.json", batch.manifest(read.inquiries))
    outbox_key = f"{OUTBOX_270_PREFIX}{reference}-{key.rsplit('/', 1)[-1]}.x12"
    artifacts.write(outbox_key, x12, "application/edi-x12")  # after the manifest: an answer always finds it
    return BatchPrepared(len(read.inquiries), len(read.rejections), outbox_key, reference)


def ingest_271(artifacts: Artifacts, answers: EligibilityAnswers, key: str, received: datetime) -> dict[str, Any]:
    """Match a fetched 271 to its 270's manifest and keep the answers for `received`'s day."""
    text = artifacts.read(key).decode("utf-8", errors="replace")
    responses, _ = parse_271(text)
    asked: dict[str, Any] = {}
    missing: list[str] = []
    for reference in dict.fromkeys(r.reference for r in responses):
        try:
            asked.update(json.loads(artifacts.read(f"{MANIFEST_PREFIX}{reference}.json")))
        except Exception:
            missing.append(reference[:50])
    summary = batch.match_271(text, asked, answers, received)
    return asdict(summary) | {"manifests_missing": missing}
