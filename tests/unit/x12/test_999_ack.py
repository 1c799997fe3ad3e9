"""999: what we write for the simulator passes pyx12 and reads back to the same verdicts."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from infra.config import ClearinghouseSettings
from medbill.x12.ack999 import ElementError, SegmentError, read_999, read_999_groups, summarize_999, write_999
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.cli import main
from medbill.x12.envelope import check_envelopes
from medbill.x12.segments import X12DataError
from medbill.x12.tokenizer import tokenize
from testkit.x12_oracle import make_claim, pyx12_errors

CREATED = datetime(2025, 3, 16, 8, 0)


@pytest.fixture(scope="module")
def submission() -> str:
    claims = [make_claim(f"CLM{n}", billing_index=n % 2) for n in range(5)]
    return write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=5, group=5, transactions=(1, 2, 3)),  # ST02 0001..0003
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


ISA_999 = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~"


def a999(body: str, *, se01: int | None = None, iea02: str = "000000001") -> str:
    """A one-group 999 around ``body`` (the segments between ST and SE, each ending in '~')."""
    count = se01 if se01 is not None else body.count("~") + 2
    return (
        f"{ISA_999}GS*FA*A*B*20250101*1200*1*X*005010X231A1~ST*999*0001*005010X231A1~{body}"
        f"SE*{count}*0001~GE*1*1~IEA*1*{iea02}~"
    )


def test_group_rejected_as_a_whole_without_ak2_is_rejected_with_its_counts(tmp_path, capsys) -> None:
    # The audit's grp_rej.999: AK9 rejects both transactions of the group (AK905 4: GE01 count wrong).
    text = a999("AK1*HC*1*005010X222A1~AK9*R*2*2*0*4~")
    assert read_999(text) == []  # no AK2 to name a transaction
    (group,) = read_999_groups(text)[0]
    assert (group.status, group.rejected, group.included, group.received, group.accepted_count) == (
        "rejected",
        True,
        2,
        2,
        0,
    )
    assert group.error_codes == ("4",) and group.counts() == {"accepted": 0, "accepted_with_errors": 0, "rejected": 2}
    summary = summarize_999(text)
    assert summary["status"] == "rejected" and (summary["accepted"], summary["rejected"]) == (0, 2)
    (g,) = summary["groups"]
    assert (g["status"], g["ak9_code"], g["error_codes"], g["transactions_received"]) == ("rejected", "R", ["4"], 2)

    path = tmp_path / "grp_rej.999"
    path.write_text(text)
    assert main(["summary", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "rejected" and out["rejected"] == 2 and out["accepted"] == 0
    assert main(["validate", str(path)]) == 0
    line = capsys.readouterr().out
    assert "group 1: rejected (0 of 2 transaction(s) accepted)" in line and "accepted," not in line


def test_a_rejected_group_rejects_transactions_whatever_their_ik5_says() -> None:
    text = a999("AK1*HC*1*005010X222A1~AK2*837*0001~IK5*A~AK9*R*1*1*0*4~")
    (only,) = read_999(text)
    assert (only.status, only.ik5_code, only.group_status, only.accepted) == ("rejected", "A", "R", False)
    assert summarize_999(text)["rejected"] == 1


def test_summary_lists_envelope_and_content_problems() -> None:
    text = a999("AK1*HC*1*005010X222A1~AK2*837*0001~IK3*NM1*1_0*2010BA*8~IK5*A~AK9*A*1*1*Z~", iea02="000000002")
    summary = summarize_999(text)
    assert summary["envelope_problems"] == [
        "IEA at segment 11: IEA02 control number 000000002 does not match ISA13 000000001 at segment 1."
    ]
    assert [p.split(":")[0] for p in summary["problems"]] == ["IK3 at segment 6", "AK9 at segment 8"]
    assert "IK302 '1_0' is not an X12 whole number" in summary["problems"][0]
    assert "AK904 (1 character, not shown) is not an X12 whole number" in summary["problems"][1]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("AK1*HC*1~AK2*837*0001~AK9*A*1*1*1~", "AK2 at segment 5: no IK5 closes it."),
        ("AK1*HC*1~AK2*837*0001~IK5*A~", "AK1 at segment 4: no AK9 gives the group's verdict."),
        (
            "AK1*HC*1~AK2*837*0001~IK5*A~AK9*A*1*1*0~",
            "AK9 at segment 7: AK904 says 0 accepted but the AK2 loops accept 1.",
        ),
        ("AK2*837*0001~IK5*A~AK9*A*1*1*1~", "AK2 at segment 4: no AK1 names the group it answers."),
        ("AK1*HC*1~AK9*Q*1*1*1~", "AK9 at segment 5: AK901 Q is not a 999 group status."),
        ("AK1*HC*1~AK9*P*2*2*-5~", "AK9 at segment 5: AK904 -5 is negative, which a count or position cannot be."),
        (
            "AK1*HC*1~AK2*837*0001~IK3*NM1*-3**8~IK5*R*5~AK9*R*1*1*0~",
            "IK3 at segment 6: IK302 -3 is negative, which a count or position cannot be.",
        ),
        ("AK1*HC*1~AK2*837*0001~IK3*NM1*17**8~", "AK2 at segment 5: no IK5 closes it."),  # nor an AK9
    ],
)
def test_broken_999s_are_problems_for_validate(tmp_path, capsys, body: str, problem: str) -> None:
    text = a999(body)
    assert problem in read_999_groups(text)[1]
    path = tmp_path / "broken.999"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    assert f"{path}: {problem}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "AK1*HC*1~AK2*837*0001~IK5*A~AK2*837*0002~IK3*CLM*20*2300*8~IK5*R*5~AK9*A*2*2*1~",
            "AK9 at segment 10: AK901 A accepts the group but the AK2 loop(s) for transaction(s) 0002 reject.",
        ),
        (
            "AK1*HC*1~AK9*E*2*2*1~",
            "AK9 at segment 5: AK901 E accepts the group but AK904 says 1 accepted of 2 received.",
        ),
    ],
)
def test_a_group_with_a_rejected_transaction_is_never_accepted(tmp_path, capsys, body: str, problem: str) -> None:
    text = a999(body)
    groups, problems = read_999_groups(text)
    assert problem in problems
    assert groups[0].status == "partially_accepted"
    summary = summarize_999(text)
    assert (summary["status"], summary["groups"][0]["status"]) == ("partially_accepted", "partially_accepted")
    assert (summary["accepted"] + summary["accepted_with_errors"], summary["rejected"]) == (1, 1)
    path = tmp_path / "contradiction.999"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    assert f"{path}: {problem}" in capsys.readouterr().out


def test_group_status_follows_the_ak2_verdicts() -> None:
    all_rejected = a999("AK1*HC*1~AK2*837*0001~IK5*R*5~AK9*P*1*1*0~")
    assert read_999_groups(all_rejected)[0][0].status == "rejected"
    noted = a999("AK1*HC*1~AK2*837*0001~IK5*E~AK9*A*1*1*1~")
    assert read_999_groups(noted)[0][0].status == "accepted_with_errors"


@pytest.mark.parametrize(
    ("body", "element", "at"),
    [
        ("AK1*HC*1~AK2*837*0001~IK5*A~AK9*A*1*1*" + "1" * 5000 + "~", "AK904", 7),
        ("AK1*HC*1~AK2*837*0001~IK3*NM1*" + "7" * 5000 + "**8~IK5*R*5~AK9*R*1*1*0~", "IK302", 6),
        ("AK1*HC*1~AK9*R*" + "2" * 19 + "*2*0~", "AK902", 5),
    ],
)
def test_counts_longer_than_x12_allows_are_problems_not_crashes(
    tmp_path, capsys, body: str, element: str, at: int
) -> None:
    text = a999(body)
    problems = read_999_groups(text)[1]
    prefix = f"{'IK3' if element == 'IK302' else 'AK9'} at segment {at}: {element} "
    suffix = "is not an X12 whole number (more than 18 digits)."
    assert any(p.startswith(prefix) and p.endswith(suffix) for p in problems), problems
    path = tmp_path / "huge.999"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    assert "could not be read" not in capsys.readouterr().err
