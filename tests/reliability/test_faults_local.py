"""Fault injection over the whole local runtime (issue 12, item 5): the project's handlers behind a
fault-injecting bridge (tests/reliability/faults.py), the real ASL on moto, the payer simulator
answering every 837P with 999 / 277CA / 835 files.

N claims (MEDBILL_RELIABILITY_CLAIMS, 8 in the normal suite; `make reliability` runs more), seeded
(MEDBILL_RELIABILITY_SEED). Phase 1 runs the workload with faults; phase 2 is what operations does:
faults off, redrive every DLQ, retry every FAILED or stuck claim through workflow.recovery, until idle.
Then the invariants:

1. every record ends as a claim or a line of its file's report (never both, never neither);
2. every message was processed or sits in a DLQ (after the redrive: every queue and DLQ is empty);
3. every remitted claim's money balances to the cent (charge = paid + adjustments + patient
   responsibility) and every ERA reconciles;
4. nothing is done twice: one 837P per claim, one ledger entry per claim payment, the claim's paid
   amount the sum of its postings;
5. every FAILED claim was recoverable: none is FAILED or stuck at the end.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from infra import config
from infra.local.lambda_bridge import INVOCATION_LOCK
from infra.local.runtime import LocalRuntime
from medbill.adapters.stepfunctions import WorkflowGateway
from medbill.billing.era import reconciliation
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.status import HOLD_STATUSES
from medbill.models.status import ClaimStatus as S
from medbill.workflow.intake import report_key_for
from medbill.workflow.recovery import retry_claim, stuck_claims
from tests.reliability.faults import FaultPlan, faulty_resolver

N = int(os.environ.get("MEDBILL_RELIABILITY_CLAIMS", "8"))
SEED = int(os.environ.get("MEDBILL_RELIABILITY_SEED", "12"))
OUT = os.environ.get("MEDBILL_RELIABILITY_OUT")  # where `make reliability` keeps the figures
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
TIMEOUTS = config.WorkflowTimeouts(
    remittance_wait_seconds=900, staff_hold_seconds=900, retry_interval_seconds=1, retry_max_delay_seconds=2
)
SAMPLE = config.REPO_ROOT / "events" / "encounters" / "northside-2026-11-20.json"
KEY = "encounters/clinic-northside/reliability.json"
STAFF = "staff:reliability:suite"


def workload(n: int) -> list[dict[str, Any]]:
    """n encounters cycling through the sample file's records (paid, short-paid, denied, holds and
    one record that fails validation), each with its own encounter id."""
    samples = json.loads(SAMPLE.read_text())
    return [{**samples[i % len(samples)], "encounter_id": f"REL-{i + 1:05d}"} for i in range(n)]


def _claims() -> list[Claim]:
    repo = wiring.repository()
    page = repo.list_claims(limit=100)
    items = list(page.items)
    while page.next_token:
        page = repo.list_claims(limit=100, next_token=page.next_token)
        items += page.items
    return items


def _redrive(rt: LocalRuntime) -> int:
    """Move every DLQ message back to its queue (what a person does after fixing the cause)."""
    moved = 0
    for queue in rt.resources.queues.values():
        while True:
            got = rt.sqs.receive_message(QueueUrl=queue.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                break
            for m in messages:
                rt.sqs.send_message(QueueUrl=queue.url, MessageBody=m["Body"])
                rt.sqs.delete_message(QueueUrl=queue.dlq_url, ReceiptHandle=m["ReceiptHandle"])
                moved += 1
    return moved


def _recover(rt: LocalRuntime, gateway: WorkflowGateway) -> int:
    """Retry every FAILED or stuck claim (the staff action), until none is left; how many retries."""
    repo = wiring.repository()
    retried = 0
    for _ in range(5):
        rt.run_until_idle(timeout_s=600)
        todo = [c.claim_id for c in _claims() if c.status == S.FAILED]
        todo += [s.claim_id for s in stuck_claims(repo, gateway)]
        if not todo:
            return retried
        for claim_id in todo:
            # One invocation at a time, as the api handler runs in the bridge: moto's backends are not
            # thread-safe, and the retried executions' handlers start at once.
            with INVOCATION_LOCK:
                retry_claim(repo, gateway, claim_id, STAFF)
            retried += 1
    return retried


def _waiting_outside_holds(
    rt: LocalRuntime, claims: dict[str, Claim], running: dict[str, str], holds: set[str]
) -> dict[str, dict[str, Any]]:
    """Each running execution of a claim that is not waiting on a person: the claim's status and
    attempt, whether it holds a task token, and the state the execution is in (ids and names only)."""
    out: dict[str, dict[str, Any]] = {}
    for name, arn in sorted(running.items()):
        claim_id = name.split("-r")[0]
        if claim_id in holds:
            continue
        # moto ignores reverseOrder and maxResults: all the events, newest by id
        events = sorted(rt.sfn.get_execution_history(executionArn=arn)["events"], key=lambda e: e["id"])
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        claim = claims.get(claim_id)
        out[name] = {
            "status": claim.status.value if claim else None,
            "attempt": claim.attempt if claim else None,
            "task_token": bool(claim and claim.task_token),
            "remittance_outcome": claim.remittance_outcome if claim else None,
            "state": entered[-1] if entered else None,
            "last_event": events[-1]["type"] if events else None,
        }
    return out


@pytest.mark.reliability
def test_faults_lose_nothing_and_every_failed_claim_recovers(capsys: pytest.CaptureFixture[str]) -> None:
    plan = FaultPlan(seed=SEED)
    started = time.monotonic()
    # The clearinghouse round paced as the scheduled exchange in AWS (the pipeline bench does the same):
    # run on every pump it lists every 837P so far each time, and dominates a large run.
    runtime = LocalRuntime(extra_env=QUIET, timeouts=TIMEOUTS, visibility_timeout_seconds=1, exchange_pacing=2)
    runtime.bridge.resolver = faulty_resolver(plan)
    with runtime as rt:
        wiring.reset()
        records = workload(N)
        rt.upload(KEY, json.dumps(records))
        rt.run_until_idle(timeout_s=60 + 20 * N)
        dlq_after_faults = sum(rt.poller.dlq_depths().values())
        failed_after_faults = sum(1 for c in _claims() if c.status == S.FAILED)

        plan.enabled = False
        redriven = _redrive(rt)
        gateway = WorkflowGateway(rt.resources.state_machine_arn, rt.sfn)
        retried = _recover(rt, gateway)
        rt.run_until_idle(timeout_s=600)
        claims = {c.claim_id: c for c in _claims()}
        repo = wiring.repository()

        # 1. every record: a claim or a report line
        report = json.loads(rt.read(report_key_for(KEY)))
        rejected = {r["record_number"] for r in report["rejections"]}
        claimed = {c.record_number for c in claims.values() if c.source_key == KEY}
        assert claimed.isdisjoint(rejected)
        assert claimed | rejected == set(range(1, N + 1))
        assert {a["claim_id"] for a in report["accepted"]} == set(claims)

        # 2. every message processed (after the redrive no queue or DLQ holds one)
        assert not any(rt.queue_depths().values()) and not any(rt.poller.dlq_depths().values())

        # 3. money balances, ERAs reconcile
        zero = Decimal("0.00")
        for claim in claims.values():
            if claim.remittance_outcome in ("paid", "short_paid", "denied"):
                money = claim.paid_amount + claim.adjustment_amount + claim.patient_responsibility
                assert money == claim.total_charge, claim.claim_id
        headers, token = repo.list_eras(limit=100)
        while token:
            more, token = repo.list_eras(limit=100, next_token=token)
            headers += more
        for header in headers:
            rec = reconciliation(repo, header["era_id"]) or {}
            assert rec.get("reconciled") is True, header["era_id"]

        # 4. nothing twice: one 837P per claim and payer billed (a secondary is the claim's second file,
        # decision 29), one posting per claim payment
        outbox = Counter(k.rsplit("/", 1)[-1].split("-")[0] for k in rt.list_keys(config.OUTBOX_837_PREFIX))
        assert dict(outbox) == {c.claim_id: c.payer_sequence for c in claims.values() if c.filing is not None}
        posted = 0
        for claim in claims.values():
            entries = repo.ledger_entries(claim.claim_id)
            posted += len(entries)
            assert len({e.source for e in entries}) == len(entries)
            assert sum((e.paid for e in entries if e.kind == "payment"), zero) == claim.paid_amount, claim.claim_id

        # 5. none FAILED or stuck; every execution done but the holds' waits
        assert [c.claim_id for c in claims.values() if c.status == S.FAILED] == []
        assert stuck_claims(repo, gateway) == []
        running = {e["name"]: e["executionArn"] for e in rt.list_executions(status="RUNNING")}
        holds = {c.claim_id for c in claims.values() if c.status in HOLD_STATUSES}
        assert _waiting_outside_holds(rt, claims, running, holds) == {}

        figures = {
            "claims_requested": N,
            "seed": SEED,
            "claims": len(claims),
            "rejected_records": len(rejected),
            "statuses": dict(sorted(Counter(c.status.value for c in claims.values()).items())),
            "faults": dict(sorted((k, v) for k, v in plan.counts.items() if not k.startswith("invocations:"))),
            "invocations": sum(v for k, v in plan.counts.items() if k.startswith("invocations:")),
            "dlq_messages_after_faults": dlq_after_faults,
            "redriven": redriven,
            "failed_after_faults": failed_after_faults,
            "retried_by_staff_action": retried,
            "ledger_entries": posted,
            "eras": len(headers),
            "837p_files": sum(outbox.values()),
            "seconds": round(time.monotonic() - started, 1),
        }
    with capsys.disabled():
        print("\nreliability (fault injection, local runtime):", json.dumps(figures))
    if OUT:
        Path(OUT).write_text(json.dumps(figures, indent=2) + "\n")
