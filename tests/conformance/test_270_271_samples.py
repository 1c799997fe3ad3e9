"""Public 270/271 samples (../shared/x12-samples/270_271, read in place): what our reader finds in each,
the `medbill-x12` verdicts, and agreement with x12sdk 2.2.0, the independent reader.

Hand checks behind the expected values:
- lfh_subscriber-health-benefit-check.270: one subscriber (HL 3, TRN*1 93175-012547), DTP*291
  20060501, EQ*30: a well-formed request.
- lfh_subscriber-health-benefit-check.271: the answer (TRN*2 echoes the same trace), plan begin
  20060101, EB*1 for 30 "GOLD 123 PLAN", a primary care provider in 2120C (P3, SV 0202034), EB*1 and
  two co-pays for ten service types: 10.00 per visit in network, 30.00 out of network.
- lfh_subscriber-health-benefit-check-error.271: the receiver is rejected (2100B AAA*Y**50*N:
  provider ineligible for inquiries, resubmission not allowed); its SE02 is 4323 where ST02 is
  4321, which `validate` reports (the sample is otherwise well formed).
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from medbill.x12.cli import main
from medbill.x12.eligibility import FollowUp
from medbill.x12.eligibility.models import DatePeriod, Trace
from medbill.x12.eligibility.reader271 import parse_270, parse_271
from testkit.eligibility import our_upper, our_view, x12sdk_upper, x12sdk_view

from .conftest import sample_text

FOLDER = "270_271"
REQUEST = "lfh_subscriber-health-benefit-check.270"
ANSWER = "lfh_subscriber-health-benefit-check.271"
ERROR = "lfh_subscriber-health-benefit-check-error.271"
SERVICE_TYPES = ["1", "33", "35", "47", "86", "88", "98", "AL", "MH", "UC"]


def test_the_folder_holds_the_three_samples(x12_samples: Path) -> None:
    assert sorted(p.name for p in (x12_samples / FOLDER).iterdir()) == sorted([REQUEST, ANSWER, ERROR])


def test_sample_270(x12_samples: Path) -> None:
    (resp,), envelope = parse_270(sample_text(x12_samples / FOLDER / REQUEST))
    assert envelope == [] and resp.problems == []
    (answer,) = resp.subscribers
    sub = answer.subscriber
    assert (sub.traces, sub.inquiries, sub.dates) == (
        [Trace("1", "93175-012547", "9877281234")],
        ["30"],
        [DatePeriod("291", "D8", "20060501")],
    )
    assert (sub.member_id, sub.last_name, sub.birth_date) == ("11122333301", "SMITH", "19430519")
    assert (answer.source.id, answer.receiver.id_qualifier, answer.receiver.id) == ("842610001", "SV", "2000035")


def test_sample_271(x12_samples: Path) -> None:
    (resp,), envelope = parse_271(sample_text(x12_samples / FOLDER / ANSWER))
    assert envelope == [] and resp.problems == []
    (answer,) = resp.subscribers
    sub = answer.subscriber
    assert answer.status(sub) == "active" and sub.trace_numbers == ["93175-012547"]
    assert (sub.member_id, sub.first_name, sub.gender, sub.locality) == (
        "123456789",
        "JOHN",
        "M",
        ["KANSAS CITY", "MO", "64108"],
    )
    assert sub.plan_dates == {"plan_begin": DatePeriod("346", "D8", "20060101")}
    assert [
        (b.code, b.service_types, b.plan_description, b.time_period, b.amount, b.in_network) for b in sub.benefits
    ] == [
        ("1", ["30"], "GOLD 123 PLAN", "", None, ""),
        ("L", [], "", "", None, ""),
        ("1", SERVICE_TYPES, "", "", None, ""),
        ("B", SERVICE_TYPES, "GOLD 123 PLAN", "27", D("10.00"), "Y"),
        ("B", SERVICE_TYPES, "GOLD 123 PLAN", "27", D("30.00"), "N"),
    ]
    (pcp,) = sub.benefits[1].entities
    assert (pcp.entity, pcp.entity_type, pcp.id_qualifier, pcp.id) == ("P3", "1", "SV", "0202034")


def test_sample_271_with_a_rejected_receiver(x12_samples: Path) -> None:
    (resp,), envelope = parse_271(sample_text(x12_samples / FOLDER / ERROR))
    assert envelope == [] and resp.subscribers == []
    assert resp.problems == ["SE at segment 10: SE02 control number 4323 does not match ST02 4321 at segment 3."]
    ((aaa,),) = [r.rejections for r in resp.receivers]
    assert (aaa.loop, aaa.valid_request, aaa.reason, aaa.meaning) == (
        "2100B",
        "Y",
        "50",
        "Provider Ineligible for Inquiries",
    )
    assert (aaa.follow_up_meaning, aaa.action) == ("Resubmission Not Allowed", FollowUp.DO_NOT_RESEND)


@pytest.mark.parametrize(
    ("name", "code", "lines"),
    [
        (REQUEST, 0, ["{p}: OK 270: 1 transaction(s), 1 request(s), envelopes well formed"]),
        (
            ANSWER,
            0,
            [
                "{p}: OK 271: 1 transaction(s), "
                + "1 subscriber(s) and 0 dependent(s): 1 active, 0 inactive, 0 rejected, envelopes well formed"
            ],
        ),
        (
            ERROR,
            1,
            [
                "{p}: SE at segment 10: SE02 control number 4323 does not match ST02 4321 at segment 3.",
                "{p}: INVALID 271: 1 problem(s) in 1 transaction(s)",
            ],
        ),
    ],
)
def test_validate_verdicts(
    x12_samples: Path, capsys: pytest.CaptureFixture[str], name: str, code: int, lines: list[str]
) -> None:
    path = str(x12_samples / FOLDER / name)
    assert main(["validate", path]) == code
    assert capsys.readouterr().out.splitlines() == [line.format(p=path) for line in lines]


@pytest.mark.parametrize("name", [ANSWER, ERROR])
def test_x12sdk_reads_the_samples_as_we_do(x12_samples: Path, name: str) -> None:
    """Members (id, name, traces, AAA, every EB's codes and amounts, 2120 entities) and the source and
    receiver rejections, as read by x12sdk 2.2.0 and by us."""
    text = sample_text(x12_samples / FOLDER / name)
    assert our_view(text) == x12sdk_view(text)
    assert our_upper(text) == x12sdk_upper(text)
    assert (len(our_view(text)), len(our_upper(text))) == ((1, 0) if name == ANSWER else (0, 1))
