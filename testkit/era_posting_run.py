"""An ERA of N claim payments from the file to every claim's ledger, on the in-memory fakes (issue 12).

Shared by the test (tests/unit/posting/test_era_posting_at_scale.py, a few thousand claims, every
claim kept) and the benchmark (bench/bench_era_posting.py, default 1,000,000). The path is the
product's: a generated, balanced 835 (`write_835`: one claim payment a claim, half of them with one
service line matched by its line control number and half paid at the claim level only, paid amounts
whose cents vary so the total is checked to the cent) is checked and fanned out by
`receive_era_file`, then `continue_era_file` one step (one chunk of `CHUNK_CLAIMS`) per invocation,
as the remittance Lambda continues when out of time; each step's
messages come off the queue (JSON, as SQS carries them), shuffled, and go through `post_remittance`,
the call the posting handler makes; a share is delivered again (SQS is at least once) and must come
back `already_posted` with the claim, its ledger and the ERA's result unchanged. Last, the ERA's
`reconciliation`.

The claims of a chunk are created (as submission would have left them: AWAITING_REMITTANCE, no
execution token) just before the step that queues their claim payments, so the store never holds
more than the claims in flight when `keep_claims` is False: each claim's ledger is checked after its
chunk posts, then the claim and its partition are forgotten (`FakeStore.forget_claims`). The ERA
record, every claim payment's result and the sent records stay: the reconciliation reads them all.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from medbill.billing import era_fanout
from medbill.billing.era import continue_era_file, receive_era_file, reconciliation
from medbill.billing.posting import post_remittance
from medbill.models.claim import Claim, ClaimLine
from medbill.models.encounter import Encounter
from medbill.models.remittance import ClaimRemittance
from medbill.models.status import ClaimStatus
from medbill.workflow.intake import new_claim
from testkit.fakes import CollectingQueue, FakeArtifacts, FakeStore, FakeWorkflow

PAYER_ID = "PAYERA01"
TRACE = "BIGERA1"
CHARGE = Decimal("100.00")
DOS = date(2026, 10, 1)
KEY = "era/big-era.835"
MISMATCHES_KEPT = 20  # problems listed in the result (the counts cover all)

_ENCOUNTER = {
    "clinic_id": "clinic-northside",
    "encounter_id": "E-0",
    "date_of_service": DOS.isoformat(),
    "place_of_service": "11",
    "patient": {
        "last_name": "Testerson",
        "first_name": "Ada",
        "date_of_birth": "1968-04-12",
        "sex": "F",
        "address": {"line1": "12 Sample Lane", "city": "Springfield", "state": "IL", "postal_code": "62704"},
    },
    "coverage": {"payer_id": PAYER_ID, "payer_name": "Acme (demo)", "member_id": "ACM100200301"},
    "billing_provider": {
        "npi": "1234567893",
        "taxonomy": "261QP2300X",
        "organization_name": "Northside Family Medicine (demo)",
        "tin": "990012345",
        "address": {"line1": "100 Demo Plaza", "city": "Springfield", "state": "IL", "postal_code": "627011234"},
    },
    "diagnoses": ["E11.9"],
    "service_lines": [{"procedure_code": "99213", "diagnosis_pointers": [1]}],
}


def claim_id(i: int) -> str:
    return f"C{i:08d}"


def paid_of(i: int) -> Decimal:
    """Claim payment i pays 80.00-89.99 of its 100.00 (the rest a contractual CO-45)."""
    return Decimal(8000 + i % 1000) / 100


def bpr02(n: int) -> Decimal:
    return sum((paid_of(i) for i in range(n)), Decimal("0.00"))


def paid_by_line(i: int) -> bool:
    """Even claim payments are adjudicated by service line (SVC), odd ones at the claim level only
    (no SVC: the TR3 allows it, and posting must take both)."""
    return i % 2 == 0


def _claim_segments(i: int) -> str:
    # Lean but valid: a whole-dollar charge as "100" (X12 R type), no CLP05 when nothing is the
    # patient's, no AMT*B6; about 93 bytes a claim payment, so 1,000,000 fit under MAX_ERA_BYTES.
    cid, paid = claim_id(i), paid_of(i)
    clp = f"CLP*{cid}*1*{CHARGE:.0f}*{paid}**CI*P{i:010d}~"
    if paid_by_line(i):
        return f"{clp}SVC*HC:99213*{CHARGE:.0f}*{paid}**1~DTM*472*20261001~CAS*CO*45*{CHARGE - paid}~REF*6R*1~"
    return f"{clp}CAS*CO*45*{CHARGE - paid}~DTM*232*20261001~"


def _segment_count(n: int) -> int:
    by_line = (n + 1) // 2
    return 5 * by_line + 3 * (n - by_line)


def write_835(path: Path, n: int) -> Decimal:
    """A balanced 835 of `n` claim payments, streamed to `path` without building the file in memory
    (half paid by line, half at the claim level: `paid_by_line`). Returns BPR02."""
    total = bpr02(n)
    head = [
        "ISA*00*          *00*          *ZZ*PAYERA01       *ZZ*MEDBILL        *261125*0930*^*00501*000000001*0*P*:",
        "GS*HP*PAYERA01*MEDBILL*20261125*0930*1*X*005010X221A1",
        "ST*835*0001",
        f"BPR*I*{total:.2f}*C*ACH************20261125",
        f"TRN*1*{TRACE}*1PAYERA010",
        "N1*PR*TEST PAYER",
        f"REF*2U*{PAYER_ID}",
        "N1*PE*TEST CLINIC*XX*1234567893",
        "LX*1",
    ]
    with path.open("w", encoding="ascii") as out:
        out.write("~".join(head) + "~")
        for start in range(0, n, 10_000):
            out.write("".join(_claim_segments(i) for i in range(start, min(n, start + 10_000))))
        segments = len(head) - 2 + _segment_count(n) + 1  # ST through SE
        out.write(f"SE*{segments}*0001~GE*1*1~IEA*1*000000001~")
    return total


class ClaimMaker:
    """Claims C00000000.. as submission leaves them, one line (99213, 100.00, line control number 1)."""

    def __init__(self) -> None:
        base = new_claim(Encounter.model_validate(_ENCOUNTER), "encounters/big-era.json", 1)
        line = ClaimLine.model_validate({**base.lines[0].model_dump(), "charge": CHARGE, "line_control_number": "1"})
        self._template = base.model_copy(
            update={"lines": [line], "total_charge": CHARGE, "status": ClaimStatus.AWAITING_REMITTANCE}
        )
        Claim.model_validate(self._template.model_dump())  # what the store reads back must be valid

    def claim(self, i: int) -> Claim:
        cid = claim_id(i)
        return self._template.model_copy(update={"claim_id": cid, "encounter_id": f"E-{i}"})


@dataclass
class RunResult:
    claims: int
    bpr02: Decimal
    era_id: str = ""
    steps: int = 0  # invocations of the remittance function (the check, then one step each)
    posted: int = 0  # first deliveries that posted
    other_results: dict[str, int] = field(default_factory=dict)  # first deliveries that did not
    redelivered: int = 0
    redelivered_already_posted: int = 0  # came back already_posted with nothing changed
    ledger_entries: int = 0  # over every claim, when its chunk was checked
    duplicate_positions: int = 0  # a claim payment on two ledger entries (or two claims)
    claims_checked: int = 0  # claims whose ledger, totals and status were as expected
    mismatches: list[str] = field(default_factory=list)
    mismatch_count: int = 0
    reconciliation: dict[str, Any] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per phase
    wall_s: float = 0.0

    @property
    def complete(self) -> bool:
        """Every claim payment posted once, every redelivery harmless, the ERA reconciled to the cent."""
        rec = self.reconciliation
        return (
            self.posted == self.claims == self.ledger_entries == self.claims_checked
            and not self.other_results
            and self.duplicate_positions == 0
            and self.mismatch_count == 0
            and self.redelivered_already_posted == self.redelivered
            and rec.get("reconciled") is True
            and rec.get("era_status") == "POSTED"
            and rec.get("posted_count") == self.claims
            and rec.get("claims_recorded") == self.claims
            and rec.get("posted_total") == rec.get("total_paid") == f"{self.bpr02:.2f}"
            and rec.get("difference") == "0.00"
        )


class _Phases:
    def __init__(self, cpu: dict[str, float]) -> None:
        self.cpu = cpu

    def timed(self, phase: str, fn: Callable[[], Any]) -> Any:
        start = time.process_time()
        try:
            return fn()
        finally:
            self.cpu[phase] = self.cpu.get(phase, 0.0) + time.process_time() - start


def run(
    n: int,
    workdir: Path,
    *,
    redeliver_every: int = 50,
    keep_claims: bool = True,
    seed: int = 12,
    progress: Callable[[RunResult], None] | None = None,
    queue: CollectingQueue | None = None,
) -> tuple[RunResult, FakeStore]:
    """The whole path for `n` claim payments; every `redeliver_every`-th message is delivered twice.
    Returns the figures and the store (with every claim when `keep_claims`). `queue`: the posting
    queue (a test's, to lose a message)."""
    started = time.perf_counter()
    path = workdir / "big-era.835"
    result = RunResult(claims=n, bpr02=write_835(path, n))
    repo, artifacts, workflow = FakeStore(), FakeArtifacts(), FakeWorkflow()
    queue = CollectingQueue() if queue is None else queue
    artifacts.write(KEY, path.read_bytes())
    path.unlink()
    phases = _Phases(result.cpu)
    maker = ClaimMaker()
    shuffle = random.Random(seed).shuffle
    seeded = 0
    positions: set[int] = set()

    def seed_next_chunk() -> list[str]:
        # The claims whose payments the next step queues (file order): created before it runs.
        nonlocal seeded
        upto = min(n, seeded + era_fanout.CHUNK_CLAIMS)
        ids = [claim_id(i) for i in range(seeded, upto)]
        for i in range(seeded, upto):
            if not repo.create_claim(maker.claim(i)):
                raise RuntimeError(f"claim {claim_id(i)} existed before its chunk")
        seeded = upto
        return ids

    def post_queued(ids: list[str], first: int) -> None:
        messages = queue.take()
        shuffle(messages)  # SQS keeps no order; parallel posting Lambdas take any message first
        phases.timed("post", lambda: _post(repo, workflow, messages, result))
        phases.timed("redeliver", lambda: _redeliver(repo, workflow, messages[::redeliver_every], result))
        phases.timed("verify", lambda: _verify(repo, ids, first, positions, result))
        if not keep_claims:
            repo.forget_claims(ids)
        if progress is not None:
            progress(result)

    ids = phases.timed("seed", seed_next_chunk)
    summary = phases.timed("check", lambda: receive_era_file(repo, artifacts, queue, KEY, out_of_time=lambda: True))
    result.steps = 1
    if summary.quarantined or summary.file_error or len(summary.era_ids) != 1:
        raise RuntimeError(f"the generated ERA was not taken: {summary.file_error or summary.problems[:3]}")
    [result.era_id] = summary.era_ids
    post_queued(ids, 0)
    file_id = summary.file_id
    while summary.continues:
        first = seeded
        ids = phases.timed("seed", seed_next_chunk)
        summary = phases.timed(
            "fan_out",
            lambda: continue_era_file(repo, artifacts, queue, KEY, file_id, out_of_time=lambda: True),
        )
        result.steps += 1
        post_queued(ids, first)
    if seeded != n:
        raise RuntimeError(f"the fan-out ended after {seeded:,} of {n:,} claims' chunks")
    rec = phases.timed("reconcile", lambda: reconciliation(repo, result.era_id, limit=10))
    result.reconciliation = {k: v for k, v in (rec or {}).items() if k not in ("claims", "provider_adjustments")}
    result.wall_s = time.perf_counter() - started
    return result, repo


def _post(repo: FakeStore, workflow: FakeWorkflow, messages: list[ClaimRemittance], result: RunResult) -> None:
    for remit in messages:
        outcome = post_remittance(repo, workflow, remit)
        if outcome.result == "posted":
            result.posted += 1
        else:
            result.other_results[outcome.result] = result.other_results.get(outcome.result, 0) + 1


def _snapshot(repo: FakeStore, remit: ClaimRemittance) -> tuple[Any, ...]:
    claim = repo.get_claim(remit.claim_id)
    return (
        claim.version,
        claim.status,
        claim.paid_amount,
        [e.model_dump() for e in repo.ledger_entries(remit.claim_id)],
        repo.era_result(remit.era_id, remit.position),
    )


def _redeliver(repo: FakeStore, workflow: FakeWorkflow, messages: list[ClaimRemittance], result: RunResult) -> None:
    for remit in messages:
        before = _snapshot(repo, remit)
        outcome = post_remittance(repo, workflow, remit)
        result.redelivered += 1
        if outcome.result == "already_posted" and _snapshot(repo, remit) == before:
            result.redelivered_already_posted += 1
        else:
            _mismatch(result, f"redelivered {remit.claim_id}: {outcome.result}, or the claim changed")


def _verify(repo: FakeStore, ids: list[str], first: int, positions: set[int], result: RunResult) -> None:
    """Each claim of the chunk: one ledger entry, for its own claim payment, with its amounts; its
    totals from that entry; PAID; its line paid when the payer paid by line, untouched when not."""
    for i, cid in enumerate(ids, start=first):
        entries = repo.ledger_entries(cid)
        result.ledger_entries += len(entries)
        for entry in entries:
            if entry.position in positions:
                result.duplicate_positions += 1
            positions.add(entry.position)
        claim = repo.get_claim(cid)
        ok = (
            len(entries) == 1
            and entries[0].paid == claim.paid_amount == paid_of(i)
            and entries[0].charge == CHARGE
            and claim.adjustment_amount == CHARGE - paid_of(i)
            and claim.status == ClaimStatus.PAID
            and claim.lines[0].paid_amount == (paid_of(i) if paid_by_line(i) else Decimal("0.00"))
        )
        if ok:
            result.claims_checked += 1
        else:
            _mismatch(result, f"{cid}: {len(entries)} ledger entries, paid {claim.paid_amount}, {claim.status.value}")


def _mismatch(result: RunResult, what: str) -> None:
    result.mismatch_count += 1
    if len(result.mismatches) < MISMATCHES_KEPT:
        result.mismatches.append(what)
