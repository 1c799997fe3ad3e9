"""Run every ``bench/bench_*.py`` module's ``run() -> list[row]`` and print one table.

A row is a dict: ``benchmark``, ``unit``, ``ours``, ``peer``, ``peer_value``, ``ratio`` (ours / peer,
higher is better for us) and optionally ``note``. No assertions: goals are stated in the notes and
read by people. ``python -m bench 835`` runs only the modules whose name contains "835";
``python -m bench eligibility`` the 270 build / 271 read one (bench_eligibility.py).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

COLUMNS = ("benchmark", "unit", "ours", "peer", "peer_value", "ratio", "note")
HEADERS = ("benchmark", "unit", "ours", "peer", "peer", "ours/peer", "note")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _modules(filters: list[str]) -> list[str]:
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    return [n for n in names if not filters or any(f in n for f in filters)]


def main(argv: list[str]) -> int:
    rows: list[dict[str, Any]] = []
    failed = 0
    for name in _modules(argv):
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            rows.extend(module.run())
        except Exception:  # one broken benchmark must not hide the others
            failed += 1
            print(f"bench.{name} failed:", file=sys.stderr)
            traceback.print_exc()
        print(f"[bench.{name}: {time.perf_counter() - start:.1f}s]", file=sys.stderr)
    table = [HEADERS] + [tuple(_cell(row.get(c)) for c in COLUMNS) for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    for n, line in enumerate(table):
        print(
            "  ".join(
                cell.ljust(w) if i in (0, 1, 3, 6) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
