#!/usr/bin/env python3
"""Write docs/encounter.schema.json from the Encounter model (the model is the source of truth).

.venv/bin/python scripts/gen_encounter_schema.py          # regenerate
.venv/bin/python scripts/gen_encounter_schema.py --check  # exit 1 if the committed file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from medbill.models.encounter import Encounter

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "encounter.schema.json"


# pydantic emits constraints it cannot place on a union under their Python names; JSON Schema spells them so.
_KEYWORDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _standard_keywords(node: Any) -> Any:
    if isinstance(node, list):
        return [_standard_keywords(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):  # keys here are field names, not keywords
            out[key] = {name: _standard_keywords(v) for name, v in value.items()}
        else:
            out[_KEYWORDS.get(str(key), str(key))] = _standard_keywords(value)
    return out


def encounter_schema() -> dict[str, Any]:
    schema = _standard_keywords(Encounter.model_json_schema(mode="validation"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://medbill.example/schemas/encounter.schema.json",
        "description": (
            "One encounter (visit) sent by a clinic; a file holds an array of these (or JSON Lines). "
            "Diagnosis codes must also exist in the CMS ICD-10-CM code set, which a schema cannot check. "
            "See docs/encounter-format.md."
        ),
        **{k: v for k, v in schema.items() if k != "description"},
    }


def render() -> str:
    return json.dumps(encounter_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/encounter.schema.json")
    parser.add_argument("--check", action="store_true", help="fail if the committed schema is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not SCHEMA_PATH.is_file() or SCHEMA_PATH.read_text(encoding="utf-8") != text:
            print(f"{SCHEMA_PATH} is stale: run scripts/gen_encounter_schema.py", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
