"""A 1,000,000-claim ERA checked and fanned out (issue 12): time, peak memory, the AWS projection.

Ours: `receive_era_file` on a generated 835 of N claim payments (default 1,000,000, ~75 MB; env
MEDBILL_BENCH_ERA_CLAIMS), in a child process so its peak RSS is the run's own: the whole file
read and checked once (envelopes, every claim balanced, BPR02 = claims paid), every posting line
staged in S3 in chunks of `CHUNK_CLAIMS`, the ERA record created, then the fan-out a chunk at a
time with the checkpoint on the record. The first invocation is told it is out of time after its
first chunk (as the Lambda would be after a long check), the rest runs as one `continue_era_file`;
so the figures split into the check (+ one chunk) and a per-chunk cost.
S3 and DynamoDB are moto (in-process, our adapters; moto's S3 objects spooled to disk, so the peak
RSS is ours, not the emulator's storage); the posting queue is a counting sink that
serializes every message as the SQS adapter does, in batches of 10 (moto's SQS recounts the whole
queue on every call, quadratic at this depth: bench_posting measures SQS on moto). The run checks
that every claim payment was queued exactly once and that the queued paid amounts add up to BPR02
to the cent; posting a million claims on moto is out of reach (bench_posting: ~25 claims/s):
bench_era_posting posts them on the in-memory fakes and reconciles the ERA.

Peer: the same file read and balanced by `RemittanceReader` alone (no messages, no store), in the
same child process: the floor of any check of the whole file.

The size limit (`MAX_ERA_BYTES`, decision 39): the check's measured CPU per MB, scaled to a file of
that size and to a 1024 MB Lambda, against the 240 s an invocation has before the fan-out's reserve
(the check cannot resume, so a file at the limit must be checked in one invocation).

Projection to AWS: per chunk, the measured CPU time of a chunk here plus the calls it makes
(`CHUNK_CLAIMS / 10` SendMessageBatch, `SEND_WORKERS` of them in flight at once, `CHUNK_CLAIMS /
SEND_EVERY` PutItem, one GetObject, one UpdateItem) at assumed in-region latencies (`LATENCY_MS`,
stated in the note), times the chunks, spread over invocations of 300 s less the 60 s reserve.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

CLAIMS = int(os.environ.get("MEDBILL_BENCH_ERA_CLAIMS", "1000000"))
LAMBDA_SECONDS, RESERVE_SECONDS = 300, 60
# Assumed p50 latencies in one region (ms): SQS SendMessageBatch of 10, DynamoDB PutItem/UpdateItem,
# S3 GetObject of one ~1 MB chunk. Not measured here: stated so the projection can be redone.
LATENCY_MS = {"send_message_batch": 15.0, "put_item": 6.0, "update_item": 6.0, "get_object": 40.0}
# A 1024 MB Lambda gets ~0.58 of a vCPU (1,769 MB = 1 vCPU); this machine's core counts as one.
LAMBDA_CPU_FACTOR = 1769 / 1024


def write_835(path: Path, n: int) -> Decimal:
    """A balanced 835 of `n` claim payments (CLP, claim-level CAS, DTM), streamed to `path`; BPR02."""
    per_claim_paid = Decimal("80.00")
    total = per_claim_paid * n
    head = [
        "ISA*00*          *00*          *ZZ*PAYERA01       *ZZ*MEDBILL        *261125*0930*^*00501*000000001*0*P*:",
        "GS*HP*PAYERA01*MEDBILL*20261125*0930*1*X*005010X221A1",
        "ST*835*0001",
        f"BPR*I*{total:.2f}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20261125",
        "TRN*1*BENCH1*1PAYERA010",
        "DTM*405*20261125",
        "N1*PR*BENCH PAYER",
        "N3*1 PAYER WAY",
        "N4*CITY*ST*12345",
        "REF*2U*PAYERA01",
        "PER*BL*CLAIMS*TE*5555555555",
        "N1*PE*BENCH CLINIC*XX*1234567893",
        "N3*1 CLINIC ST",
        "N4*CITY*ST*12345",
        "REF*TJ*123456789",
        "LX*1",
    ]
    with path.open("w", encoding="ascii") as out:
        out.write("~".join(head) + "~")
        buf = []
        for i in range(n):
            buf.append(f"CLP*C{i:08d}*1*100.00*80.00**CI*P{i:010d}~CAS*CO*45*20.00~DTM*232*20261001~")
            if len(buf) == 10_000:
                out.write("".join(buf))
                buf = []
        out.write("".join(buf))
        segments = len(head) + 3 * n + 1
        out.write(f"SE*{segments - 2}*0001~GE*1*1~IEA*1*000000001~")
    return total


def _peer(path: str) -> dict[str, Any]:
    """The peer, in a process of its own: the file read and balanced by the reader alone."""
    from medbill.x12.remittance835 import RemittanceReader

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, cpu0 = time.perf_counter(), time.process_time()
    text = Path(path).read_text(encoding="ascii")
    reader = RemittanceReader(text)
    for payment in reader.payments():
        for _ in payment.iter_claims():
            pass
        assert payment.balanced, payment.problems[:3]
    return {
        "peer_s": time.perf_counter() - t0,
        "peer_cpu_s": time.process_time() - cpu0,
        "peer_baseline_mb": baseline_kb / 1024,
        "peer_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class _RssPeak:
    """Peak resident memory of this process while a phase runs (sampled from /proc every 20 ms):
    ru_maxrss only ever grows, so it cannot tell the check's peak from the fan-out's."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def __enter__(self) -> _RssPeak:
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def _child(path: str, claims: int, bpr02: str) -> dict[str, Any]:
    """The measured run (in its own process: ru_maxrss is this run's peak)."""
    import logging

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.disable(logging.WARNING)
    from moto import mock_aws

    from infra.local.provision import provision
    from infra.local.runtime import MOTO_CONFIG
    from medbill.billing import era_fanout
    from medbill.billing.era import continue_era_file, receive_era_file
    from medbill.entry import wiring

    class CountingQueue:
        """The PostingQueue port: each message serialized as the SQS adapter does, batches of 10 counted."""

        def __init__(self) -> None:
            self.calls = 0
            self.bytes = 0
            self.seen = bytearray(3 * claims + 64)  # one byte per segment position (3 segments a claim)
            self.unique = 0
            self.duplicates = 0
            self.paid = Decimal("0.00")

        def send(self, remittances: Any) -> int:
            for start in range(0, len(remittances), 10):
                self.calls += 1
                for r in remittances[start : start + 10]:
                    self.bytes += len(r.model_dump_json())
                    if self.seen[r.position]:
                        self.duplicates += 1
                    else:
                        self.seen[r.position] = 1
                        self.unique += 1
                    self.paid += r.paid
            return len(remittances)

    with mock_aws(config=MOTO_CONFIG):
        provision()
        wiring.reset()
        baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # imports, moto provisioned, no file
        repo, store = wiring.repository(), wiring.artifacts()
        store.write("era/bench-1m.835", Path(path).read_bytes())
        queue = CountingQueue()
        t0, cpu0 = time.perf_counter(), time.process_time()
        with _RssPeak() as check_rss:
            first = receive_era_file(repo, store, queue, "era/bench-1m.835", out_of_time=lambda: True)
        check_s, check_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        first_queued = queue.calls
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        with _RssPeak() as fan_rss:
            rest = continue_era_file(
                repo, store, queue, "era/bench-1m.835", first.file_id, out_of_time=era_fanout.never
            )
        fan_s = time.perf_counter() - t0
        fan_cpu = time.process_time() - cpu0
        [era_id] = first.era_ids
        header = repo.get_era(era_id) or {}
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before reading 1M SENT entries back
        sent = repo.era_sent(era_id)
    return {
        "claims": claims,
        "check_s": check_s,
        "check_cpu_s": check_cpu,
        "fan_s": fan_s,
        "fan_cpu_s": fan_cpu,
        "chunks": int(header.get("fanout_chunks", 0)),
        "done": int(header.get("fanout_done", 0)),
        "quarantined": first.quarantined,
        "continued": first.continues and not rest.continues,
        "queued": first.claims_queued + rest.claims_queued,
        "unique_positions": queue.unique,
        "check_peak_mb": check_rss.peak / 2**20,
        "fan_peak_mb": fan_rss.peak / 2**20,
        "duplicates": queue.duplicates,
        "paid_match": str(queue.paid) == bpr02,
        "sent_recorded": len(sent),
        "send_calls": queue.calls,
        "send_calls_first": first_queued,
        "message_bytes": queue.bytes,
        "baseline_mb": baseline_kb / 1024,
        "peak_mb": peak_kb / 1024,
    }


def run() -> list[dict[str, Any]]:
    from medbill.adapters.sqs import SEND_WORKERS
    from medbill.billing.era_fanout import CHUNK_CLAIMS, SEND_EVERY
    from medbill.billing.era_limits import MAX_ERA_BYTES

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "era-1m.835"
        bpr02 = write_835(path, CLAIMS)
        size_mb = path.stat().st_size / 1e6
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([_ROOT, *sys.path])}
        # moto keeps S3 objects under 5 MB in memory: that would count the emulator's storage (the
        # file and ~500 MB of staged chunks) as the Lambda's memory. Spooled to disk from 64 KB instead.
        env["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(64 * 1024)
        r: dict[str, Any] = {}
        for args in (["--peer", str(path)], ["--child", str(path), str(CLAIMS), f"{bpr02:.2f}"]):
            proc = subprocess.run(
                [sys.executable, "-m", "bench.bench_era_scale", *args],
                capture_output=True,
                text=True,
                cwd=_ROOT,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"{args[0]} failed: {proc.stderr[-2000:]}")
            r.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    complete = (
        r["queued"] == r["unique_positions"] == CLAIMS
        and r["duplicates"] == 0
        and r["paid_match"]
        and r["sent_recorded"] == CLAIMS
        and r["done"] == r["chunks"] + 1
        and not r["quarantined"]
    )
    steps = r["chunks"]  # the first chunk ran in the first invocation
    per_chunk_cpu = r["fan_cpu_s"] / max(steps, 1)
    calls = {
        "send_message_batch": CHUNK_CLAIMS / 10 / SEND_WORKERS,  # the adapter keeps SEND_WORKERS in flight
        "put_item": CHUNK_CLAIMS / SEND_EVERY,
        "update_item": 1,
        "get_object": 1,
    }
    per_chunk_aws = per_chunk_cpu * LAMBDA_CPU_FACTOR + sum(LATENCY_MS[k] * n for k, n in calls.items()) / 1000
    chunks_total = r["chunks"]
    check_aws = r["check_cpu_s"] * LAMBDA_CPU_FACTOR
    fan_aws = per_chunk_aws * chunks_total
    usable = LAMBDA_SECONDS - RESERVE_SECONDS
    invocations = 1 + max(0, int((fan_aws - max(usable - check_aws, 0)) // usable) + 1)
    # The check (and the first chunk) scaled to a file at the limit: it must fit one invocation.
    limit_mb = MAX_ERA_BYTES / 1e6
    limit_check_aws = r["check_cpu_s"] / size_mb * limit_mb * LAMBDA_CPU_FACTOR
    name = f"ERA {CLAIMS:,} claims ({size_mb:.0f} MB): check + stage + fan-out"
    verdict = "complete: every claim payment queued once, paid = BPR02" if complete else f"INCOMPLETE {r}"
    return [
        {
            "benchmark": name,
            "unit": "CPU s (check + first chunk)",
            "ours": round(r["check_cpu_s"], 1),
            "peer": "RemittanceReader read + balance only, same file",
            "peer_value": round(r["peer_cpu_s"], 1),
            "ratio": round(r["peer_cpu_s"] / r["check_cpu_s"], 2),
            "note": (
                f"{verdict}; {chunks_total} chunks of {CHUNK_CLAIMS:,}; wall {r['check_s']:.0f} s "
                f"(peer {r['peer_s']:.0f} s) on a shared machine"
            ),
        },
        {
            "benchmark": name,
            "unit": "CPU s (rest of the fan-out, resumed)",
            "ours": round(r["fan_cpu_s"], 1),
            "peer": "the check above",
            "peer_value": round(r["check_cpu_s"], 1),
            "ratio": round(r["check_cpu_s"] / r["fan_cpu_s"], 2),
            "note": (
                f"{per_chunk_cpu:.2f} CPU s per chunk; wall {r['fan_s']:.0f} s; {r['send_calls']:,} "
                f"SendMessageBatch, {r['message_bytes'] / 1e6:.0f} MB of messages"
            ),
        },
        {
            "benchmark": name,
            "unit": "MB peak RSS over the process before the file",
            "ours": round(max(r["check_peak_mb"], r["fan_peak_mb"]) - r["baseline_mb"]),
            "peer": "the same for the peer's read + balance (own process)",
            "peer_value": round(r["peer_peak_mb"] - r["peer_baseline_mb"]),
            "ratio": round(
                (r["peer_peak_mb"] - r["peer_baseline_mb"])
                / max(max(r["check_peak_mb"], r["fan_peak_mb"]) - r["baseline_mb"], 1),
                2,
            ),
            "note": (
                f"check phase {r['check_peak_mb'] - r['baseline_mb']:.0f} MB, fan-out phase "
                f"{r['fan_peak_mb'] - r['baseline_mb']:.0f} MB over {r['baseline_mb']:.0f} MB before the file "
                f"(Python, moto provisioned; moto's DynamoDB items and S3 spooling live in the same process); "
                f"ru_maxrss {r['peak_mb']:.0f} MB; peer {r['peer_peak_mb']:.0f} / {r['peer_baseline_mb']:.0f} MB; "
                "the remittance Lambda has 1024 MB"
            ),
        },
        {
            "benchmark": name,
            "unit": "s projected in AWS",
            "ours": round(check_aws + fan_aws),
            "peer": "one Lambda's 300 s",
            "peer_value": LAMBDA_SECONDS,
            "ratio": round(LAMBDA_SECONDS / (check_aws + fan_aws), 2),
            "note": (
                f"check {check_aws:.0f} s + {chunks_total} chunks x {per_chunk_aws:.1f} s (CPU "
                f"x{LAMBDA_CPU_FACTOR:.2f} + calls at {LATENCY_MS} ms, {SEND_WORKERS} sends in flight), "
                f"~{invocations} invocations of {usable} s"
            ),
        },
        {
            "benchmark": f"ERA at the size limit ({limit_mb:.0f} MB, MAX_ERA_BYTES): the whole-file check",
            "unit": "s projected in AWS (one invocation)",
            "ours": round(limit_check_aws),
            "peer": "an invocation's 300 s less the 60 s reserve",
            "peer_value": usable,
            "ratio": round(usable / limit_check_aws, 2),
            "note": (
                f"{r['check_cpu_s'] / size_mb:.2f} CPU s per MB measured on the {size_mb:.0f} MB file above (check, "
                f"staging and the first chunk), x{LAMBDA_CPU_FACTOR:.2f}; the bench's claim payments are the densest "
                "shape (3 short segments each), so a real file of the same size has fewer segments to check"
            ),
        },
    ]


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--peer":
        print(json.dumps(_peer(sys.argv[2])))
    elif len(sys.argv) >= 2 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    else:
        for row in run():
            print(row)
