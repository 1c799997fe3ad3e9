"""Comments and docstrings that send a reader to a test file name one that exists (files get renamed)."""

from __future__ import annotations

import re

from infra.config import REPO_ROOT

POINTER = re.compile(r"tests/[\w/]+\.py")


def test_every_test_file_named_in_infra_functions_and_entry_exists() -> None:
    stale = []
    for folder in ("infra", "functions", "layers/medbill/python/medbill/entry"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            for ref in POINTER.findall(path.read_text()):
                if not (REPO_ROOT / ref).is_file():
                    stale.append(f"{path.relative_to(REPO_ROOT)} -> {ref}")
    assert stale == []
