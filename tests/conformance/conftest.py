"""Conformance tests read the public X12 samples in place (never copied into the repo).

The folder is ../shared/x12-samples next to the repository, or $MEDBILL_X12_SAMPLES; when it is
absent every test that needs it is skipped with a message saying where it was looked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_ENV = "MEDBILL_X12_SAMPLES"


def x12_samples_dir() -> Path:
    override = os.environ.get(SAMPLES_ENV)
    return Path(override) if override else REPO_ROOT.parent / "shared" / "x12-samples"


@pytest.fixture(scope="session")
def x12_samples() -> Path:
    """The samples folder, or skip (with the reason) when it is not there."""
    folder = x12_samples_dir()
    if not folder.is_dir():
        pytest.skip(f"x12 samples folder ../shared/x12-samples not found (looked in {folder}; set ${SAMPLES_ENV})")
    return folder


def sample_text(path: Path) -> str:
    """A sample's text exactly as stored (BOM, CRLF and indentation included: the reader copes)."""
    return path.read_text(encoding="utf-8", errors="strict")
