"""Claim status 276 / 277 (005010X212): the 276 writer, the 277 reader (hypothesis), the simulator's
277 writer, and `medbill-x12 summary` / `validate` on both."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medbill.x12.ack277ca import StatusCode
from medbill.x12.claim837 import ControlNumbers
from medbill.x12.cli import main
from medbill.x12.segments import X12DataError
from medbill.x12.status276 import (
    Person276,
    StatusAnswer,
    StatusRequest,
    read_276_claims,
    read_277,
    summarize_277,
    write_276,
    write_277,
)

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUBSCRIBER = Person276(last_name="DOE", first_name="JANE", member_id="M123", date_of_birth=date(1980, 1, 2), gender="F")


def _request(**overrides: object) -> StatusRequest:
    fields: dict[str, object] = {
        "claim_id": "CLMABC",
        "payer_id": "PAYERA01",
        "payer_name": "ACME HEALTH",
        "provider_name": "NORTHSIDE CLINIC",
        "provider_npi": "1234567893",
        "subscriber": SUBSCRIBER,
        "total_charge": D("148.00"),
        "service_from": date(2026, 3, 1),
        "payer_claim_number": "PCN1",
    }
    fields.update(overrides)
    return StatusRequest(**fields)  # type: ignore[arg-type]


def _276(*requests: StatusRequest) -> str:
    return write_276(
        list(requests),
        sender_id="MEDBILL",
        receiver_id="CLEARINGHOUSE",
        submitter_name="MEDBILL BILLING",
        control_numbers=ControlNumbers(5, 5),
        created=CREATED,
    )


def test_the_276_asks_about_each_claim_in_the_x212_hierarchy() -> None:
    text = _276(_request())
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert segments[1:] == [
        "GS*HR*MEDBILL*CLEARINGHOUSE*20260302*0900*5*X*005010X212",
        "ST*276*0005*005010X212",
        "BHT*0010*13*0000000050005*20260302*0900",
        "HL*1**20*1",
        "NM1*PR*2*ACME HEALTH*****PI*PAYERA01",
        "HL*2*1*21*1",
        "NM1*41*2*MEDBILL BILLING*****46*MEDBILL",
        "HL*3*2*19*1",
        "NM1*1P*2*NORTHSIDE CLINIC*****XX*1234567893",
        "HL*4*3*22*0",
        "DMG*D8*19800102*F",
        "NM1*IL*1*DOE*JANE****MI*M123",
        "TRN*1*CLMABC*9MEDBILL00",
        "REF*1K*PCN1",
        "REF*EJ*CLMABC",
        "AMT*T3*148.00",
        "DTP*472*RD8*20260301-20260301",
        "SE*17*0005",
        "GE*1*5",
        "IEA*1*000000005",
    ]
    assert read_276_claims(text) == [
        {"claim_id": "CLMABC", "payer_id": "PAYERA01", "payer_claim_number": "PCN1", "total_charge": "148.00"}
    ]


def test_a_dependent_patient_gets_its_own_level() -> None:
    patient = Person276(last_name="DOE", first_name="KID", date_of_birth=date(2015, 5, 6), gender="M")
    text = _276(_request(patient=patient, payer_claim_number=None))
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert segments[10:16] == [
        "HL*4*3*22*1",
        "DMG*D8*19800102*F",
        "NM1*IL*1*DOE*JANE****MI*M123",
        "HL*5*4*23",
        "DMG*D8*20150506*M",
        "NM1*QC*1*DOE*KID",
    ]


def test_the_276_refuses_what_x12_cannot_carry_without_quoting_it() -> None:
    with pytest.raises(X12DataError) as err:
        _276(_request(subscriber=Person276(last_name="DO~E", member_id="M1")))
    assert str(err.value) == "request 1: 2100D NM103 last name is longer than 60 characters" or "DO~E" not in str(
        err.value
    )
    with pytest.raises(X12DataError, match="request 1: 2100C NM109 must be a 10-digit NPI"):
        _276(_request(provider_npi="123"))


def _277(answers: list[StatusAnswer]) -> str:
    return write_277(
        answers, sender_id="CLEARINGHOUSE", receiver_id="MEDBILL", control_numbers=ControlNumbers(6, 6), created=CREATED
    )


def test_the_277_reads_category_status_amounts_and_payer_claim_number() -> None:
    paid = StatusAnswer(
        claim_id="CLMABC",
        payer_id="PAYERA01",
        status=StatusCode(category="F1", code="65"),
        effective=datetime(2026, 3, 5, tzinfo=UTC),
        total_charge=D("148.00"),
        paid=D("120.00"),
        payer_claim_number="PCN1",
    )
    pending = StatusAnswer(
        claim_id="CLMDEF",
        payer_id="PAYERA01",
        status=StatusCode(category="P1", code="20"),
        effective=datetime(2026, 3, 5, tzinfo=UTC),
        total_charge=D("86.00"),
    )
    summary = summarize_277(_277([paid, pending]))
    assert summary["claims"] == [
        {
            "claim_id": "CLMABC",
            "payer_claim_number": "PCN1",
            "finalized": True,
            "status": [
                {
                    "statuses": [
                        {
                            "code": "F1:65",
                            "category": "F1",
                            "category_meaning": "Finalized/Payment",
                            "status_code": "65",
                            "status_meaning": "Claim/line has been paid",
                            "entity": None,
                            "entity_meaning": None,
                        }
                    ],
                    "effective_date": "20260305",
                    "total_charge": "148.00",
                    "paid": "120.00",
                    "adjudicated_date": None,
                    "check_date": None,
                    "check_number": None,
                }
            ],
        },
        {
            "claim_id": "CLMDEF",
            "payer_claim_number": None,
            "finalized": False,
            "status": [
                {
                    "statuses": [
                        {
                            "code": "P1:20",
                            "category": "P1",
                            "category_meaning": "Pending/In process",
                            "status_code": "20",
                            "status_meaning": "Accepted for processing",
                            "entity": None,
                            "entity_meaning": None,
                        }
                    ],
                    "effective_date": "20260305",
                    "total_charge": "86.00",
                    "paid": None,
                    "adjudicated_date": None,
                    "check_date": None,
                    "check_number": None,
                }
            ],
        },
    ]
    assert (summary["problems"], summary["envelope_problems"], summary["claim_count"]) == ([], [], 2)


def test_problems_name_the_segment_and_element_not_the_value() -> None:
    text = _277(
        [
            StatusAnswer(
                claim_id="CLMABC",
                payer_id="P1",
                status=StatusCode(category="F2", code="88"),
                effective=CREATED,
                total_charge=D("1.00"),
            )
        ]
    ).replace("*1.00", "*1.0X")
    result = read_277(text)
    assert len(result.problems) == 1 and result.problems[0].startswith("STC at segment 14: STC04")
    assert result.claims[0].categories == ["F2"]


@settings(max_examples=60, deadline=None)
@given(
    claims=st.lists(
        st.tuples(
            st.from_regex(r"CLM[A-Z2-7]{16}", fullmatch=True),
            st.sampled_from(["A1", "A2", "F1", "F2", "P1", "R4", "E0"]),
            st.sampled_from(["20", "65", "88", "21", "0"]),
            st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda c: c[0],
    )
)
def test_the_277_reader_reads_back_what_the_writer_wrote(claims: list[tuple[str, str, str, D]]) -> None:
    answers = [
        StatusAnswer(
            claim_id=cid,
            payer_id="PAYER",
            status=StatusCode(category=cat, code=code),
            effective=CREATED,
            total_charge=charge,
            paid=charge if cat == "F1" else None,
        )
        for cid, cat, code, charge in claims
    ]
    result = read_277(_277(answers))
    assert result.problems == [] and result.envelope_problems == []
    assert [(c.claim_id, c.categories, c.statuses[0].info.amount) for c in result.claims] == [
        (cid, [cat], charge) for cid, cat, _code, charge in claims
    ]
    assert [c.finalized for c in result.claims] == [cat.startswith("F") for _cid, cat, _c, _a in claims]


def test_the_cli_summarizes_and_validates_276_and_277(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inquiry, answer = tmp_path / "q.276", tmp_path / "a.277"
    inquiry.write_text(_276(_request()))
    answer.write_text(
        _277(
            [
                StatusAnswer(
                    claim_id="CLMABC",
                    payer_id="PAYERA01",
                    status=StatusCode(category="F2", code="88", entity="QC"),
                    effective=CREATED,
                    total_charge=D("148.00"),
                )
            ]
        )
    )
    assert main(["summary", str(inquiry)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["transaction"], out["claim_count"], out["claims"][0]["claim_id"]) == ("276", 1, "CLMABC")
    assert "DOE" not in json.dumps(out) and "M123" not in json.dumps(out)
    assert main(["summary", str(answer)]) == 0
    out = json.loads(capsys.readouterr().out)
    status = out["claims"][0]["status"][0]["statuses"][0]
    assert (status["code"], status["entity_meaning"]) == ("F2:88:QC", "patient")
    assert main(["validate", str(inquiry)]) == 0
    assert capsys.readouterr().out == (
        f"{inquiry}: OK 276: 1 transaction(s), 1 claim status inquiry(ies), envelopes well formed\n"
    )
    assert main(["validate", str(answer)]) == 0
    assert capsys.readouterr().out == (
        f"{answer}: OK 277: 1 transaction(s), 1 claim status(es): 1 finalized, envelopes well formed\n"
    )
