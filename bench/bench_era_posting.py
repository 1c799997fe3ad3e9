"""A 1,000,000-claim ERA from the file to every claim's ledger, reconciled to the cent (issue 12).

Ours: `testkit/era_posting_run.py` on the in-memory fakes (every port of medbill.ports): a generated
835 of N claim payments (default 1,000,000, a 92.3 MB file: half paid by line, half at the claim
level, ~93 bytes a claim payment, under MAX_ERA_BYTES, 100 MB, decision 39; env
MEDBILL_BENCH_ERA_POSTING_CLAIMS), the claims it pays created chunk by chunk as submission leaves
them, checked and fanned out by `receive_era_file` and then `continue_era_file` one chunk per
invocation, every queued message (JSON, as SQS carries it)
posted by `post_remittance` (the posting handler's call), one in `REDELIVER_EVERY` delivered again
(it must come back already_posted with nothing changed), every claim's ledger checked, and the ERA's
`reconciliation` at the end. Claims are forgotten once their chunk is checked (their ledger entry
counted, its position marked), so the store holds a chunk of claims, and every claim payment's ERA
result (the reconciliation reads them all); MEDBILL_BENCH_ERA_POSTING_KEEP=1 keeps every claim.

Peer, in the same child process and before ours: `RemittanceReader` reading and balancing the same
file alone (the check's floor, as in bench_era_scale). The rows are CPU seconds (the machine is
shared; wall is in the note) and peak RSS over the process before the file, sampled per phase.
Moto is not used: posting a million claims on moto's DynamoDB would take days (bench_posting:
~25 claims/s); the fakes keep the adapters' conditions (tests/integration/test_store_contract.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

CLAIMS = int(os.environ.get("MEDBILL_BENCH_ERA_POSTING_CLAIMS", "1000000"))
KEEP = os.environ.get("MEDBILL_BENCH_ERA_POSTING_KEEP") == "1"
REDELIVER_EVERY = 50  # 2% of the messages delivered twice


def _peer(path: Path) -> dict[str, Any]:
    from medbill.x12.remittance835 import RemittanceReader

    cpu0 = time.process_time()
    reader = RemittanceReader(path.read_text(encoding="ascii"))
    claims = 0
    for payment in reader.payments():
        for _ in payment.iter_claims():
            claims += 1
        assert payment.balanced, payment.problems[:3]
    return {"peer_cpu_s": time.process_time() - cpu0, "peer_claims": claims}


def _child(claims: int) -> dict[str, Any]:
    import gc
    import logging

    logging.disable(logging.WARNING)
    from bench.bench_era_scale import _RssPeak
    from testkit import era_posting_run

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "peer.835"
        era_posting_run.write_835(path, claims)
        size_mb = path.stat().st_size / 1e6
        gc.collect()
        with _RssPeak() as peer_rss:
            before_peer = peer_rss.peak
            out.update(_peer(path))
        path.unlink()
        gc.collect()
        started = time.perf_counter()

        def progress(r: era_posting_run.RunResult) -> None:
            if r.steps % 20 == 0:
                print(
                    f"[era_posting] step {r.steps}: {r.posted:,} posted, {r.redelivered:,} redelivered, "
                    f"{r.mismatch_count} mismatches, {time.perf_counter() - started:.0f} s wall",
                    file=sys.stderr,
                    flush=True,
                )

        with _RssPeak() as rss:
            baseline = rss.peak
            result, _ = era_posting_run.run(
                claims, Path(tmp), redeliver_every=REDELIVER_EVERY, keep_claims=KEEP, progress=progress
            )
    rec = result.reconciliation
    out.update(
        claims=claims,
        size_mb=size_mb,
        complete=result.complete,
        posted=result.posted,
        other_results=result.other_results,
        redelivered=result.redelivered,
        redelivered_ok=result.redelivered_already_posted,
        ledger_entries=result.ledger_entries,
        claims_checked=result.claims_checked,
        duplicates=result.duplicate_positions,
        mismatches=result.mismatch_count,
        first_mismatches=result.mismatches[:5],
        steps=result.steps,
        bpr02=f"{result.bpr02:.2f}",
        reconciled=rec.get("reconciled"),
        era_status=rec.get("era_status"),
        posted_total=rec.get("posted_total"),
        difference=rec.get("difference"),
        posted_count=rec.get("posted_count"),
        cpu=result.cpu,
        wall_s=result.wall_s,
        peer_peak_mb=(peer_rss.peak - before_peer) / 2**20,
        peak_mb=(rss.peak - baseline) / 2**20,
        baseline_mb=baseline / 2**20,
    )
    return out


def run() -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([_ROOT, *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_era_posting", "--child", str(CLAIMS)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the child failed ({proc.returncode}); its stderr is above")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = r["cpu"]
    ours_cpu = sum(cpu.values())
    name = f"ERA {CLAIMS:,} claims ({r['size_mb']:.0f} MB), file to every ledger on the in-memory fakes"
    verdict = (
        f"complete: {r['posted']:,} claim payments posted once ({r['ledger_entries']:,} ledger entries, "
        f"{r['duplicates']} duplicates), {r['redelivered']:,} redelivered all already_posted and unchanged, "
        f"reconciled: posted {r['posted_total']} = BPR02 {r['bpr02']}, difference {r['difference']}"
        if r["complete"]
        else f"INCOMPLETE: { {k: v for k, v in r.items() if k != 'cpu'} }"
    )
    phases = ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
    return [
        {
            "benchmark": name,
            "unit": "CPU s, check + fan-out + post + redeliver + reconcile",
            "ours": round(ours_cpu, 1),
            "peer": "RemittanceReader read + balance of the same file, same process",
            "peer_value": round(r["peer_cpu_s"], 1),
            "ratio": round(r["peer_cpu_s"] / ours_cpu, 3),
            "note": (
                f"{verdict}; {r['steps']} invocations; CPU s by phase: {phases} (seed = creating the claims, "
                f"verify = reading every ledger back); {r['posted'] / max(cpu.get('post', 0), 1e-9):,.0f} postings "
                f"per CPU s; wall {r['wall_s']:.0f} s on a shared machine"
            ),
        },
        {
            "benchmark": name,
            "unit": "MB peak RSS over the process before the file",
            "ours": round(r["peak_mb"]),
            "peer": "the same for the peer's read + balance",
            "peer_value": round(r["peer_peak_mb"]),
            "ratio": round(r["peer_peak_mb"] / max(r["peak_mb"], 1), 2),
            "note": (
                f"over {r['baseline_mb']:.0f} MB before the file; "
                + (
                    "every claim kept"
                    if KEEP
                    else "claims forgotten once their chunk is checked; every ERA result and sent record kept"
                )
                + "; the file and its staged chunks are in the fake S3 (memory)"
            ),
        },
    ]


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(int(sys.argv[2])), default=str))
    else:
        for row in run():
            print(row)
