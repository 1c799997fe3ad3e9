"""The payer simulator: 837P in the outbox -> 999, 277CA and a balanced, pyx12-clean 835 per payer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import config
from infra.config import ClearinghouseSettings
from infra.local.payer_simulator import PayerSimulator, adjudicate, load_rules, read_837p
from medbill.x12.ack277ca import read_277ca
from medbill.x12.ack999 import read_999
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.remittance835 import parse_835
from testkit.x12_oracle import make_claim, pyx12_errors

CREATED = datetime(2025, 3, 15, 10, 5)


def _837(claims: list[Any], icn: int) -> str:
    return write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=icn, group=icn),
        created=CREATED,
    )


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=config.DATA_BUCKET)
        yield client


def _read(s3: Any, key: str) -> str:
    return str(s3.get_object(Bucket=config.DATA_BUCKET, Key=key)["Body"].read().decode())


def _keys(s3: Any, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=config.DATA_BUCKET, Prefix=prefix).get("Contents", []))


def test_simulator_answers_with_999_277ca_and_balanced_pyx12_clean_835s(s3: Any) -> None:
    file1 = _837(
        [
            # commercial: copay on the E/M line + 20% coinsurance -> short-paid
            make_claim(
                "CLM-A1",
                payer_id="PAYERA01",
                lines=(("99213", (), "1", "150.00", (1,)), ("81002", (), "1", "20.00", (1,))),
            ),
            # Medicare-like: CO-45 only -> paid
            make_claim("CLM-B1", payer_id="PAYERB02", lines=(("99214", ("25",), "1", "200.00", (1,)),)),
        ],
        icn=101,
    )
    file2 = _837(
        [
            # 97110 denied with CARC 50 + N115; the other line paid -> short-paid, CLP02 1
            make_claim(
                "CLM-C1",
                payer_id="PAYERC03",
                lines=(("97110", (), "2", "90.00", (1,)), ("97530", (), "1", "60.00", (1,))),
            ),
            # every line denied -> CLP02 4
            make_claim("CLM-C2", payer_id="PAYERC03", lines=(("97110", (), "1", "45.00", (1,)),)),
            make_claim("CLM-B2", payer_id="PAYERB02", billing_index=1),
            # no rules for this payer -> rejected in the 277CA, no 835
            make_claim("CLM-X1", payer_id="NOSUCHPAYER"),
        ],
        icn=102,
    )
    s3.put_object(Bucket=config.DATA_BUCKET, Key=config.OUTBOX_837_PREFIX + "000000101.x12", Body=file1.encode())
    s3.put_object(Bucket=config.DATA_BUCKET, Key=config.OUTBOX_837_PREFIX + "000000102.x12", Body=file2.encode())

    sim = PayerSimulator(s3, clock=lambda: CREATED)
    assert len(sim.pending()) == 2
    assert sim.run_once() == 2
    assert sim.run_once() == 0  # idempotent
    assert sim.pending() == []
    assert sim.reports[0].outcomes == {
        "CLM-A1": "short_paid",
        "CLM-B1": "paid",
        "CLM-B2": "paid",
        "CLM-C1": "short_paid",
        "CLM-C2": "denied",
        "CLM-X1": "rejected",
    }

    acks = _keys(s3, config.ACK_999_PREFIX)
    cas = _keys(s3, config.ACK_277CA_PREFIX)
    eras = _keys(s3, config.ERA_PREFIX)
    assert acks == ["acks/999/000000101.999", "acks/999/000000102.999"]
    assert cas == ["acks/277ca/000000101.277ca", "acks/277ca/000000102.277ca"]
    assert [k.split("/")[1].split("-")[0] for k in eras] == ["PAYERA01", "PAYERB02", "PAYERC03"]  # one per payer

    for key in acks + cas + eras:
        assert pyx12_errors(_read(s3, key)) == [], key
    for key in acks:
        assert all(t.accepted and t.set_id == "837" for t in read_999(_read(s3, key)))
    ca2 = read_277ca(_read(s3, cas[1]))
    assert {c.claim_id: c.outcome for c in ca2.claims} == {
        "CLM-C1": "accepted",
        "CLM-C2": "accepted",
        "CLM-B2": "accepted",
        "CLM-X1": "rejected",
    }

    claims = {}
    for key in eras:
        for payment in parse_835(_read(s3, key)):
            assert payment.balanced and payment.valid, (key, payment.problems)
            assert payment.total_paid == sum((c.paid for c in payment.claims), D("0"))
            for claim in payment.claims:
                assert claim.balanced
                assert claim.charge - claim.paid == sum((a.amount for a in claim.all_adjustments), D("0"))
                for line in claim.lines:
                    assert line.charge - line.paid == sum((a.amount for a in line.adjustments), D("0"))
                    assert line.control_number and line.control_number.startswith(claim.claim_id + "-")
                claims[claim.claim_id] = claim
    # PAYERB02 pays two clinics' claims: one ST per payee in the same file
    assert len(list(parse_835(_read(s3, eras[1])))) == 2

    def adj(claim_id: str) -> list[tuple[str, str, D]]:
        return [(a.group, a.reason, a.amount) for a in claims[claim_id].all_adjustments]

    # 99213 150.00: allowed 120.00, copay 25, coinsurance 20% of 95 = 19.00, paid 76.00;
    # 81002 20.00: allowed 16.00, coinsurance 3.20, paid 12.80
    a1 = claims["CLM-A1"]
    assert (a1.status_code, a1.charge, a1.paid, a1.patient_responsibility) == ("1", D("170"), D("88.8"), D("47.2"))
    assert adj("CLM-A1") == [
        ("CO", "45", D("30")),
        ("PR", "2", D("19")),
        ("PR", "3", D("25")),
        ("CO", "45", D("4")),
        ("PR", "2", D("3.2")),
    ]
    b1 = claims["CLM-B1"]
    assert (b1.status_code, b1.paid, b1.patient_responsibility) == ("1", D("144"), D("0"))
    assert adj("CLM-B1") == [("CO", "45", D("56"))]
    assert b1.lines[0].modifiers == ["25"]
    c1 = claims["CLM-C1"]
    assert c1.status_code == "1"
    assert c1.lines[0].adjustments[0].group == "CO" and c1.lines[0].adjustments[0].reason == "50"
    assert c1.lines[0].remarks == [("HE", "N115")] and c1.lines[0].paid == 0
    assert c1.lines[0].units == D("2")
    c2 = claims["CLM-C2"]
    assert (c2.status_code, c2.paid) == ("4", D("0"))
    assert "CLM-X1" not in claims


def test_restarted_simulator_does_not_answer_twice(s3: Any) -> None:
    s3.put_object(
        Bucket=config.DATA_BUCKET,
        Key=config.OUTBOX_837_PREFIX + "000000007.x12",
        Body=_837([make_claim("CLM-R1", payer_id="PAYERB02")], icn=7).encode(),
    )
    assert PayerSimulator(s3).run_once() == 1
    again = PayerSimulator(s3)  # a new process: knows only the bucket
    assert again.pending() == [] and again.run_once() == 0
    assert len(_keys(s3, config.ERA_PREFIX)) == 1


def test_deductible_then_coinsurance_and_read_back_of_the_837() -> None:
    rules = load_rules()
    text = _837(
        [
            make_claim(
                "CLM-D1",
                payer_id="PAYERD04",
                lines=(
                    ("99213", (), "1", "100.00", (1,)),
                    ("97140", (), "1", "50.00", (1,)),
                    ("36415", (), "1", "40.00", (1,)),
                ),
            )
        ],
        icn=9,
    )
    (claim,) = read_837p(text)
    assert (claim.claim_id, claim.payer_id, claim.total, claim.frequency_code) == ("CLM-D1", "PAYERD04", D("190"), "1")
    assert [line.control_number for line in claim.lines] == ["CLM-D1-1", "CLM-D1-2", "CLM-D1-3"]
    result = adjudicate(claim, rules["PAYERD04"])
    l1, l2, l3 = result.lines
    # 100 -> allowed 75, deductible takes 75 of the 100 left
    assert (l1.allowed, l1.paid, l1.adjustments) == (
        D("75.00"),
        D("0.00"),
        [("CO", "45", D("25.00")), ("PR", "1", D("75.00"))],
    )
    # 97140 denied: precertification absent
    assert (l2.paid, l2.adjustments, l2.remark) == (D("0"), [("CO", "197", D("50.00"))], "N54")
    # 40 -> allowed 30, deductible 25 (what is left), coinsurance 10% of 5
    assert l3.adjustments == [("CO", "45", D("10.00")), ("PR", "1", D("25.00")), ("PR", "2", D("0.50"))]
    assert l3.paid == D("4.50")
    assert result.outcome == "short_paid" and result.status_code == "1"


def test_a_secondary_claim_is_paid_from_the_primarys_line_patient_share() -> None:
    from medbill.models.claim import Adjustment, PriorAdjudication, PriorLineAdjudication
    from medbill.models.encounter import OtherCoverage

    rules = load_rules()
    claim = make_claim(
        "CLM-S1", payer_id="PAYERA01", lines=(("99213", (), "1", "133.00", (1,)), ("36415", (), "1", "30.00", (1,)))
    )
    other = OtherCoverage.model_validate(
        {"coverage": {"payer_id": "PAYERD04", "payer_name": "DELTA", "member_id": "D-55"}}
    )
    prior = PriorAdjudication(
        sequence=1,
        payer_id="PAYERA01",
        paid=D("89.52"),
        patient_liability=D("40.88"),
        lines=[
            PriorLineAdjudication(
                line_number=1,
                paid=D("65.12"),
                adjustments=[
                    Adjustment(group="CO", reason="45", amount=D("26.60")),
                    Adjustment(group="PR", reason="2", amount=D("16.28")),
                    Adjustment(group="PR", reason="3", amount=D("25.00")),
                ],
            ),
            PriorLineAdjudication(
                line_number=2,
                paid=D("24.40"),
                adjustments=[Adjustment(group="CO", reason="45", amount=D("6.00"))],
            ),
        ],
        adjudicated_on=datetime(2025, 3, 20).date(),
    )
    enc = claim.encounter.model_copy(update={"other_coverages": [other]})
    secondary = claim.model_copy(update={"encounter": enc, "payer_sequence": 2, "prior_adjudications": [prior]})
    (read,) = read_837p(_837([secondary], icn=11))
    assert (read.payer_id, read.payer_responsibility) == ("PAYERD04", "S")
    result = adjudicate(read, rules["PAYERD04"])
    l1, l2 = result.lines
    # Line 1: the primary left 41.28; PAYERD04's 100.00 deductible takes it all (PR-1), it pays nothing.
    assert (l1.paid, l1.adjustments) == (D("0.00"), [("OA", "23", D("91.72")), ("PR", "1", D("41.28"))])
    # Line 2: nothing left by the primary: nothing to pay, all OA-23.
    assert (l2.paid, l2.adjustments) == (D("0.00"), [("OA", "23", D("30.00"))])
    assert (result.status_code, result.outcome, result.patient_responsibility) == ("2", "short_paid", D("41.28"))
    rules_e = rules["PAYERE05"]  # the demo's secondary: no deductible, pays the patient share in full
    paid = adjudicate(read, rules_e)
    assert (paid.paid, paid.patient_responsibility, paid.outcome) == (D("41.28"), D("0.00"), "paid")
