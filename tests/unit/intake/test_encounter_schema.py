"""docs/encounter.schema.json is generated from the Encounter model and must not go stale."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[3]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_encounter_schema", ROOT / "scripts" / "gen_encounter_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


def test_committed_schema_is_fresh() -> None:
    committed = (ROOT / "docs" / "encounter.schema.json").read_text(encoding="utf-8")
    assert committed == _generator().render(), "stale: run .venv/bin/python scripts/gen_encounter_schema.py"


def test_schema_accepts_the_json_sample() -> None:
    schema = json.loads((ROOT / "docs" / "encounter.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for record in json.loads((ROOT / "events" / "encounters" / "northside-2026-11-20.json").read_text()):
        assert not list(validator.iter_errors(record)), record["encounter_id"]
