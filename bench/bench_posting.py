"""ERA posting on the local runtime (issue 4): a 1,000-claim 835 posted through the fan-out.

Ours: `LocalRuntime(simulator=False)` (in-process moto, our real handlers). N claims are created
through the repository (at SUBMITTED, so posting moves them to PAID / SHORT_PAID / DENIED), one
835 pays them (a third each paid / short-paid / denied, 2-3 lines each, REF*6R line control
numbers), and the time from its upload under `era/` to idle is measured: S3 -> SQS -> remittance
Lambda (whole file checked, one posting message per claim) -> SQS -> posting Lambda (one
transaction per claim). Every claim must be posted: `reconciliation(repo, era_id)` posted_count
== N and reconciled, and every claim in the status its outcome calls for; otherwise the rows
say so. DynamoDB calls are counted per operation on every botocore client (the posting Lambda's
transactions and the fan-out's idempotency calls too), split by the Lambda that made them.

Peer: "posting in one loop": read the same kind of 835 and call `post_remittance` for each claim
payment, in-process and sequentially, no SQS and no Lambda, on a fresh set of N claims in the same
runtime. The ratio is the cost of the SQS hop (and of the whole-file check) on one machine. In AWS
the posting messages are taken by parallel Lambdas, so the fan-out's wall time there is not this.

Size: MEDBILL_BENCH_POSTING_CLAIMS (default 1000), e.g. `MEDBILL_BENCH_POSTING_CLAIMS=200 make bench`.

moto 5.2.5 makes DynamoDB cost O(table size) per call where DynamoDB is O(items touched): every
TransactWriteItems deep-copies the whole table once per item (its rollback snapshot), and every
base-table Query sorts every item of the table before picking the partition. A run is then
quadratic in N (creating 1,000 claims alone took 271 s). For the run only, the bench gives moto
per-item costs (`dynamodb_costs_per_item`: an undo log of the touched keys, a partition read);
`check_moto` verifies rollback and query results at the start. MEDBILL_BENCH_POSTING_STOCK_MOTO=1
keeps stock moto (use a small N). moto's SQS is left as it is: it computes every queue attribute,
counting the queue's messages, for each message sent and received, so the SQS share of the
fan-out's time grows with the queue's depth (the note gives the time in SQS calls).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import botocore.client  # noqa: E402

from medbill.models.claim import Claim  # noqa: E402
from medbill.models.encounter import Encounter  # noqa: E402
from medbill.models.status import ClaimStatus  # noqa: E402
from testkit.era_builder import era_for  # noqa: E402  (the ERA the posting tests post)

CLAIMS = int(os.environ.get("MEDBILL_BENCH_POSTING_CLAIMS", "1000"))
STOCK_MOTO = os.environ.get("MEDBILL_BENCH_POSTING_STOCK_MOTO", "") not in ("", "0")
QUIET_HANDLERS = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
PAYER_ID = "PAYERA01"
OUTCOMES = ("paid", "short_paid", "denied")
# (procedure code, modifiers, charge): claim i gets the first 2 or 3 lines.
LINES: tuple[tuple[str, list[str], Decimal], ...] = (
    ("99213", ["25"], Decimal("135.00")),
    ("36415", [], Decimal("18.50")),
    ("81002", [], Decimal("12.25")),
)
STATUS_OF = {"paid": "PAID", "short_paid": "SHORT_PAID", "denied": "DENIED"}


# --- claims and the 835 ---------------------------------------------------------------------------
def encounter(clinic_id: str, n: int) -> Encounter:
    """A valid encounter with synthetic people (the shape of tests/factories.py)."""
    address = {"line1": "1 Bench Way", "city": "Springfield", "state": "IL", "postal_code": "62701"}
    return Encounter.model_validate(
        {
            "clinic_id": clinic_id,
            "encounter_id": f"ENC-{n:06d}",
            "date_of_service": date(2026, 11, 2),
            "place_of_service": "11",
            "patient": {
                "last_name": "Benchmark",
                "first_name": "Pat",
                "date_of_birth": "1970-01-01",
                "sex": "F",
                "address": address,
            },
            "subscriber": {"relationship": "self"},
            "coverage": {"payer_id": PAYER_ID, "payer_name": "ACME HEALTH PLAN", "member_id": f"MBR{n:08d}"},
            "billing_provider": {
                "npi": "1234567893",
                "taxonomy": "207Q00000X",
                "organization_name": "BENCH FAMILY CLINIC",
                "tin": "123456789",
                "address": {**address, "postal_code": "627011234"},
            },
            "diagnoses": ["E11.9", "I10"],
            "service_lines": [
                {"procedure_code": code, "modifiers": mods, "units": "1", "diagnosis_pointers": [1], "charge": charge}
                for code, mods, charge in LINES[: 2 + n % 2]
            ],
        }
    )


def create_claims(repo: Any, clinic_id: str, n_claims: int) -> list[Claim]:
    """Claims created through the repository at SUBMITTED (so posting moves them to PAID, ...).

    Created at SUBMITTED rather than walked there with five saves each: the walk would add five
    transactions per claim to the setup and nothing posting reads (it reads the claim and its ledger)."""
    from medbill.workflow.intake import new_claim

    claims = []
    for n in range(n_claims):
        claim = new_claim(encounter(clinic_id, n), f"encounters/{clinic_id}.json", n + 1)
        total = sum((line.charge or Decimal(0) for line in claim.lines), Decimal("0.00"))
        claim = claim.model_copy(update={"total_charge": total, "status": ClaimStatus.SUBMITTED})
        if not repo.create_claim(claim, actor="bench"):
            raise RuntimeError(f"claim {claim.claim_id} already exists")
        claims.append(claim)
    return claims


def era_835(claims: list[Claim], trace: str, icn: int) -> str:
    """The tests' ERA builder, outcomes in turn: paid, short-paid (PR-2), denied (CO-50)."""
    return era_for(
        [(c, OUTCOMES[i % len(OUTCOMES)]) for i, c in enumerate(claims)], payer_id=PAYER_ID, trace=trace, icn=icn
    )


# --- counting DynamoDB calls ------------------------------------------------------------------------
class CallCounter:
    """Every botocore API call to DynamoDB, by the phase running when it was made; the time spent
    in each service's calls (moto answering in-process), by phase."""

    def __init__(self) -> None:
        self.phase = "other"
        self.calls: dict[str, Counter[str]] = {}
        # Seconds are floats: a defaultdict, not a Counter (typed for ints).
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.api_seconds: defaultdict[tuple[str, str], float] = defaultdict(float)

    def count(self, service: str, operation: str) -> None:
        if service == "dynamodb":
            self.calls.setdefault(self.phase, Counter())[operation] += 1

    def api_time(self, service: str, *phases: str) -> float:
        return sum(self.api_seconds.get((phase, service), 0.0) for phase in phases)

    def total(self, *phases: str) -> Counter[str]:
        out: Counter[str] = Counter()
        for phase in phases:
            out.update(self.calls.get(phase, Counter()))
        return out

    def wrap(self, phase: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def counted(event: Any, context: Any) -> Any:
            previous, self.phase = self.phase, phase
            start = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                self.seconds[phase] += time.perf_counter() - start
                self.phase = previous

        return counted

    @contextlib.contextmanager
    def running(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start
            self.phase = previous

    @contextlib.contextmanager
    def installed(self) -> Iterator[CallCounter]:
        # A private botocore method, not in its type stubs.
        original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]
        counter = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            service, phase = client.meta.service_model.service_name, counter.phase
            counter.count(service, operation_name)
            start = time.perf_counter()
            try:
                return original(client, operation_name, api_params)
            finally:
                counter.api_seconds[(phase, service)] += time.perf_counter() - start

        botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined]


def per_claim(calls: Counter[str], claims: int) -> str:
    total = sum(calls.values())
    parts = ", ".join(f"{op} {n / claims:.2f}" for op, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{total / claims:.2f}/claim ({parts})" if claims else "no claims"


def raw_counts(calls: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(calls.items())) or "none"


# --- moto: the cost model of DynamoDB, not of a whole-table copy or sort -------------------------------
@contextlib.contextmanager
def dynamodb_costs_per_item() -> Iterator[None]:
    """While active, moto's DynamoDB costs what DynamoDB's do, per item touched (the local runtime
    installs the same fixes, for good):
    - TransactWriteItems keeps the before-image of the keys it touches and restores them when the
      transaction is cancelled, instead of deep-copying every table it names
      (infra/local/moto_transactions.py);
    - a base-table Query reads the queried partition, instead of sorting every item in the table
      (infra/local/moto_query.py).
    Results are the same; `check_moto` verifies both at the start of the run."""
    from infra.local.moto_query import partition_queries
    from infra.local.moto_transactions import fast_transactions

    fast_transactions()
    partition_queries()
    yield


def check_moto(repo: Any) -> None:
    """A cancelled transaction leaves nothing behind; a query returns its partition only, in order."""
    from medbill.adapters.dynamodb.table import to_item

    first = {"pk": "BENCH#rollback", "sk": "RB#A"}
    blocker = {"pk": "BENCH#rollback", "sk": "RB#B"}
    repo.put_if_absent(blocker)
    written = repo._transact_if(
        [
            {"Put": {"Item": to_item({**first, "v": 1})}},
            {"Put": {"Item": to_item({**blocker, "v": 2}), "ConditionExpression": "attribute_not_exists(sk)"}},
        ]
    )
    items = repo.items_under("BENCH#rollback", "RB#")
    if written or [i["sk"] for i in items] != ["RB#B"] or "v" in items[0]:
        raise AssertionError(f"moto transaction rollback broken: written={written} items={items}")
    repo.put_if_absent({"pk": "BENCH#rollbacks", "sk": "RB#C"})
    repo.put_if_absent({"pk": "BENCH#rollback", "sk": "RB#0"})
    if [i["sk"] for i in repo.items_under("BENCH#rollback", "RB#")] != ["RB#0", "RB#B"]:
        raise AssertionError("moto query does not return the partition in range-key order")


# --- the run --------------------------------------------------------------------------------------------
def post_in_one_loop(repo: Any, workflow: Any, text: str, key: str) -> list[Any]:
    """The peer: read the 835 and post each claim payment in-process, one after another."""
    from medbill.billing.era import era_id_for, file_id_for, to_remittance
    from medbill.billing.posting import post_remittance
    from medbill.x12.remittance835 import RemittanceReader

    file_id = file_id_for(text.encode())
    results = []
    for payment in RemittanceReader(text).payments():
        era_id = era_id_for(payment)
        for claim in payment.iter_claims():
            remit = to_remittance(claim, payment, era_id=era_id, file_id=file_id, key=key)
            results.append(post_remittance(repo, workflow, remit))
    return results


def run() -> list[dict[str, Any]]:
    from infra.local.runtime import LocalRuntime
    from medbill.billing.era import reconciliation
    from medbill.entry import wiring

    n = CLAIMS
    saved_env = dict(os.environ)
    logging.getLogger("medbill").setLevel(logging.WARNING)
    counter = CallCounter()
    with contextlib.ExitStack() as stack:
        # Powertools prints a metric set once it holds 100 values even with metrics disabled
        # (POWERTOOLS_METRICS_DISABLED only stops the flush at the end of an invocation): keep the
        # handlers' stdout out of the table.
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        if not STOCK_MOTO:
            stack.enter_context(dynamodb_costs_per_item())
        rt = stack.enter_context(LocalRuntime(simulator=False, extra_env=QUIET_HANDLERS))
        stack.callback(wiring.reset)
        wiring.reset()
        repo = wiring.repository()
        check_moto(repo)
        rt.run_until_idle(timeout_s=60, interval_s=0.0)  # S3's test events: the intake cold start is not timed
        for function, phase in (("remittance", "fanout"), ("posting", "posting")):
            rt.register(function, counter.wrap(phase, rt.bridge.handler_for(function)))

        setup = time.perf_counter()
        claims = create_claims(repo, "clinic-bench-fanout", n)
        loop_claims = create_claims(repo, "clinic-bench-loop", n)
        setup_s = time.perf_counter() - setup
        era = era_835(claims, "EFTBENCH0001", 1)
        loop_era = era_835(loop_claims, "EFTBENCH0002", 2)
        era_id = f"1{PAYER_ID[:9].ljust(9, '0')}-EFTBENCH0001"

        with counter.installed():
            with counter.running("fanout_wall"):
                rt.upload("era/bench-eftbench0001.835", era)
                rt.run_until_idle(timeout_s=600, interval_s=0.0)
            with counter.running("loop"):
                loop_results = post_in_one_loop(repo, wiring.workflow(), loop_era, "era/bench-eftbench0002.835")

        rec = reconciliation(repo, era_id) or {}
        problems = []
        if rec.get("posted_count") != n or rec.get("reconciled") is not True:
            problems.append(
                f"NOT ALL POSTED: posted {rec.get('posted_count')}/{n}, reconciled {rec.get('reconciled')},"
                f" difference {rec.get('difference')}, held {rec.get('held_count')},"
                f" unmatched {rec.get('unmatched_count')}"
            )
        if rt.failures or any(rt.poller.dlq_depths().values()):
            problems.append(f"handler failures {len(rt.failures)}, DLQ {rt.poller.dlq_depths()}")
        loop_posted = sum(1 for r in loop_results if r.result == "posted")
        if loop_posted != n:
            problems.append(f"LOOP NOT ALL POSTED: {loop_posted}/{n}")
        expected = {c.claim_id: STATUS_OF[OUTCOMES[i % len(OUTCOMES)]] for i, c in enumerate(claims)}
        statuses = Counter(repo.get_claim(claim_id).status.value for claim_id in expected)
        if statuses != Counter(expected.values()):
            problems.append(f"statuses {dict(statuses)}, expected {dict(Counter(expected.values()))}")
        for problem in problems:
            print(f"bench_posting: {problem}", file=sys.stderr)

    os.environ.clear()
    os.environ.update(saved_env)

    wall, loop_s = counter.seconds["fanout_wall"], counter.seconds["loop"]
    fanout_s, posting_s = counter.seconds["fanout"], counter.seconds["posting"]
    posted = int(rec.get("posted_count") or 0)
    fanout_calls, posting_calls = counter.total("fanout"), counter.total("posting")
    both = fanout_calls + posting_calls
    loop_calls = counter.total("loop")
    other_calls = counter.total("other", "fanout_wall")
    ours = posted / wall if wall else 0.0
    peer = loop_posted / loop_s if loop_s else 0.0
    no_sqs_s = wall - counter.api_time("sqs", "fanout", "fanout_wall")
    mark = "!! " + "; ".join(problems) + " !! " if problems else ""
    moto = "stock moto" if STOCK_MOTO else "moto with per-item DynamoDB costs (module doc)"
    rows: list[dict[str, Any]] = [
        {
            "benchmark": f"ERA posting, {n:,}-claim 835: S3 -> SQS -> remittance -> SQS -> posting (local runtime)",
            "unit": "claims/s",
            "ours": round(ours, 1),
            "peer": "posting in one loop (read 835, post_remittance per claim; no SQS, no Lambda)",
            "peer_value": round(peer, 1),
            "ratio": round(ours / peer, 2) if peer else None,
            "note": (
                f"{mark}upload to idle {wall:.1f}s = remittance Lambda {fanout_s:.1f}s (SendMessageBatch"
                f" {counter.api_time('sqs', 'fanout'):.1f}s) + posting Lambda {posting_s:.1f}s (DynamoDB"
                f" {counter.api_time('dynamodb', 'posting'):.1f}s) + poller {wall - fanout_s - posting_s:.1f}s"
                f" (ReceiveMessage/DeleteMessageBatch {counter.api_time('sqs', 'fanout_wall'):.1f}s);"
                f" without the time in SQS calls {posted / no_sqs_s if no_sqs_s > 0 else 0:.1f} claims/s;"
                f" loop {loop_s:.1f}s (DynamoDB {counter.api_time('dynamodb', 'loop'):.1f}s);"
                f" posted {posted}/{n}, reconciled {rec.get('reconciled')}, statuses {dict(sorted(statuses.items()))};"
                f" one process, one handler at a time (in AWS posting messages go to parallel Lambdas);"
                f" {moto}; setup {setup_s:.0f}s not timed"
            ),
        },
        {
            "benchmark": f"DynamoDB calls per posted claim, fan-out path ({n:,} claims)",
            "unit": "calls/claim",
            "ours": round(sum(both.values()) / posted, 2) if posted else None,
            "peer": "posting in one loop",
            "peer_value": round(sum(loop_calls.values()) / loop_posted, 2) if loop_posted else None,
            "ratio": round(sum(loop_calls.values()) / sum(both.values()), 2) if both else None,
            "note": (
                f"{mark}ratio = loop calls / fan-out calls (fewer is better); posting Lambda"
                f" {per_claim(posting_calls, posted)}; remittance Lambda, whole file: {raw_counts(fanout_calls)};"
                f" loop {per_claim(loop_calls, loop_posted)}; outside the handlers: {raw_counts(other_calls)}"
            ),
        },
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
