"""Suite-wide options: --require-shared (tests/shared_data.py, docs/testing.md) and the hypothesis
profiles (HYPOTHESIS_PROFILE=ci | dev | thorough; ci unless set)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.shared_data import REQUIRE_ENV, set_required_by_option

# "ci" (the default): hypothesis's own 100 examples, no deadline (no timing assertions); tests that set
# max_examples keep theirs. "dev" and "thorough" run the payer-path properties longer.
settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-shared",
        action="store_true",
        default=False,
        help=f"fail (not skip) a test whose ../shared data is missing (same as {REQUIRE_ENV}=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    set_required_by_option(bool(config.getoption("--require-shared")))
