"""The price of a claim (issue 13 item 4): counted on the local runtime, priced at AWS list prices.

Three kinds of claim run the whole lifecycle on `LocalRuntime` (in-process moto, our real handlers,
the payer simulator behind the real SFTP server, the CORE eligibility endpoint): an encounter file
drop -> intake -> the claim state machine (registration, eligibility, coding, charges, submission)
-> the clearinghouse exchange (837P out, 999 / 277CA / 835 back) -> remittance -> posting -> route
(Close, or follow-up). The encounters are records of `events/encounters/northside-2026-11-20.json`
whose outcome the simulator's rules fix: PAYERC03 99203 + 93000 is paid as expected (CO-45 only),
PAYERC03 97110 is denied (CO-50), PAYERA01 99213 leaves a copay (PR-3) that PAYERE05, the
encounter's second coverage, pays as the secondary.

Counted, never assumed (bench/aws_meter.py): Lambda invocations and each handler's measured time
(GB-seconds at the function's configured memory, `infra.config.FUNCTIONS`), Step Functions state
transitions (the executions' histories), DynamoDB read and write request units (from item sizes
in moto's tables, global secondary index writes included), SQS requests (our sends, the S3 event
notifications, and the event source mapping's receives and deletes: the poller's non-empty
receives), S3 requests by tier, Secrets Manager calls. KMS: the data bucket uses S3 Bucket Keys and
DynamoDB, SQS and Step Functions cache data keys, so KMS requests are per key-reuse period, not per
claim; the row gives the upper bound (every S3 object request of the data bucket calling KMS).

A claim billed to a secondary is measured: NS-20261116-001 (PAYERA01 99213 leaves a PR-3 copay)
carries a second coverage (PAYERE05), so the follow-up bills it to that payer as a secondary 837P
with the primary's adjudication (workflow.next_payer, billing.cob) in the same execution, and the
simulator's PAYERE05 pays the rest: the claim ends PAID. Its row counts both payers' cycles.

Warm-up: one claim of each kind runs first and is not counted (cold starts: their import time is
the separate cold-start rows, measured in a fresh interpreter per handler).

Size: MEDBILL_BENCH_COST_CLAIMS claims per kind (default 10). MEDBILL_BENCH_COST_DUMP=<file> writes
every caller's requests and the partitions, indexes and S3 prefixes they reached (JSON), the
recording infra/constructs/permissions.py's lists are checked against.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import subprocess
import sys
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bench.aws_meter import OUTSIDE, Meter, Usage, as_json, state_transitions  # noqa: E402
from bench.aws_prices import PRICES_AS_OF, price  # noqa: E402

CLAIMS = int(os.environ.get("MEDBILL_BENCH_COST_CLAIMS", "10"))
COLD_START_REPEATS = int(os.environ.get("MEDBILL_BENCH_COLD_REPEATS", "3"))
QUIET_HANDLERS = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
# The remittance wait long enough that no claim times out while a long run works through its queue.
BENCH_TIMEOUTS_ARGS = {"remittance_wait_seconds": 24 * 3600, "staff_hold_seconds": 600, "retry_interval_seconds": 1}
SAMPLE = _ROOT / "events" / "encounters" / "northside-2026-11-20.json"
# kind -> (sample encounter id, expected status, expected follow-up action)
KINDS = {
    "paid in full": ("NS-20261120-008", "PAID", None),
    "denied": ("NS-20261120-009", "FOLLOW_UP", "appeal"),
    # primary PAYERA01 leaves PR-3, billed to PAYERE05 as the secondary, which pays it: PAID
    "billed to a secondary": ("NS-20261116-001", "PAID", None),
}
ESM = "sqs event source mapping"
EXCHANGE = "clearinghouse"  # the scheduled exchange Lambda's use case (run by the local clearinghouse)
PAYER = "payer simulator"  # the clearinghouse and payers: not ours, not priced
CLINIC = "clinic upload"  # the clinic's PutObject of the encounter file (billed to the bucket owner)


# --- pricing ------------------------------------------------------------------------------------
def memory_mb(caller: str) -> int:
    from infra import config

    spec = config.FUNCTIONS.get(caller) or config.PENDING_FUNCTIONS.get(caller)
    return spec.memory_mb if spec is not None else 0


def priced(usage: dict[str, Usage], transitions: int, claims: int) -> dict[str, Decimal]:
    """USD per claim by component, for the callers AWS bills us for."""
    total = Usage()
    gb_seconds = Decimal(0)
    for caller, u in usage.items():
        if caller in (OUTSIDE, PAYER):
            continue
        total.add(u)
        gb_seconds += Decimal(u.billed_ms) / 1000 * Decimal(memory_mb(caller)) / 1024
    # The exchange runs on a schedule (a fixed number of invocations a day, docs/cost.md): its time
    # per claim is counted above, its invocations are not per claim.
    invocations = sum(u.invocations for c, u in usage.items() if c not in (OUTSIDE, PAYER, EXCHANGE))
    data_object_requests = total.requests[("s3", "PutObject")] + total.requests[("s3", "GetObject")]
    secrets = sum(n for (service, _), n in total.requests.items() if service == "secretsmanager")
    parts = {
        "lambda requests": invocations * price("lambda_request"),
        "lambda GB-s": gb_seconds * price("lambda_gb_second"),
        "step functions": transitions * price("sfn_transition"),
        "dynamodb writes": Decimal(str(total.write_units)) * price("dynamodb_write_unit"),
        "dynamodb reads": Decimal(str(total.read_units)) * price("dynamodb_read_unit"),
        "sqs": (total.sqs_requests + total.s3_notifications) * price("sqs_request"),
        "s3": total.s3_tier1 * price("s3_tier1") + total.s3_tier2 * price("s3_tier2"),
        "kms (upper bound)": data_object_requests * price("kms_request"),
        "secrets manager": secrets * price("secrets_request"),
    }
    return {k: v / claims for k, v in parts.items()}


def usage_note(usage: dict[str, Usage], transitions: int, claims: int) -> str:
    billed = {c: u for c, u in usage.items() if c not in (OUTSIDE, PAYER)}
    total = Usage()
    for u in billed.values():
        total.add(u)
    lambdas = ", ".join(
        f"{c} {u.invocations / claims:.1f}x{u.billed_ms / max(u.invocations, 1):.0f}ms@{memory_mb(c)}MB"
        for c, u in sorted(billed.items())
        if u.invocations
    )
    sqs = total.sqs_requests + total.s3_notifications
    return (
        f"per claim: {transitions / claims:.1f} transitions; Lambda {lambdas}; exchange"
        f" {billed.get(EXCHANGE, Usage()).billed_ms / claims:.0f} ms; DynamoDB {total.write_units / claims:.1f} WRU"
        f" {total.read_units / claims:.1f} RRU ({_dynamodb_calls(total, claims)}); SQS {sqs / claims:.1f} requests;"
        f" S3 {total.s3_tier1 / claims:.1f} PUT/LIST {total.s3_tier2 / claims:.1f} GET"
    )


def _dynamodb_calls(total: Usage, claims: int) -> str:
    calls = {op: n for (service, op), n in total.requests.items() if service == "dynamodb"}
    return ", ".join(f"{op} {n / claims:.1f}" for op, n in sorted(calls.items(), key=lambda kv: -kv[1]))


def dollars(value: Decimal) -> str:
    return f"${value:.6f}"


# --- the run --------------------------------------------------------------------------------------
def encounter_file(kind: str, copies: int, tag: str) -> str:
    records = {r["encounter_id"]: r for r in json.loads(SAMPLE.read_text())}
    base = records[KINDS[kind][0]]
    out = []
    for i in range(copies):
        record = json.loads(json.dumps(base))
        record["encounter_id"] = f"{base['encounter_id']}-{tag}{i:04d}"
        out.append(record)
    return json.dumps(out)


def run_kind(rt: Any, meter: Meter, kind: str, copies: int, tag: str) -> tuple[dict[str, Usage], list[str]]:
    before_ids = {e["name"] for e in rt.list_executions()}
    before = meter.snapshot()
    with meter.calling_as(CLINIC):
        rt.upload(f"encounters/bench-cost-{tag}.json", encounter_file(kind, copies, tag))
    rt.run_until_idle(timeout_s=120 + 30 * copies, interval_s=0.0)
    after = meter.snapshot()
    usage = {c: u.minus(before.get(c, Usage())) for c, u in after.items()}
    new_ids = sorted({e["name"] for e in rt.list_executions()} - before_ids)
    return usage, new_ids


def check(rt: Any, kind: str, claim_ids: list[str], copies: int) -> list[str]:
    from medbill.entry import wiring

    problems = []
    if len(claim_ids) != copies:
        problems.append(f"{kind}: {len(claim_ids)} executions for {copies} encounters")
    _, status, action = KINDS[kind]
    repo = wiring.repository()
    seen = Counter((c.status.value, c.follow_up_action) for c in (repo.get_claim(i) for i in claim_ids))
    if set(seen) != {(status, action)}:
        problems.append(f"{kind}: claims ended {dict(seen)}, expected {status}/{action}")
    return problems


def claim_item_bytes(meter: Meter, claim_id: str) -> int:
    from bench.aws_meter import item_size
    from infra import config

    key = {"pk": {"S": f"CLAIM#{claim_id}"}, "sk": {"S": "CLAIM"}}
    return item_size(meter.tables.item(config.CLAIMS_TABLE.name, key))


def lifecycle_rows() -> list[dict[str, Any]]:
    from infra import config
    from infra.local.provision import REGION
    from infra.local.runtime import LocalRuntime

    BENCH_TIMEOUTS = config.WorkflowTimeouts(**BENCH_TIMEOUTS_ARGS)
    from bench.bench_posting import dynamodb_costs_per_item
    from medbill.entry import wiring

    saved_env = dict(os.environ)
    logging.getLogger("medbill").setLevel(logging.WARNING)
    meter = Meter(account_id="123456789012", region=REGION, notified_prefixes=tuple(config.NOTIFICATIONS))
    results: dict[str, tuple[dict[str, Usage], int, list[str]]] = {}
    problems: list[str] = []
    item_bytes: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        stack.enter_context(dynamodb_costs_per_item())
        stack.enter_context(meter.installed())
        rt = stack.enter_context(LocalRuntime(extra_env=QUIET_HANDLERS, timeouts=BENCH_TIMEOUTS))
        stack.callback(wiring.reset)
        wiring.reset()
        for name in config.FUNCTIONS:
            if name not in config.SCHEDULED_FUNCTIONS:  # the local clearinghouse runs the exchange itself
                rt.register(name, meter.wrap_handler(name, rt.bridge.handler_for(name)))
        poller = rt.poller
        poller.poll_once = meter.wrap_phase(ESM, poller.poll_once)  # type: ignore[method-assign]
        sim = rt.simulator
        sim.exchange.run = meter.wrap_phase(EXCHANGE, sim.exchange.run, timed=True)
        sim.payer.run_once = meter.wrap_phase(PAYER, sim.payer.run_once)
        rt.run_until_idle(timeout_s=60, interval_s=0.0)
        for n, kind in enumerate(KINDS):  # warm-up: cold starts and first-use caches, not counted
            run_kind(rt, meter, kind, 1, f"W{n}")
        for n, kind in enumerate(KINDS):
            usage, ids = run_kind(rt, meter, kind, CLAIMS, f"K{n}")
            transitions = sum(state_transitions(rt.execution_history(i)) for i in ids)
            results[kind] = (usage, transitions, ids)
            problems += check(rt, kind, ids, CLAIMS)
            item_bytes[kind] = claim_item_bytes(meter, ids[0]) if ids else 0
        if os.environ.get("MEDBILL_BENCH_COST_DUMP"):  # every caller's calls and resources, for IAM reviews
            Path(os.environ["MEDBILL_BENCH_COST_DUMP"]).write_text(as_json(meter.snapshot()))
        if rt.failures or any(rt.poller.dlq_depths().values()):
            problems.append(f"handler failures {len(rt.failures)}, DLQ {rt.poller.dlq_depths()}")
    os.environ.clear()
    os.environ.update(saved_env)
    for problem in problems:
        print(f"bench_cost: {problem}", file=sys.stderr)
    mark = "!! " + "; ".join(problems) + " !! " if problems else ""

    costs = {kind: priced(u, t, CLAIMS) for kind, (u, t, _) in results.items()}
    notes = {
        kind: f"{usage_note(u, t, CLAIMS)}; the claim item at the end {item_bytes.get(kind, 0):,} bytes"
        " (each write of it is written again to every index it is in: projection ALL)"
        for kind, (u, t, _) in results.items()
    }
    paid_total = sum(costs["paid in full"].values(), Decimal(0))
    rows = []
    for kind, parts in costs.items():
        total = sum(parts.values(), Decimal(0))
        breakdown = ", ".join(f"{k} {dollars(v)}" for k, v in parts.items() if v)
        rows.append(
            {
                "benchmark": (
                    f"cost per claim, {kind} ({CLAIMS} claims, AWS list prices {PRICES_AS_OF}, us-east-1 arm64)"
                ),
                "unit": "USD/claim",
                "ours": dollars(total),
                "peer": "a claim paid in full",
                "peer_value": dollars(paid_total),
                "ratio": round(float(paid_total / total), 2) if total else None,
                "note": f"{mark}{breakdown}; {notes[kind]}",
            }
        )
    return rows


# --- cold starts ----------------------------------------------------------------------------------
_IMPORT = """
import importlib, sys, time
sys.path[:0] = [{layer!r}, {functions!r}]
start = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
print(time.perf_counter() - start)
"""
FLOOR_MODULES = (
    "boto3",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "pydantic",
)


def _cold_env(function: str) -> dict[str, str]:
    from medbill.entry.settings import FUNCTION_SETTINGS, PENDING_FUNCTION_SETTINGS, required_variables

    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "X12_"))}
    for model in (*FUNCTION_SETTINGS.values(), *PENDING_FUNCTION_SETTINGS.values()):
        for variable in required_variables(model):  # the others have defaults
            if variable.endswith("_URL"):
                env[variable] = "https://sqs.us-east-1.amazonaws.com/123456789012/medbill-bench"
            else:
                env[variable] = f"bench-{variable.lower()}"
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_LAMBDA_FUNCTION_NAME": f"medbill-{function}",  # Powertools behaves as in Lambda
            "POWERTOOLS_SERVICE_NAME": f"medbill-{function}",
            "POWERTOOLS_METRICS_NAMESPACE": "medbill",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def import_seconds(function: str, modules: tuple[str, ...]) -> float:
    """The fastest of COLD_START_REPEATS fresh interpreters importing `modules` (the handler's
    module-level work: imports, settings, Powertools set-up)."""
    from infra import config

    code = _IMPORT.format(
        layer=str(config.LAYER_PATH / "python"), functions=str(config.FUNCTIONS_PATH), modules=list(modules)
    )
    times = []
    for _ in range(COLD_START_REPEATS):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=_cold_env(function), check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"importing {modules} failed: {out.stderr.strip().splitlines()[-1:]}")
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def cold_start_rows() -> list[dict[str, Any]]:
    from infra import config

    floor = import_seconds("floor", FLOOR_MODULES)
    rows: list[dict[str, Any]] = []
    # One row per handler file (followup's file serves the timely-filing and statements functions too).
    names = sorted({spec.code_dir for spec in (*config.FUNCTIONS.values(), *config.PENDING_FUNCTIONS.values())})
    for name in names:
        try:
            seconds = import_seconds(name, (f"{name}.handler",))
        except RuntimeError as err:  # one handler that cannot start must not hide the others' rows
            rows.append({"benchmark": f"cold start: import functions/{name}/handler.py", "note": f"!! {err}"})
            continue
        rows.append(
            {
                "benchmark": f"cold start: import functions/{name}/handler.py (fresh interpreter)",
                "unit": "ms",
                "ours": round(seconds * 1000, 1),
                "peer": "import boto3 + Powertools logging/metrics/tracing + pydantic",
                "peer_value": round(floor * 1000, 1),
                "ratio": round(floor / seconds, 2) if seconds else None,
                "note": (
                    f"best of {COLD_START_REPEATS}; ratio = floor / ours (1.0: the handler adds nothing);"
                    f" {memory_mb(name)} MB; Lambda bills INIT at the function's memory:"
                    f" {math.ceil(seconds * 1000) / 1000 * memory_mb(name) / 1024:.3f} GB-s per cold start"
                ),
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    return lifecycle_rows() + cold_start_rows()


if __name__ == "__main__":
    for row in run():
        print(row)
