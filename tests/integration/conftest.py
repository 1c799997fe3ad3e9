"""Integration fixtures: a fresh moto account per test, provisioned from infra.config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from infra.local.core_endpoint import SECRET_NAME, CoreEndpoint, put_secret
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


@pytest.fixture
def core_endpoint(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[CoreEndpoint]:
    """The payer simulator's CAQH CORE eligibility endpoint on 127.0.0.1, its secret in moto, and
    ELIGIBILITY_SECRET_ID naming it (the eligibility handler's gateway asks it in real time)."""
    import boto3

    with CoreEndpoint() as endpoint:
        put_secret(boto3.client("secretsmanager"), endpoint.secret())
        monkeypatch.setenv("ELIGIBILITY_SECRET_ID", SECRET_NAME)
        wiring.reset()
        yield endpoint
    wiring.reset()
