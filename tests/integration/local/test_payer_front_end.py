"""The payer simulator's front-end scenarios (infra/local/payer_front_end.py), by member id: a 999
that rejects the 837P (pyx12-clean, IK3/IK4 on the subscriber's NM1, no 277CA, no 835), a 277CA
rejection with the configured STC, and a claim accepted and left without an 835 that a 276 finds
pending (P1:20)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import config
from infra.config import ClearinghouseSettings
from infra.local.payer_rules import RULES_PATH
from infra.local.payer_simulator import PayerSimulator
from medbill.x12.ack277ca import read_277ca
from medbill.x12.ack999 import read_999_groups
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.status276 import Person276, StatusRequest, read_277, write_276
from testkit.x12_oracle import make_claim, pyx12_errors

CREATED = datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=config.DATA_BUCKET)
        yield client


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    doc = json.loads(RULES_PATH.read_text())
    doc["scenarios"] = {"reject_999": ["BADFILE1"], "reject_277ca": {"REJECT01": "A7:562:85"}, "pend": ["QUIET001"]}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(doc))
    return path


def _put(s3: Any, name: str, text: str) -> None:
    s3.put_object(Bucket=config.DATA_BUCKET, Key=f"{config.OUTBOX_837_PREFIX}{name}", Body=text.encode())


def _read(s3: Any, key: str) -> str:
    return str(s3.get_object(Bucket=config.DATA_BUCKET, Key=key)["Body"].read().decode())


def _keys(s3: Any, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=config.DATA_BUCKET, Prefix=prefix).get("Contents", []))


def _837(claim_id: str, member: str, icn: int) -> str:
    claim = make_claim(claim_id, payer_id="PAYERA01", member_id=member)
    return write_837p(
        [claim], settings=ClearinghouseSettings(), control_numbers=ControlNumbers(icn, icn), created=CREATED
    )


def test_the_scenarios_answer_by_member_id(s3: Any, rules: Path) -> None:
    _put(s3, "bad-000000001.x12", _837("CLM-BAD", "BADFILE1", 1))
    _put(s3, "rej-000000002.x12", _837("CLM-REJ", "REJECT01", 2))
    _put(s3, "quiet-000000003.x12", _837("CLM-QUIET", "QUIET001", 3))
    sim = PayerSimulator(s3, rules_path=rules, clock=lambda: CREATED)

    assert sim.run_once() == 3

    assert sim.reports[-1].outcomes == {"CLM-BAD": "not_received", "CLM-REJ": "rejected", "CLM-QUIET": "pended"}
    bad_999 = _read(s3, f"{config.ACK_999_PREFIX}bad-000000001.999")
    assert pyx12_errors(bad_999) == []
    (group,), problems = read_999_groups(bad_999)
    (tx,) = group.transactions
    (error,) = tx.segment_errors
    assert (problems, group.rejected, tx.ik5_code) == ([], True, "R")
    assert (error.segment_id, error.loop_id, error.code) == ("NM1", "2010", "8")
    assert [(e.position, e.code, e.element_ref) for e in error.elements] == [("9", "6", "67")]
    assert f"{config.ACK_277CA_PREFIX}bad-000000001.277ca" not in _keys(s3, config.ACK_277CA_PREFIX)
    rejected = read_277ca(_read(s3, f"{config.ACK_277CA_PREFIX}rej-000000002.277ca"))
    assert [(c.claim_id, c.outcome, c.codes) for c in rejected.claims] == [("CLM-REJ", "rejected", ["A7:562:85"])]
    quiet = read_277ca(_read(s3, f"{config.ACK_277CA_PREFIX}quiet-000000003.277ca"))
    assert [(c.claim_id, c.outcome) for c in quiet.claims] == [("CLM-QUIET", "accepted")]
    assert _keys(s3, config.ERA_PREFIX) == []  # nobody is paid

    ask = write_276(
        [
            StatusRequest(
                claim_id=cid,
                payer_id="PAYERA01",
                payer_name="ALPHA",
                provider_name="CLINIC",
                provider_npi="1234567893",
                subscriber=Person276(last_name="DOE", member_id="M1"),
                total_charge=D("100.00"),
                service_from=date(2026, 11, 20),
            )
            for cid in ("CLM-QUIET", "CLM-BAD")
        ],
        sender_id="MEDBILL",
        receiver_id="CLEARINGHOUSE",
        submitter_name="MEDBILL",
        control_numbers=ControlNumbers(9, 9),
        created=CREATED,
    )
    _put(s3, "ask-000000009.x12", ask)
    assert sim.run_once() == 1
    answer = read_277(_read(s3, f"{config.STATUS_277_PREFIX}ask-000000009.277"))
    assert [(c.claim_id, [str(s) for st in c.statuses for s in st.codes]) for c in answer.claims] == [
        ("CLM-QUIET", ["P1:20"]),
        ("CLM-BAD", ["A4:35"]),  # the 999 rejected it: the payer never saw it
    ]
