"""Shared by the X12 unit tests: the repo root on sys.path (so `testkit.x12_oracle` and `infra` import)."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
