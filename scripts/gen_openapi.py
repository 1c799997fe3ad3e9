#!/usr/bin/env python3
"""Write docs/openapi.json, the staff API's OpenAPI document, from the API handler's routes.

.venv/bin/python scripts/gen_openapi.py          # regenerate
.venv/bin/python scripts/gen_openapi.py --check  # exit 1 if the committed file is stale
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from medbill.entry import settings

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_PATH = ROOT / "docs" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("medbill_fn_api_openapi", ROOT / "functions" / "api" / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # The handler checks its environment at import (its cold start); the routes need none of it, so
    # any variable not set here gets a placeholder, only while the module loads.
    placeholders = {name: "openapi-placeholder" for name in settings.required_variables(settings.ApiSettings)}
    with mock.patch.dict(os.environ, {**placeholders, **os.environ}):
        spec.loader.exec_module(module)
    settings.load.cache_clear()  # forget the placeholders
    text = module.app.get_openapi_json_schema(
        title="medbill staff API",
        version="1",
        description="Claims, ledgers, ERA reconciliation and the unmatched-remittance work queue. "
        "Every request carries a staff user's Cognito token (role, clinics); responses carry ids, codes "
        "and amounts.",
    )
    document: dict[str, Any] = json.loads(text)
    return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OPENAPI_PATH.exists() or OPENAPI_PATH.read_text() != text:
            print("docs/openapi.json is stale: run .venv/bin/python scripts/gen_openapi.py", file=sys.stderr)
            return 1
        return 0
    OPENAPI_PATH.write_text(text)
    print(f"wrote {OPENAPI_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
