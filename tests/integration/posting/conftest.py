"""Posting fixtures on moto: the posting world (tests/posting_harness.py) with the DynamoDB and S3
adapters. The domain's posting rules are tested on the in-memory fakes in tests/unit/posting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from infra.local.provision import LocalResources, provision
from infra.local.runtime import MOTO_CONFIG
from medbill.entry import wiring
from medbill.ports import Artifacts
from tests import posting_harness
from tests.fakes import CollectingQueue, FakeWorkflow
from tests.posting_harness import make_claim, money

__all__ = ["CollectingQueue", "FakeWorkflow", "Posting", "make_claim", "money"]


@dataclass
class Posting(posting_harness.Posting):
    """The posting world with the S3 adapter and the SQS release queue of the current moto account."""

    artifacts: Artifacts = field(default_factory=lambda: wiring.artifacts())
    releases: Any = field(default_factory=lambda: wiring.release_queue())


def moto_posting() -> Posting:
    return Posting(wiring.repository())


@pytest.fixture
def posting(aws: LocalResources) -> Posting:
    return moto_posting()


@pytest.fixture(scope="module")
def shared_aws() -> Iterator[LocalResources]:
    """One moto account for a whole module (property tests use fresh ids per example)."""
    with mock_aws(config=MOTO_CONFIG):
        resources = provision()
        wiring.reset()
        yield resources
        wiring.reset()


@pytest.fixture(scope="module")
def shared_posting(shared_aws: LocalResources) -> Posting:
    return moto_posting()
