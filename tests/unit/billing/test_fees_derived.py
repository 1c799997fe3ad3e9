"""The committed demo fee schedules match what scripts/derive_fee_schedule.py derives from the PFS."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.shared_data import require_files

ROOT = Path(__file__).resolve().parents[3]


def _script():
    spec = importlib.util.spec_from_file_location("derive_fee_schedule", ROOT / "scripts" / "derive_fee_schedule.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


def test_committed_schedules_are_fresh() -> None:
    script = _script()
    [rvu_file] = require_files("reference-data", "fee_schedule/" + script.DEFAULT_RVU_FILE.name)
    stale = "stale: run .venv/bin/python scripts/derive_fee_schedule.py"
    assert script.main(["--check", "--rvu-file", str(rvu_file)]) == 0, stale
