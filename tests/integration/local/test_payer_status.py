"""The payer simulator answers 276 claim status inquiries (infra/local/payer_status.py) with a 277
(005010X212) from what it decided for each claim: finalized when adjudicated, not found otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import config
from infra.config import ClearinghouseSettings
from infra.local.payer_remittance import payer_claim_number
from infra.local.payer_simulator import PayerSimulator
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.status276 import Person276, StatusRequest, read_277, write_276
from testkit.x12_oracle import make_claim

CREATED = datetime(2025, 3, 15, 10, 5)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=config.DATA_BUCKET)
        yield client


def _ask(*claim_ids: str) -> str:
    requests = [
        StatusRequest(
            claim_id=cid,
            payer_id="PAYERB02",
            payer_name="PAYER B",
            provider_name="CLINIC",
            provider_npi="1234567893",
            subscriber=Person276(last_name="DOE", member_id="M1"),
            total_charge=D("150.00"),
            service_from=date(2025, 3, 1),
        )
        for cid in claim_ids
    ]
    return write_276(
        requests,
        sender_id="MEDBILL",
        receiver_id="CLEARINGHOUSE",
        submitter_name="MEDBILL",
        control_numbers=ControlNumbers(70, 70),
        created=CREATED,
    )


def test_a_276_gets_a_277_from_the_simulators_outcomes(s3: Any) -> None:
    claim = make_claim("CLM-S1", payer_id="PAYERB02", lines=(("99213", (), "1", "150.00", (1,)),))
    text = write_837p([claim], settings=ClearinghouseSettings(), control_numbers=ControlNumbers(1, 1), created=CREATED)
    s3.put_object(Bucket=config.DATA_BUCKET, Key=f"{config.OUTBOX_837_PREFIX}CLM-S1-000000001.x12", Body=text)
    sim = PayerSimulator(s3, config.DATA_BUCKET, clock=lambda: CREATED)
    assert sim.run_once() == 1
    outcome = sim.reports[0].outcomes["CLM-S1"]

    s3.put_object(
        Bucket=config.DATA_BUCKET, Key=f"{config.OUTBOX_837_PREFIX}ask-1.276", Body=_ask("CLM-S1", "CLM-NONE")
    )
    assert sim.run_once() == 1

    answer = s3.get_object(Bucket=config.DATA_BUCKET, Key=f"{config.STATUS_277_PREFIX}ask-1.277")["Body"].read()
    result = read_277(answer.decode())
    assert result.problems == [] and result.envelope_problems == []
    expected = "F2" if outcome == "denied" else "F1"
    assert [(c.claim_id, c.categories, c.payer_claim_number) for c in result.claims] == [
        ("CLM-S1", [expected], payer_claim_number("PAYERB02", "CLM-S1")),
        ("CLM-NONE", ["A4"], None),
    ]
    assert sim.run_once() == 0  # answered once
