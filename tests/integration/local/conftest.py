"""Fixtures for the local runtime tests: fake handlers for every claim state machine task.

The tests never import functions/<name>/handler.py (the lead writes those concurrently): every
Lambda is a small fake registered in the bridge.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.runtime import LocalRuntime
from tests.integration.local.fakes import FAST, FakeWorkflow


@pytest.fixture
def fake_workflow() -> FakeWorkflow:
    return FakeWorkflow()


@pytest.fixture
def runtime(fake_workflow: FakeWorkflow) -> Iterator[LocalRuntime]:
    with LocalRuntime(fake_workflow.handlers(), timeouts=FAST, simulator=False, visibility_timeout_seconds=1) as rt:
        yield rt
