"""Conformance tests read the public X12 samples in place (never copied into the repo).

The folder is ../shared/x12-samples next to the repository, or $MEDBILL_X12_SAMPLES; when it is
absent every test that needs it is skipped with a message saying where it was looked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_data import FOLDERS, require_dir, shared_dir

SAMPLES_ENV = FOLDERS["x12-samples"]


def x12_samples_dir() -> Path:
    return shared_dir("x12-samples")


@pytest.fixture(scope="session")
def x12_samples() -> Path:
    """The samples folder, or skip (with the reason) when it is not there (fail: MEDBILL_REQUIRE_SHARED)."""
    return require_dir("x12-samples")


def sample_text(path: Path) -> str:
    """A sample's text exactly as stored (BOM, CRLF and indentation included: the reader copes)."""
    return path.read_text(encoding="utf-8", errors="strict")
