"""The demo's clearinghouse answers (issue 15): the encounters in events/clearinghouse/ get a 999
error, a 277CA rejection and no 835 at all from the payer simulator (payer_rules.json "scenarios").
After the lifecycle, one run of the claim status schedule "31 days later" asks about the quiet claim
with a 276 through the SFTP clearinghouse and reads the 277 answer. These claims are reported in
their own section, so the main table and its totals stay those of events/encounters/.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra import config
from infra.local.runtime import LocalRuntime

SAMPLES = config.REPO_ROOT / "events" / "clearinghouse"
INQUIRY_AFTER = timedelta(days=31)  # past every payer's status_remittance_days (payer_policies.json)
_MONEY = ("billed", "paid", "adjustments", "patient_responsibility")
# The demo's waits: the local ones, with a remittance wait long enough that the quiet claim is still
# waiting (ACCEPTED) when the status inquiry runs, and the 999 / 277CA rejections still find their
# claims waiting, on a loaded machine too (the local 120 s ran out at load 20 on 2 cores).
TIMEOUTS = config.WorkflowTimeouts(remittance_wait_seconds=900, staff_hold_seconds=600, retry_interval_seconds=1)


def upload(rt: LocalRuntime, samples: Path | None = SAMPLES) -> list[str]:
    """Upload the clearinghouse samples like any encounter file; their keys."""
    if samples is None or not samples.is_dir():
        return []
    keys = []
    for path in sorted(p for p in samples.iterdir() if p.suffix in (".json", ".csv", ".jsonl")):
        key = f"{config.ENCOUNTERS_PREFIX}{path.name}"
        rt.upload(key, path.read_bytes())
        print(f"  uploaded s3://{rt.resources.bucket}/{key} (clearinghouse answers)")
        keys.append(key)
    return keys


def ask_claim_status(rt: LocalRuntime, timeout_s: float) -> dict[str, Any]:
    """The status inquiry schedule as if INQUIRY_AFTER had passed, then until the 277s are read."""
    from medbill.models.common import utcnow

    run = rt.ask_claim_status(utcnow() + INQUIRY_AFTER)
    rt.run_until_idle(timeout_s=timeout_s)
    return run.as_dict()  # type: ignore[no-any-return]


def split(summary: dict[str, Any], keys: list[str], inquiry: dict[str, Any] | None) -> None:
    """Move the clearinghouse samples' claims out of the main table (and its totals and status
    counts) into summary["clearinghouse"], with the answers that moved them."""
    from medbill.entry import wiring

    if not keys:
        return
    repo = wiring.repository()
    ours = {row["claim_id"]: row for row in summary["claims"] if repo.get_claim(row["claim_id"]).source_key in keys}
    summary["claims"] = [row for row in summary["claims"] if row["claim_id"] not in ours]
    totals = summary["totals"]
    for row in ours.values():
        for k in _MONEY:
            totals[k] = f"{Decimal(totals[k]) - Decimal(row[k]):.2f}"
        summary["statuses"][row["status"]] -= 1
        if not summary["statuses"][row["status"]]:
            del summary["statuses"][row["status"]]
    section = []
    for claim_id, row in sorted(ours.items(), key=lambda kv: kv[1]["encounter_id"]):
        claim = repo.get_claim(claim_id)
        answers = [
            {"kind": a.kind, "verdict": a.verdict, "codes": a.codes, "reason": a.reason, "file": a.key}
            for a in claim.acknowledgements
        ]
        section.append(
            {
                "claim_id": claim_id,
                "encounter_id": row["encounter_id"],
                "status": claim.status.value,
                "follow_up_action": claim.follow_up_action,
                "rejection_reason": claim.rejection_reason,
                "status_inquiry": claim.status_inquiry.key if claim.status_inquiry else None,
                "answers": answers,
            }
        )
    summary["clearinghouse"] = {"claims": section, "status_inquiry": inquiry}


def print_section(summary: dict[str, Any]) -> None:
    section = summary.get("clearinghouse")
    if not section:
        return
    print("clearinghouse answers (events/clearinghouse/):")
    for c in section["claims"]:
        verdicts = ", ".join(f"{a['kind']} {a['verdict']}" for a in c["answers"]) or "none"
        follow = f" -> {c['follow_up_action']}" if c["follow_up_action"] else ""
        print(f"  {c['claim_id']:<20} {c['encounter_id']:<19} {c['status']:<10}{follow}  answers: {verdicts}")
        reason = c["rejection_reason"] or next((a["reason"] for a in c["answers"] if a["kind"] == "277"), None)
        if reason:
            print(f"      {reason if len(reason) <= 150 else reason[:147] + '...'}")
    inquiry = section.get("status_inquiry") or {}
    files = ", ".join(inquiry.get("files", [])) or "none"
    print(
        f"claim status inquiry (as if {INQUIRY_AFTER.days} days later): {inquiry.get('asked', 0)} claim(s) in {files}"
    )
