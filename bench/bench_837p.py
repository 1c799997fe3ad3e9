"""837P writing speed: claims per second, against pyx12 reading the same claims in the same process.

Ours: `write_837p` for 2,000 claims of 3 lines (every value checked against the delimiters), and
`summarize_837p` reading that file back. Peer: pyx12 4.0.0 validating that same 2,000-claim file
(it cannot write, so reading+validating is the nearest thing it does); rates are per claim.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from infra.config import ClearinghouseSettings  # noqa: E402
from medbill.models.claim import Claim  # noqa: E402
from medbill.x12.claim837 import ControlNumbers, summarize_837p, write_837p  # noqa: E402
from testkit.x12_oracle import make_claim, make_person  # noqa: E402

CLAIMS = 2000
LINES = (
    ("99213", ("25",), "1", "125.00", (1,)),
    ("81002", (), "1", "20.00", (2,)),
    ("J1100", ("59", "RT"), "3", "36.90", (1, 2)),
)


def _claims(n: int) -> list[Claim]:
    claims = []
    for i in range(n):
        dependant = i % 3 == 0
        claims.append(
            make_claim(
                f"CLM{i:06d}",
                lines=LINES,
                billing_index=i % 3,
                rendering_index=i % 2 if i % 4 else None,
                relationship="child" if dependant else "self",
                patient=make_person("DOE", f"PATIENT{i % 50}"),
                member_id=f"MEM{i % 400:05d}",
            )
        )
    return claims


def _write(claims: list[Claim]) -> str:
    return write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=1, group=1),
        created=datetime(2025, 3, 15, 10, 5),
    )


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _pyx12_validate(text: str) -> None:
    import pyx12.params
    import pyx12.x12n_document

    logger = logging.getLogger("pyx12")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL)
    logger.propagate = False
    try:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None, None)
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def run() -> list[dict[str, Any]]:
    claims = _claims(CLAIMS)
    text = _write(claims)
    write_s = _best(lambda: _write(claims), repeat=3)
    read_s = _best(lambda: summarize_837p(text), repeat=3)
    peer_s = _best(lambda: _pyx12_validate(text), repeat=1)
    ours_write = CLAIMS / write_s
    ours_read = CLAIMS / read_s
    peer = CLAIMS / peer_s
    return [
        {
            "benchmark": f"837P write ({CLAIMS} claims x {len(LINES)} lines)",
            "unit": "claims/s",
            "ours": round(ours_write),
            "peer": "pyx12 4.0.0 validate, same file",
            "peer_value": round(peer),
            "ratio": round(ours_write / peer, 1),
            "note": f"pyx12 took {peer_s:.1f} s",
        },
        {
            "benchmark": f"837P summarize ({CLAIMS} claims x {len(LINES)} lines)",
            "unit": "claims/s",
            "ours": round(ours_read),
            "peer": "pyx12 4.0.0 validate, same file",
            "peer_value": round(peer),
            "ratio": round(ours_read / peer, 1),
            "note": "summarize now includes the validate checks (numbers, structure, CLM02 = sum of SV102)",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
