"""The four writers (837P, 835, 999, 277CA) and the payer simulator write exactly the text they wrote
before the X12 package was split by role (issue 8): golden files in `golden/`, generated from the code
as it was. A refactor must not move a byte; a deliberate format change regenerates them with
`python -m tests.unit.x12.test_writer_golden` (and says why in its commit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from medbill.x12.ack277ca import StatusCode, write_277ca
from medbill.x12.ack999 import ElementError, SegmentError, write_999
from medbill.x12.claim837 import ControlNumbers, transactions_needed, write_837p
from medbill.x12.remittance835 import (
    Adjustment,
    ClaimPayment,
    Contact,
    Party,
    Payment,
    PersonName,
    ProviderAdjustment,
    Reference,
    ServiceLine,
    write_835,
)
from medbill.x12.tokenizer import Delimiters
from testkit.x12_oracle import make_claim, make_person

GOLDEN = Path(__file__).with_name("golden")
CREATED = datetime(2025, 3, 15, 10, 5)


class _Settings:
    sender_id = "MEDBILL01"
    receiver_id = "CLEARHOUSE"
    submitter_name = "MEDBILL BILLING SERVICE"
    submitter_contact = "EDI DESK"
    submitter_phone = "5555550100"
    receiver_name = "ACME CLEARINGHOUSE"
    usage_indicator = "T"


def _claims() -> list[Any]:
    return [
        make_claim(
            "CLM-A1",
            payer_id="PAYERA01",
            lines=(("99213", ("25",), "1", "150.00", (1, 2)), ("81002", (), "2.5", "20.00", (2,))),
            rendering_index=1,
        ),
        make_claim("CLM-B1", payer_id="PAYERB02", lines=(("99214", ("25", "59"), "1", "200.00", (1,)),)),
        make_claim(
            "CLM-C1",
            payer_id="PAYERC03",
            relationship="child",
            patient=make_person("DOE", "JIMMY", sex="M"),
            lines=(("97110", (), "2", "90.00", (1,)), ("97530", (), "1", "60.00", (1,))),
        ),
        make_claim("CLM-C2", payer_id="PAYERC03", billing_index=1, frequency_code="7", payer_claim_number="PCN77"),
        make_claim("CLM-X1", payer_id="NOSUCHPAYER", member_id="MEM999"),
    ]


def _837(*, per_transaction: int = 2, line_breaks: bool = True) -> str:
    claims = _claims()
    counter = iter(range(41, 100))
    numbers = ControlNumbers.from_counter(
        lambda: next(counter), transactions=transactions_needed(len(claims), per_transaction)
    )
    return write_837p(
        claims,
        settings=_Settings(),
        control_numbers=numbers,
        created=CREATED,
        claims_per_transaction=per_transaction,
        line_breaks=line_breaks,
    )


def _payment(n: int) -> Payment:
    lines = [
        ServiceLine(
            "HC",
            "99213",
            D("150.00"),
            D("95.00"),
            modifiers=["25"],
            description="OFFICE VISIT",
            units=D("1"),
            original_procedure=["HC", "99214"],
            original_units=D("2"),
            dates={"150": "20250301", "472": "20250301", "151": "20250302"},
            adjustments=[Adjustment("CO", "45", D("30.00")), Adjustment("PR", "3", D("25.00"), D("1"))],
            references=[Reference("0K", "X"), Reference("6R", "CLM-A1-1"), Reference("1A", "B"), Reference("LU", "C")],
            amounts={"B6": D("120.00")},
            quantities={"ZK": D("1")},
            remarks=[("HE", "N130"), ("RX", "X1")],
        ),
        ServiceLine(
            "HC", "81002", D("20.00"), D("0"), adjustments=[Adjustment("CO", str(k), D("2.00")) for k in range(10)]
        ),
    ]
    claims = [
        ClaimPayment(
            "CLM-A1",
            "1",
            D("170.00"),
            D("95.00"),
            D("25.00"),
            "12",
            "PCN000001",
            "11",
            "1",
            drg_code="",
            header_number="1",
            adjustments=[],
            names=[
                PersonName("QC", "1", "DOE", "JANE", "Q", "JR", "MI", "W123"),
                PersonName("82", "2", "CLINIC", id_qualifier="XX", id="1234567893"),
            ],
            outpatient=["", "", "M1", "N2"],
            references=[Reference("9A", "R1"), Reference("1W", "R2"), Reference("EA", "R3")],
            dates={"050": "20250305", "233": "20250301", "232": "20250301"},
            amounts={"AU": D("120.00"), "F5": D("-0.00")},
            quantities={"CA": D("1.50")},
            lines=lines,
        ),
        ClaimPayment(
            "CLM-R1",
            "22",
            D("-50.00"),
            D("-40.00"),
            None,
            "MB",
            "PCN9",
            lines=[],
            header_number="2",
            adjustments=[Adjustment("CO", "45", D("-10.00"))],
            inpatient=["3", "", "", "", "MA01"],
        ),
    ]
    return Payment(
        D("30.67") * n,
        handling_code="C",
        payment_method="ACH",
        payment_format="CCP",
        bank_details=["01", "999999992", "DA", "123456", "1512345678", "", "01", "999988880", "DA", "98765"],
        payment_date="20250317",
        trace_number=f"TRACE{n}",
        payer_identifier="1512345678",
        originating_company_supplemental="SUPP",
        currency="USD",
        production_date="20250316",
        references=[Reference("EV", "MEDBILL01")],
        payer=Party(
            "PR",
            "ACME HEALTH",
            "XV",
            "PAYERA01",
            ["PO BOX 1", "SUITE 2"],
            "AUSTIN",
            "TX",
            "78701",
            contacts=[Contact("CX", "CLAIMS", [("TE", "8005551212"), ("EX", "12")]), Contact("BL")],
        ),
        payee=Party("PE", "SUNRISE CLINIC", "XX", "1234567893", references=[Reference("TJ", "123456789")]),
        claims=claims,
        provider_adjustments=[ProviderAdjustment("1234567893", "20251231", r, D("1.00"), "REF" + r) for r in "ABCDEFG"]
        + [ProviderAdjustment("1234567893", "20260101", "WO", D("-0.50"))],
        control_number="" if n == 1 else f"77{n}",
    )


def _835(**kwargs: Any) -> str:
    return write_835(
        [_payment(1), _payment(2)],
        sender_id="ACMEPAYER",
        receiver_id="SUNRISE",
        interchange_control_number=3051,
        created=CREATED,
        **kwargs,
    )


def _999() -> str:
    submission = _837()
    rejected = {
        "0041": [
            SegmentError(
                segment_id="CLM",
                position=12,
                loop_id="2300",
                claim_id="CLM-A1",
                elements=(ElementError(position="2", element_ref="782", code="6", bad_value="1E2"),),
            ),
            SegmentError(segment_id="NM1", position=3, code="3", loop_id="1000"),
        ]
    }
    noted = {"0042": [SegmentError(segment_id="SV1", position=20, loop_id="2400")]}
    return write_999(submission, control_numbers=ControlNumbers(7, 8), created=CREATED, rejected=rejected, noted=noted)


def _277ca(**kwargs: Any) -> str:
    rejected = {
        "CLM-X1": [StatusCode(category="A3", code="116", entity="PR")],
        "CLM-C1": [StatusCode(category="A7", code="562", entity="85"), StatusCode(category="A7", code="21")],
    }
    return write_277ca(_837(), control_numbers=ControlNumbers(9, 9), created=CREATED, rejected=rejected, **kwargs)


def _simulator() -> str:
    """Every file one simulator pass writes for two 837Ps, in key order."""
    import boto3
    from moto import mock_aws

    from infra import config
    from infra.local.payer_simulator import PayerSimulator

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=config.DATA_BUCKET)
        for name, text in (("a", _837()), ("b", _837(per_transaction=5, line_breaks=False))):
            s3.put_object(Bucket=config.DATA_BUCKET, Key=f"{config.OUTBOX_837_PREFIX}{name}.837", Body=text.encode())
        sim = PayerSimulator(s3, clock=lambda: CREATED)
        sim.run_once()
        out = []
        for key in sorted(sim.reports[0].written):
            body = s3.get_object(Bucket=config.DATA_BUCKET, Key=key)["Body"].read().decode()
            out.append(f"=== {key}\n{body}")
        out.append(f"=== outcomes {sorted(sim.reports[0].outcomes.items())}\n")
        return "".join(out)


def _837_scrubber_data_and_cob() -> str:
    """Issue 15's scrubber data (REF*SY, 2010AB pay-to, 2310C, MJ minutes) and issue 10's other payers:
    a primary naming its secondary in 2320, and the secondary claim with the primary's adjudication."""
    from datetime import date

    from medbill.models.claim import Adjustment as Adj
    from medbill.models.claim import PriorAdjudication, PriorLineAdjudication
    from medbill.models.common import Address
    from medbill.models.encounter import BillingAddress, OtherCoverage, ServiceFacility

    anesthesia = make_claim(
        "CLM-AN1", payer_id="PAYERA01", place_of_service="22", lines=(("00790", (), "45", "900.00", (1,)),)
    )
    enc = anesthesia.encounter
    billing = enc.billing_provider.model_copy(
        update={
            "tin": "123456789",
            "tin_qualifier": "SY",
            "pay_to_address": Address(line1="PO BOX 4410", city="SPRINGFIELD", state="IL", postal_code="62708"),
        }
    )
    facility = ServiceFacility(
        organization_name="MEMORIAL HOSPITAL OUTPATIENT",
        npi="1497758544",
        address=BillingAddress(line1="800 N RUTLEDGE ST", city="SPRINGFIELD", state="IL", postal_code="627810001"),
    )
    anesthesia = anesthesia.model_copy(
        update={"encounter": enc.model_copy(update={"billing_provider": billing, "service_facility": facility})}
    )
    second = OtherCoverage.model_validate(
        {
            "coverage": {"payer_id": "PAYERE05", "payer_name": "EPSILON SUPPLEMENTAL", "member_id": "EPS1"},
            "subscriber": {"relationship": "spouse", "person": make_person("DOE", "JOHN", sex="M").model_dump()},
        }
    )
    primary = make_claim("CLM-P1", payer_id="PAYERA01", lines=(("99213", ("25",), "1", "150.00", (1,)),))
    primary = primary.model_copy(
        update={"encounter": primary.encounter.model_copy(update={"other_coverages": [second]})}
    )
    adjudication = PriorAdjudication(
        sequence=1,
        payer_id="PAYERA01",
        payer_claim_number="PCN0001",
        paid=D("96.00"),
        patient_liability=D("24.00"),
        lines=[
            PriorLineAdjudication(
                line_number=1,
                paid=D("96.00"),
                adjustments=[
                    Adj(group="CO", reason="45", amount=D("30.00")),
                    Adj(group="PR", reason="2", amount=D("24.00")),
                ],
            )
        ],
        adjudicated_on=date(2025, 3, 28),
    )
    secondary = primary.model_copy(
        update={"claim_id": "CLM-P1S", "payer_sequence": 2, "prior_adjudications": [adjudication]}
    )
    claims = [anesthesia, primary, secondary]
    counter = iter(range(61, 100))
    numbers = ControlNumbers.from_counter(lambda: next(counter), transactions=1)
    return write_837p(claims, settings=_Settings(), control_numbers=numbers, created=CREATED)


CASES: dict[str, Callable[[], str]] = {
    "837p_scrubber_data_and_cob.txt": _837_scrubber_data_and_cob,
    "837p_two_per_transaction.txt": _837,
    "837p_one_transaction_no_line_breaks.txt": lambda: _837(per_transaction=5, line_breaks=False),
    "835_default.txt": _835,
    "835_delimiters_line_breaks.txt": lambda: _835(
        delimiters=Delimiters("|", "!", ">", "'"),
        line_breaks=True,
        sender_qualifier="Z",
        receiver_qualifier="30",
        group_control_number=12,
        application_sender="APPS",
        application_receiver="APPR",
        usage="T",
    ),
    "999.txt": _999,
    "277ca_default_pcn.txt": _277ca,
    "277ca_own_pcn.txt": lambda: _277ca(
        payer_claim_number=lambda cid: f"PCN-{cid}", received=datetime(2025, 3, 14).date(), usage_indicator="P"
    ),
    "payer_simulator_pass.txt": _simulator,
}


def _cases() -> Iterator[tuple[str, Callable[[], str]]]:
    yield from CASES.items()


@pytest.mark.parametrize(("name", "make"), list(_cases()), ids=list(CASES))
def test_writer_output_is_byte_identical_to_the_golden_file(name: str, make: Callable[[], str]) -> None:
    expected = (GOLDEN / name).read_bytes().decode("utf-8")
    assert make() == expected


if __name__ == "__main__":  # regenerate: only for a deliberate format change
    GOLDEN.mkdir(exist_ok=True)
    for name, make in _cases():
        (GOLDEN / name).write_bytes(make().encode("utf-8"))
        print(f"wrote {GOLDEN / name}", file=sys.stderr)
