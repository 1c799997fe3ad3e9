"""270 build and 271 read speed for a 1,000-member batch, against x12sdk 2.2.0 on the same data.

- 270 build: `write_270` from 1,000 typed requests (every fifth for a dependent; checks, HL tree, TRN
  per request, envelope) in members/s. Peer: x12sdk's `write_transactions` writing the same 270 from
  its own models (parsed once from our file, untimed), i.e. its serializer alone, no checks.
- 271 read: `read_271` streaming a 1,000-member 271 (`testkit.eligibility.write_batch_271`: ~7
  benefits each, 2120C entities, rejections; ~16,000 segments), every member's status taken. Peer:
  x12sdk's `X12ModelReader` + `members()` on the same text.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from medbill.x12.claim837 import ControlNumbers  # noqa: E402
from medbill.x12.eligibility import write_270  # noqa: E402
from medbill.x12.eligibility.reader271 import read_271  # noqa: E402
from testkit.eligibility import requests_batch, write_batch_271  # noqa: E402

MEMBERS = 1_000
PEER = "x12sdk 2.2.0, same file"


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def build_270(requests: list[Any]) -> str:
    return write_270(
        requests,
        sender_id="SUNRISE",
        receiver_id="CLEARHOUSE",
        control_numbers=ControlNumbers(1, 1, (1,)),
        created=datetime(2025, 1, 2, 10, 30),
        trace_originator="9SUNRISE01",
    )


def read_ours(text: str) -> int:
    members = 0
    for resp in read_271(text):
        for answer in resp.iter_subscribers():
            for member in answer.members():
                answer.status(member)
                members += 1
        if resp.problems:
            raise AssertionError(resp.problems[:3])
    return members


def read_x12sdk(text: str) -> int:
    from x12sdk.io import X12ModelReader

    with X12ModelReader(text) as reader:
        models: list[Any] = list(reader.models())
        return sum(1 for model in models for _ in model.members())


def run() -> list[dict[str, Any]]:
    from x12sdk.io import X12ModelReader, write_transactions

    requests = requests_batch(MEMBERS)
    text_270 = build_270(requests)
    with X12ModelReader(text_270) as reader:
        models = list(reader.models())
    text_271 = write_batch_271(MEMBERS)
    segments = text_271.count("~")
    dependents = sum(1 for r in requests if r.dependent)
    # ours: every subscriber and dependent; x12sdk's members(): the patients (a subscriber with a dependent
    # and no benefits of their own is not one). Both read the same 1,000 answers.
    if (read_ours(text_271), read_x12sdk(text_271)) != (MEMBERS + dependents, MEMBERS):
        raise AssertionError("the 271 does not hold the expected members")

    ours_build = peer_build = ours_read = peer_read = float("inf")
    for _ in range(3):  # interleaved, so a busy machine hurts both alike
        ours_build = min(ours_build, best_of(lambda: build_270(requests), 1))
        peer_build = min(
            peer_build, best_of(lambda: write_transactions(models, sender_id="SUNRISE", receiver_id="CLEARHOUSE"), 1)
        )
        ours_read = min(ours_read, best_of(lambda: read_ours(text_271), 1))
        peer_read = min(peer_read, best_of(lambda: read_x12sdk(text_271), 1))
    return [
        {
            "benchmark": f"270 build ({MEMBERS:,} requests, {text_270.count('~'):,} segments)",
            "unit": "requests/s",
            "ours": round(MEMBERS / ours_build),
            "peer": "x12sdk 2.2.0 write_transactions, same 270",
            "peer_value": round(MEMBERS / peer_build),
            "ratio": round(peer_build / ours_build, 2),
            "note": "ours checks every value (SegmentBuffer, NPI, codes); the peer only serializes models",
        },
        {
            "benchmark": f"271 read ({MEMBERS:,} answers, {segments:,} segments)",
            "unit": "answers/s",
            "ours": round(MEMBERS / ours_read),
            "peer": f"{PEER} (X12ModelReader + members())",
            "peer_value": round(MEMBERS / peer_read),
            "ratio": round(peer_read / ours_read, 1),
            "note": f"goal >= 3x; x12sdk took {peer_read:.2f} s",
        },
    ]
