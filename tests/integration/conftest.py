"""Integration fixtures: a fresh moto account per test, provisioned from infra/config.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from infra.local.provision import LocalResources, provision
from medbill.entry import wiring

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture
def aws() -> Iterator[LocalResources]:
    with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
        resources = provision()
        wiring.reset()
        yield resources
        wiring.reset()
