"""The local pipeline against its floor (issue 13 item 5).

Ours: N encounters (MEDBILL_BENCH_PIPELINE_ENCOUNTERS, default 1,000) in files of
MEDBILL_BENCH_PIPELINE_FILE_RECORDS (default 100) dropped under `encounters/` on `LocalRuntime`
(in-process moto, our handlers, the payer simulator behind the real SFTP server, the CORE
eligibility endpoint), timed from the first upload to idle: intake, one execution per claim
(registration, eligibility over CORE, coding, charges, submission of an 837P), the clearinghouse
exchange and the payer's 999 / 277CA / 835, remittance, posting, the route. Every claim must end
posted (PAID, or FOLLOW_UP after its 835), every execution SUCCEEDED; otherwise the row says so.
The encounters rotate through three sample records (bench_cost.KINDS: paid, denied, copay).

The floor: the same ASL (`infra/statemachine/claim.asl.json`, provisioned the same way) on a fresh
`LocalRuntime` in the same process, with no-op handlers: intake reads the file and starts one
execution per id, each task returns the fields the state machine reads, the remittance wait keeps
its token in memory; when every execution waits, one ERA-like file under `era/` goes through the
remittance queue, a no-op remittance sends one posting message per claim (SendMessageBatch), and a
no-op posting resumes each execution with the same outcome rotation (paid -> Close, the others ->
FollowUp). Same files, queues, S3 notifications, poller and Step Functions interpreter; no
DynamoDB, no X12, no payer, no domain code. The ratio ours / floor is what the domain and the
payer's round trip cost on top of the emulator itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import time
import urllib.parse
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bench.bench_cost import BENCH_TIMEOUTS_ARGS, KINDS, QUIET_HANDLERS, SAMPLE  # noqa: E402
from infra.config import WorkflowTimeouts  # noqa: E402

ENCOUNTERS = int(os.environ.get("MEDBILL_BENCH_PIPELINE_ENCOUNTERS", "1000"))
FILE_RECORDS = int(os.environ.get("MEDBILL_BENCH_PIPELINE_FILE_RECORDS", "100"))
BENCH_TIMEOUTS = WorkflowTimeouts(**BENCH_TIMEOUTS_ARGS)
EXCHANGE_PACING = 2.0  # LocalRuntime: the next clearinghouse round after twice the last one's time (>= 1 s)
OUTCOMES = ("paid", "denied", "short_paid")  # the floor's posting answers, in KINDS' order


def encounter_files(n: int, per_file: int) -> list[list[dict[str, Any]]]:
    records = {r["encounter_id"]: r for r in json.loads(SAMPLE.read_text())}
    bases = [records[sample] for sample, _, _ in KINDS.values()]
    out: list[dict[str, Any]] = []
    for i in range(n):
        record = json.loads(json.dumps(bases[i % len(bases)]))
        record["encounter_id"] = f"{record['encounter_id']}-P{i:05d}"
        out.append(record)
    return [out[i : i + per_file] for i in range(0, n, per_file)]


# --- the floor: no-op tasks on the same state machine ------------------------------------------------
class NoopPipeline:
    """Handlers that do nothing but what the state machine and the queues need to move on."""

    def __init__(self) -> None:
        self.rt: Any = None
        self.tokens: dict[str, str] = {}
        self.outcome: dict[str, str] = {}

    def handlers(self) -> dict[str, Any]:
        fixed = {
            "registration": {"patient_id": "P0"},
            "eligibility": {"decision": "verified"},
            "coding": {"decision": "coded"},
            "charges": {"total_charge": "0.00"},
            "submission": {"interchange_control_number": "000000001"},
            "followup": {"status": "FOLLOW_UP", "action": "noop"},
        }
        handlers: dict[str, Any] = {name: (lambda value: lambda event, context: value)(v) for name, v in fixed.items()}
        handlers.update(
            intake=self.intake, await_token=self.await_token, remittance=self.remittance, posting=self.posting
        )
        handlers["api"] = lambda event, context: {"statusCode": 404}
        handlers["acks"] = lambda event, context: {"batchItemFailures": []}  # no 999 / 277CA in the floor
        # no 271 batches either; the queue still gets moto's s3:TestEvent, which needs a consumer
        handlers["eligibility_271"] = lambda event, context: {"batchItemFailures": []}
        return handlers

    def _objects(self, event: dict[str, Any]) -> list[bytes]:
        bodies = []
        for record in event.get("Records", []):
            body = json.loads(record["body"])
            for s3_record in body.get("Records", []):  # the s3:TestEvent has none
                key = urllib.parse.unquote_plus(s3_record["s3"]["object"]["key"])  # S3 event keys are URL-encoded
                bodies.append(self.rt.read(key))
        return bodies

    def intake(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        arn = self.rt.resources.state_machine_arn
        for body in self._objects(event):
            for n, record in enumerate(json.loads(body)):
                claim_id = record["encounter_id"].replace("-", "")[-19:]
                self.outcome[claim_id] = OUTCOMES[int(record["encounter_id"][-5:]) % len(OUTCOMES)]
                self.rt.sfn.start_execution(
                    stateMachineArn=arn, name=claim_id, input=json.dumps({"claim_id": claim_id, "clinic_id": "floor"})
                )
                del n
        return {"batchItemFailures": []}

    def await_token(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.tokens[event["claim_id"]] = event["task_token"]
        return {"waiting": True}

    def remittance(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        url = next(q.url for q in self.rt.resources.queues.values() if q.spec.consumer == "posting")
        for body in self._objects(event):
            ids = json.loads(body)
            for i in range(0, len(ids), 10):
                entries = [
                    {"Id": str(n), "MessageBody": json.dumps({"claim_id": c})} for n, c in enumerate(ids[i : i + 10])
                ]
                self.rt.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        return {"batchItemFailures": []}

    def posting(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event.get("Records", []):
            claim_id = json.loads(record["body"])["claim_id"]
            self.rt.sfn.send_task_success(
                taskToken=self.tokens.pop(claim_id), output=json.dumps({"outcome": self.outcome[claim_id]})
            )
        return {"batchItemFailures": []}


def run_floor(files: list[list[dict[str, Any]]], timeout_s: float) -> tuple[float, Counter[str]]:
    from infra.local.runtime import LocalRuntime

    noop = NoopPipeline()
    n = sum(len(f) for f in files)
    with LocalRuntime(
        noop.handlers(), simulator=False, core_endpoint=False, extra_env=QUIET_HANDLERS, timeouts=BENCH_TIMEOUTS
    ) as rt:
        noop.rt = rt
        rt.run_until_idle(timeout_s=60, interval_s=0.0)
        start = time.perf_counter()
        for i, records in enumerate(files):
            rt.upload(f"encounters/floor-{i:04d}.json", json.dumps(records))
        rt.run_until(lambda: len(noop.tokens) == n, timeout_s=timeout_s, interval_s=0.0)
        rt.upload("era/floor.835", json.dumps(sorted(noop.tokens)))
        rt.run_until_idle(timeout_s=timeout_s, interval_s=0.0)
        seconds = time.perf_counter() - start
        statuses = Counter(e["status"] for e in rt.list_executions())
    return seconds, statuses


def run_ours(files: list[list[dict[str, Any]]], timeout_s: float) -> tuple[float, Counter[str], Counter[str], int, int]:
    from bench.bench_posting import dynamodb_costs_per_item
    from infra.local.runtime import LocalRuntime
    from medbill.entry import wiring

    with contextlib.ExitStack() as stack:
        stack.enter_context(dynamodb_costs_per_item())
        # The exchange paced like AWS's schedule: unpaced, listing 1,000 outbox files on every pump took
        # three quarters of the run's time at 1,000 encounters (py-spy), not the handlers.
        rt = stack.enter_context(
            LocalRuntime(extra_env=QUIET_HANDLERS, timeouts=BENCH_TIMEOUTS, exchange_pacing=EXCHANGE_PACING)
        )
        stack.callback(wiring.reset)
        wiring.reset()
        rt.run_until_idle(timeout_s=60, interval_s=0.0)
        start = time.perf_counter()
        for i, records in enumerate(files):
            rt.upload(f"encounters/pipeline-{i:04d}.json", json.dumps(records))
        rt.run_until_idle(timeout_s=timeout_s, interval_s=0.0)
        seconds = time.perf_counter() - start
        executions = rt.list_executions()
        statuses = Counter(e["status"] for e in executions)
        repo = wiring.repository()
        claims = Counter(repo.get_claim(e["name"]).status.value for e in executions)
        claim_files = len(rt.list_keys("outbox/837/"))
        failures = len(rt.failures) + sum(rt.poller.dlq_depths().values())
    return seconds, statuses, claims, claim_files, failures


def run() -> list[dict[str, Any]]:
    saved_env = dict(os.environ)
    logging.getLogger("medbill").setLevel(logging.WARNING)
    files = encounter_files(ENCOUNTERS, FILE_RECORDS)
    n = ENCOUNTERS
    # 100 encounters took 222 s on a quiet machine, 400 took ~750 s: 6 s an encounter leaves room for load.
    timeout = 300 + 6.0 * n
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        floor_s, floor_statuses = run_floor(files, timeout)
        ours_s, statuses, claims, claim_files, failures = run_ours(files, timeout)
    os.environ.clear()
    os.environ.update(saved_env)
    problems = []
    if floor_statuses != Counter({"SUCCEEDED": n}):
        problems.append(f"floor executions {dict(floor_statuses)}")
    if statuses != Counter({"SUCCEEDED": n}):
        problems.append(f"executions {dict(statuses)}")
    expected = Counter(KINDS[k][1] for k in list(KINDS) * (n // len(KINDS)) + list(KINDS)[: n % len(KINDS)])
    if claims != expected:
        problems.append(f"claims {dict(claims)}, expected {dict(expected)}")
    if failures:
        problems.append(f"{failures} handler failures or dead letters")
    for problem in problems:
        print(f"bench_pipeline: {problem}", file=sys.stderr)
    mark = "!! " + "; ".join(problems) + " !! " if problems else ""
    ours, floor = n / ours_s, n / floor_s
    return [
        {
            "benchmark": f"local pipeline, {n:,} encounters in {len(files)} files: drop to 837P and posted 835",
            "unit": "claims/s",
            "ours": round(ours, 2),
            "peer": "floor: the same state machine, queues and files with no-op tasks (same emulator, same run)",
            "peer_value": round(floor, 2),
            "ratio": round(ours / floor, 3) if floor else None,
            "note": (
                f"{mark}ours {ours_s:.1f}s, floor {floor_s:.1f}s; claims {dict(sorted(claims.items()))};"
                f" {claim_files} 837P files; one process, one handler at a time (moto's Step Functions"
                " threads share the Lambda bridge's lock); moto with per-item DynamoDB costs (bench_posting)"
            ),
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
