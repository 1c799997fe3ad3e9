"""999: what we write for the simulator passes pyx12 and reads back to the same verdicts."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from infra.config import ClearinghouseSettings
from medbill.x12.ack999 import ElementError, SegmentError, read_999, summarize_999, write_999
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.envelope import check_envelopes
from medbill.x12.segments import X12DataError
from medbill.x12.tokenizer import tokenize
from tests.x12_oracle import make_claim, pyx12_errors

CREATED = datetime(2025, 3, 16, 8, 0)


@pytest.fixture(scope="module")
def submission() -> str:
    claims = [make_claim(f"CLM{n}", billing_index=n % 2) for n in range(5)]
    return write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=5, group=5),
        created=datetime(2025, 3, 15, 10, 5),
        claims_per_transaction=2,
    )


def ack(submission: str, **kwargs) -> str:
    text = write_999(submission, control_numbers=ControlNumbers(interchange=900, group=900), created=CREATED, **kwargs)
    assert pyx12_errors(text) == []
    assert check_envelopes(text)[1] == []
    return text


def test_accept_all(submission: str) -> None:
    text = ack(submission)
    acks = read_999(text)
    assert [(a.group_control_number, a.control_number, a.status) for a in acks] == [
        ("5", "0001", "accepted"),
        ("5", "0002", "accepted"),
        ("5", "0003", "accepted"),
    ]
    assert all(a.accepted and a.group_status == "A" and a.set_id == "837" for a in acks)
    assert all(a.implementation == "005010X222A1" for a in acks)
    segs = list(tokenize(text))
    isa = segs[0]
    # Sender and receiver are the submission's, swapped.
    assert (isa.get(6).strip(), isa.get(8).strip(), isa.get(13)) == ("CLEARINGHOUSE", "MEDBILL", "000000900")
    gs = segs[1]
    assert (gs.get(1), gs.get(2), gs.get(3), gs.get(8)) == ("FA", "CLEARINGHOUSE", "MEDBILL", "005010X231A1")
    assert next(s for s in segs if s.id == "AK9").elements == ["A", "3", "3", "3"]


def test_reject_one_transaction_with_segment_and_element_errors(submission: str) -> None:
    errors = [
        SegmentError(
            segment_id="CLM",
            position=22,
            code="8",
            loop_id="2300",
            claim_id="CLM2",
            elements=(ElementError(position="5:1", element_ref="1331", code="7", bad_value="99"),),
        ),
        SegmentError(segment_id="HI", position=23, code="3", loop_id="2300"),
    ]
    text = ack(submission, rejected={"0002": errors})
    acks = {a.control_number: a for a in read_999(text)}
    assert acks["0001"].status == "accepted" and acks["0003"].status == "accepted"
    rejected = acks["0002"]
    assert (rejected.status, rejected.ik5_code, rejected.error_codes, rejected.group_status) == (
        "rejected",
        "R",
        ("5",),
        "P",
    )
    assert rejected.segment_errors == tuple(errors)
    assert "AK9*P*3*3*2~" in text


def test_reject_everything_and_noted_errors(submission: str) -> None:
    bad = [SegmentError(segment_id="NM1", position=9, code="8", loop_id="2010")]
    text = ack(submission, rejected={"0001": bad, "0002": bad, "0003": bad})
    assert {a.status for a in read_999(text)} == {"rejected"}
    assert "AK9*R*3*3*0~" in text
    text = ack(submission, noted={"0003": bad})
    acks = read_999(text)
    assert [a.status for a in acks] == ["accepted", "accepted", "accepted_with_errors"]
    assert "AK9*E*3*3*3~" in text


def test_summary_is_plain_json_without_bad_values(submission: str) -> None:
    errors = [
        SegmentError(
            segment_id="NM1",
            position=12,
            code="8",
            loop_id="2010",
            elements=(ElementError(position="3", element_ref="1035", code="6", bad_value="PHICANARY"),),
        )
    ]
    text = ack(submission, rejected={"0001": errors})
    assert read_999(text)[0].segment_errors[0].elements[0].bad_value == "PHICANARY"  # readable on purpose
    summary = summarize_999(text)
    blob = json.dumps(summary)
    assert "PHICANARY" not in blob
    assert (summary["accepted"], summary["rejected"], summary["transaction_count"]) == (2, 1, 3)
    (group,) = summary["groups"]
    assert group["status"] == "partially_accepted" and group["group_control_number"] == "5"
    assert group["transactions"][0]["segment_errors"][0]["element_errors"] == [
        {"position": "3", "element_ref": "1035", "code": "6"}
    ]


def test_unknown_or_malformed_rejections_are_refused(submission: str) -> None:
    created = dict(control_numbers=ControlNumbers(interchange=1, group=1), created=CREATED)
    with pytest.raises(X12DataError, match="no transaction 0009"):
        write_999(submission, rejected={"0009": []}, **created)
    with pytest.raises(X12DataError, match="IK3"):
        write_999(
            submission, rejected={"0001": [SegmentError(segment_id="NM1", position=3, loop_id="2010BA")]}, **created
        )
    with pytest.raises(X12DataError, match="both"):
        bad = [SegmentError(segment_id="NM1", position=3)]
        write_999(submission, rejected={"0001": bad}, noted={"0001": bad}, **created)
    with pytest.raises(X12DataError, match="transaction 0001: IK301 holds an X12 separator"):
        write_999(submission, rejected={"0001": [SegmentError(segment_id="N*1", position=3)]}, **created)


def test_broken_999_without_ik5_is_not_taken_as_accepted() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~"
        "GS*FA*A*B*20250101*1200*1*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*7*005010X222A1~"
        "AK2*837*0001*005010X222A1~AK9*R*1*1*0~SE*5*0001~GE*1*1~IEA*1*000000001~"
    )
    (only,) = read_999(text)
    assert (only.status, only.group_control_number, only.group_status) == ("rejected", "7", "R")
