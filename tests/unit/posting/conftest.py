"""Posting fixtures on the in-memory fakes (tests/fakes.py): no AWS emulator."""

from __future__ import annotations

import pytest

from tests.posting_harness import Posting, in_memory_posting


@pytest.fixture
def posting() -> Posting:
    return in_memory_posting()


@pytest.fixture
def p() -> Posting:
    return in_memory_posting()


@pytest.fixture(scope="module")
def shared_posting() -> Posting:
    """One store for a whole module (property tests use fresh ids per example)."""
    return in_memory_posting()
