"""Properties of the 271 reader: what write_271 writes reads back equal and without problems; a 271 with
an unknown or malformed segment anywhere is a clear problem at that segment, never a crash, and never
quotes the segment's values."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.x12.claim837 import ControlNumbers
from medbill.x12.eligibility import codes as c
from medbill.x12.eligibility.models import (
    Benefit,
    DatePeriod,
    Member,
    Party,
    Reference,
    Rejection,
    SubscriberResponse,
    Trace,
)
from medbill.x12.eligibility.reader271 import parse_271
from medbill.x12.eligibility.summary import check_271, summarize_271
from medbill.x12.eligibility.writer271 import write_271

from .eligibility_texts import RICH_271_BODY, interchange

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
text = st.text(ALNUM + " ", min_size=1, max_size=12).map(str.strip).filter(bool)
ident = st.text(ALNUM, min_size=1, max_size=12)
amount = st.integers(0, 9_999_99).map(lambda n: Decimal(n).scaleb(-2))
percent = st.integers(0, 100).map(lambda n: Decimal(n).scaleb(-2))
d8 = st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(lambda d: d.strftime("%Y%m%d"))


def codes_of(table: object) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(table))  # type: ignore[call-overload]


@st.composite
def date_period(draw: st.DrawFn, qualifiers: list[str]) -> DatePeriod:
    qualifier = draw(st.sampled_from(qualifiers))
    start = draw(st.dates(date(1990, 1, 1), date(2030, 1, 1)))
    if draw(st.booleans()):
        end = start + timedelta(days=draw(st.integers(0, 400)))
        return DatePeriod(qualifier, "RD8", start.strftime("%Y%m%d"), end.strftime("%Y%m%d"))
    return DatePeriod(qualifier, "D8", start.strftime("%Y%m%d"))


@st.composite
def rejection(draw: st.DrawFn, loop: str) -> Rejection:
    return Rejection(
        loop,
        draw(st.sampled_from(["Y", "N"])),
        draw(codes_of(c.REJECT_REASONS_BY_LOOP[loop])),
        draw(codes_of(c.FOLLOW_UP_ACTIONS)),
    )


@st.composite
def benefit(draw: st.DrawFn, loop: str) -> Benefit:
    code = draw(codes_of(c.BENEFIT_CODES))
    b = Benefit(code, draw(st.sampled_from(["", *sorted(c.COVERAGE_LEVELS)])))
    b.service_types = draw(st.lists(codes_of(c.SERVICE_TYPES), max_size=4))
    b.insurance_type = draw(st.sampled_from(["", "HM", "PR", "MB", "C1"]))
    b.plan_description = draw(st.sampled_from(["", "GOLD PPO"]))
    b.time_period = draw(st.sampled_from(["", *sorted(c.TIME_PERIODS)]))
    b.amount = draw(amount) if code in ("B", "C", "G") or draw(st.booleans()) else None
    b.percent = draw(percent) if code == "A" or draw(st.booleans()) else None
    if draw(st.booleans()):
        b.quantity_qualifier, b.quantity = draw(codes_of(c.QUANTITY_QUALIFIERS)), Decimal(draw(st.integers(0, 99)))
    b.authorization_required = draw(st.sampled_from(["", "Y", "N", "U"]))
    b.in_network = draw(st.sampled_from(["", "Y", "N", "U", "W"]))
    b.dates = draw(st.lists(date_period(["292", "348", "349", "193"]), max_size=2))
    b.references = [Reference("18", v) for v in draw(st.lists(ident, max_size=1))]
    b.rejections = draw(st.lists(rejection(loop), max_size=1))
    b.messages = draw(st.lists(text, max_size=2))
    b.entities = [
        Party(draw(codes_of(c.PAYER_ENTITIES)), "2", draw(text), "", "PI", draw(ident))
        for _ in range(draw(st.integers(0, 2)))
    ]
    return b


@st.composite
def member(draw: st.DrawFn, level: str, dependents: int = 0) -> Member:
    name_loop, benefit_loop = ("2100C", "2110C") if level == "subscriber" else ("2100D", "2110D")
    m = Member(level, traces=[Trace("2", draw(ident), "9SUNRISE01")])  # type: ignore[arg-type]
    m.last_name, m.first_name = draw(text), draw(text)
    if level == "subscriber":
        m.id_qualifier, m.member_id = "MI", draw(ident)
    m.references = [Reference(q, draw(ident), draw(st.sampled_from(["", "ACME GROUP"]))) for q in ("18", "1L")][
        : draw(st.integers(0, 2))
    ]
    m.birth_date, m.gender = draw(d8), draw(st.sampled_from(["M", "F", "U"]))
    m.maintenance = draw(st.sampled_from([(), ("Y", "18", "001", "25"), ("N", "19")]))
    m.dates = draw(st.lists(date_period(sorted(c.PLAN_DATES)), max_size=3))
    m.rejections = draw(st.lists(rejection(name_loop), max_size=2))
    m.dependents = [draw(member("dependent")) for _ in range(dependents)]
    patient = level == "dependent" or not dependents
    m.benefits = draw(st.lists(benefit(benefit_loop), min_size=0 if m.rejections or not patient else 1, max_size=4))
    return m


@st.composite
def answers(draw: st.DrawFn) -> list[SubscriberResponse]:
    source = Party("PR", "2", "ACME HEALTH PLAN", "", "PI", "842610001")
    source.rejections = draw(st.lists(rejection("2100A"), max_size=1))
    receiver = Party("1P", "2", "SUNRISE CLINIC", "", "XX", "1234567893")
    out = []
    for _ in range(draw(st.integers(1, 4))):
        sub = draw(member("subscriber", dependents=draw(st.integers(0, 2))))
        out.append(SubscriberResponse(sub, source, receiver))
    return out


def _without_hl_ids(member: Member) -> Member:
    member.hl_id = ""
    for dep in member.dependents:
        _without_hl_ids(dep)
    return member


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers())
def test_written_271_reads_back_equal_without_problems(written: list[SubscriberResponse]) -> None:
    text = write_271(
        written,
        sender_id="PAYERSIM",
        receiver_id="SUNRISE",
        control_numbers=ControlNumbers(5, 5, (5,)),
        created=datetime(2025, 1, 2, 10, 30),
        reference="REQ1",
    )
    (resp,), envelope = parse_271(text)
    assert envelope == [] and resp.problems == []
    assert [_without_hl_ids(a.subscriber) for a in resp.subscribers] == [a.subscriber for a in written]
    assert resp.sources == [written[0].source] and resp.receivers == [written[0].receiver]


CANARY = "QXCANARYQX"
ENVELOPE = {"ISA", "GS", "ST", "SE", "GE", "IEA"}
segment_id = st.one_of(
    st.sampled_from(sorted(c.SEGMENTS_271 - {"BHT"})),
    st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True).filter(lambda s: s not in ENVELOPE),
)
element = st.one_of(st.just(CANARY), st.text(ALNUM + " .-", max_size=10), st.sampled_from(["1", "2120", "D8", "30"]))


@settings(max_examples=200, deadline=None)
@given(
    segment_id,
    st.lists(element, max_size=14),
    st.integers(1, len(RICH_271_BODY)),
)
def test_an_unknown_or_malformed_segment_is_a_clear_problem_never_a_crash(
    sid: str, elements: list[str], where: int
) -> None:
    body = [*RICH_271_BODY[:where], "*".join([sid, CANARY, *elements]), *RICH_271_BODY[where:]]
    text = interchange(body)
    (resp,), envelope = parse_271(text)
    position = where + 4  # ISA, GS, ST, then the body's segments
    assert envelope == []
    if sid not in c.SEGMENTS_271:
        assert f"{sid} at segment {position}: not a segment of the 271 (005010X279A1); ignored." in resp.problems
    _, problems, verdict = check_271(text)
    for problem in [*resp.problems, *problems, verdict]:
        assert CANARY not in problem
        assert " at segment " in problem or problem is verdict
    json.dumps(summarize_271(text))  # the summary is still produced
