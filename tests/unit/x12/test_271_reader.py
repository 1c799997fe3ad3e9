"""271 reader (005010X279A1): every field of a hand-written response, rejections at every level with
their follow-up, the structure and code checks (exact problem texts), streaming, and no PHI in problems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D

import pytest

from medbill.x12.eligibility import FollowUp, answers_by_trace
from medbill.x12.eligibility.models import DatePeriod, Reference, Trace
from medbill.x12.eligibility.reader271 import EligibilityReader, parse_271
from medbill.x12.eligibility.summary import check_271, summarize_271

from .eligibility_texts import RICH_271, RICH_271_BODY, UPPER_271, interchange


def _read(text: str):  # type: ignore[no-untyped-def]
    responses, envelope = parse_271(text)
    assert envelope == []
    (resp,) = responses
    return resp


def test_rich_response_source_receiver_and_traces() -> None:
    resp = _read(RICH_271)
    assert (resp.control_number, resp.version, resp.purpose, resp.reference) == (
        "0042",
        "005010X279A1",
        "11",
        "REQ0001",
    )
    assert resp.problems == []
    (source,) = resp.sources
    assert (source.entity, source.name, source.id_qualifier, source.id) == ("PR", "ACME HEALTH PLAN", "PI", "842610001")
    assert source.contacts == [("TE", "8005551212")]
    (receiver,) = resp.receivers
    assert (receiver.entity, receiver.name, receiver.id_qualifier, receiver.id) == (
        "1P",
        "SUNRISE CLINIC",
        "XX",
        "1234567893",
    )
    assert [s.subscriber.trace_numbers for s in resp.subscribers] == [
        ["CLM0001"],
        ["CLM0003"],
        ["CLM0004"],
        ["CLM0005"],
    ]
    assert [d.trace_numbers for s in resp.subscribers for d in s.subscriber.dependents] == [["CLM0002"], ["CLM0006"]]
    assert resp.subscribers[0].subscriber.traces == [Trace("2", "CLM0001", "9SUNRISE01")]
    assert all(s.source is source and s.receiver is receiver for s in resp.subscribers)


def test_answers_match_their_requests_by_echoed_trace() -> None:
    resp = _read(RICH_271)
    found = answers_by_trace(resp.subscribers)
    assert sorted(found) == ["CLM0001", "CLM0002", "CLM0003", "CLM0004", "CLM0005", "CLM0006"]
    answer, member = found["CLM0006"]
    assert answer is resp.subscribers[3] and member is answer.subscriber.dependents[0]
    assert answer.status(member) == "rejected"
    payer_trace = RICH_271.replace("TRN*2*CLM0003*", "TRN*1*CLM0003*")  # the payer's own trace, not ours
    assert "CLM0003" not in answers_by_trace(_read(payer_trace).subscribers)


def test_active_subscriber_plan_dates_and_benefits() -> None:
    answer = _read(RICH_271).subscribers[0]
    sub = answer.subscriber
    assert (sub.last_name, sub.first_name, sub.id_qualifier, sub.member_id) == ("DOE", "JANE", "MI", "W123456789")
    assert (sub.birth_date, sub.gender, sub.address, sub.locality) == (
        "19800203",
        "F",
        ["12 MAIN ST"],
        ["AUSTIN", "TX", "78701"],
    )
    assert answer.status(sub) == "active" and not sub.identity_corrected
    assert sub.plan_references == [
        Reference("18", "PLAN77", "GOLD PPO 2025"),
        Reference("1L", "GRP555", "ACME EMPLOYEES"),
    ]
    assert sub.plan_dates == {
        "plan_begin": DatePeriod("346", "D8", "20250101"),
        "plan_end": DatePeriod("347", "D8", "20251231"),
        "eligibility_begin": DatePeriod("356", "RD8", "20250101", "20251231"),
        "plan": DatePeriod("291", "D8", "20250102"),
    }
    got = [
        (b.code, b.coverage_level, b.service_types, b.time_period, b.amount, b.percent, b.in_network)
        for b in sub.benefits
    ]
    assert got == [
        ("1", "FAM", ["30", "98"], "", None, None, ""),
        ("B", "IND", ["98"], "27", D("25.00"), None, "Y"),
        ("A", "IND", ["98"], "27", None, D("0.2"), "N"),
        ("C", "IND", ["30"], "23", D("1500.00"), None, "Y"),
        ("C", "IND", ["30"], "29", D("500.00"), None, "Y"),
        ("G", "FAM", ["30"], "23", D("6000.00"), None, "Y"),
        ("F", "IND", ["33"], "23", None, None, "Y"),
        ("R", "", ["30"], "", None, None, ""),
    ]
    assert (sub.benefits[0].insurance_type, sub.benefits[0].plan_description) == ("PR", "GOLD PPO")
    visits = sub.benefits[6]
    assert (visits.quantity_qualifier, visits.quantity, visits.dates) == (
        "VS",
        D("20"),
        [DatePeriod("348", "D8", "20250101")],
    )
    assert sub.benefits[4].messages == ["DEDUCTIBLE MET AFTER CLAIM OF JANE DOE"]
    other = sub.benefits[7]
    assert other.references == [Reference("18", "OTHERPLAN")]
    (payer,) = other.entities
    assert (payer.entity, payer.entity_type, payer.name, payer.id_qualifier, payer.id) == (
        "PRP",
        "2",
        "BETA INSURANCE",
        "PI",
        "99999",
    )
    assert payer.contacts == [("TE", "8005550000")]


def test_dependent_inactive_corrected_and_rejected_members() -> None:
    resp = _read(RICH_271)
    first, inactive, rejected, partly = resp.subscribers
    (kid,) = first.subscriber.dependents
    assert (kid.level, kid.last_name, kid.first_name, kid.birth_date, kid.maintenance) == (
        "dependent",
        "DOE",
        "KID",
        "20150607",
        ("N", "19"),
    )
    assert first.status(kid) == "active"
    sub = inactive.subscriber
    assert inactive.status(sub) == "inactive"
    assert sub.identity_corrected and sub.prior_member_id == "X98765432" and sub.member_id == "X987654321"
    assert sub.date("357") == DatePeriod("357", "D8", "20241231")
    bad = rejected.subscriber
    assert rejected.status(bad) == "rejected" and bad.benefits == []
    (aaa,) = bad.rejections
    assert (aaa.loop, aaa.valid_request, aaa.reason, aaa.follow_up, aaa.position) == ("2100C", "N", "72", "C", 53)
    assert (aaa.meaning, aaa.follow_up_meaning) == (
        "Invalid/Missing Subscriber/Insured ID",
        "Please Correct and Resubmit",
    )
    assert (aaa.action, aaa.retry_after_days) == (FollowUp.CORRECT_AND_RESEND, None)
    assert partly.status(partly.subscriber) == "active"
    (benefit_aaa,) = partly.subscriber.benefits[1].rejections
    assert (benefit_aaa.loop, benefit_aaa.reason, benefit_aaa.action) == ("2110C", "53", FollowUp.RETRY_LATER)
    (baby,) = partly.subscriber.dependents
    (dep_aaa,) = baby.rejections
    assert (dep_aaa.loop, dep_aaa.reason, dep_aaa.meaning) == ("2100D", "67", "Patient Not Found")
    assert (dep_aaa.action, dep_aaa.retry_after_days) == (FollowUp.RETRY_LATER, 10)
    assert partly.status(baby) == "rejected"


def test_rejections_above_the_members() -> None:
    resp = _read(UPPER_271)
    assert resp.problems == [] and resp.subscribers == []
    ((source_aaa,),) = [s.rejections for s in resp.sources]
    assert (source_aaa.loop, source_aaa.reason, source_aaa.meaning, source_aaa.action) == (
        "2000A",
        "42",
        "Unable to Respond at Current Time",
        FollowUp.RETRY_LATER,
    )
    ((receiver_aaa,),) = [r.rejections for r in resp.receivers]
    assert (receiver_aaa.loop, receiver_aaa.reason, receiver_aaa.action) == ("2100B", "51", FollowUp.CORRECT_AND_RESEND)
    assert check_271(UPPER_271) == (
        1,
        [],
        "information source rejected (2000A AAA 42: Unable to Respond at Current Time; retry later); "
        "information receiver rejected (2100B AAA 51: Provider Not on File; correct and resend); "
        "0 subscriber(s) and 0 dependent(s): 0 active, 0 inactive, 0 rejected, ",
    )


@pytest.mark.parametrize(
    ("follow_up", "action", "days"),
    [
        ("C", FollowUp.CORRECT_AND_RESEND, None),
        ("N", FollowUp.DO_NOT_RESEND, None),
        ("P", FollowUp.RETRY_LATER, None),
        ("R", FollowUp.RETRY_LATER, None),
        ("S", FollowUp.DO_NOT_RESEND, None),
        ("W", FollowUp.RETRY_LATER, 30),
        ("X", FollowUp.RETRY_LATER, 10),
        ("Y", FollowUp.DO_NOT_RESEND, None),
    ],
)
def test_follow_up_actions(follow_up: str, action: FollowUp, days: int | None) -> None:
    body = [*RICH_271_BODY[:6], "HL*3*2*22*0", "NM1*IL*1*A*B****MI*1", f"AAA*N**75*{follow_up}"]
    (aaa,) = _read(interchange(body)).subscribers[0].subscriber.rejections
    assert (aaa.reason, aaa.meaning, aaa.action, aaa.retry_after_days) == (
        "75",
        "Subscriber/Insured Not Found",
        action,
        days,
    )


HEAD = ["BHT*0022*11*R1*20250102*1030", "HL*1**20*1", "NM1*PR*2*P*****PI*1", "HL*2*1*21*1", "NM1*1P*2*C*****XX*1"]


@pytest.mark.parametrize(
    ("segments", "problem"),
    [
        (
            ["EB*1**30*PR**27*1E2"],
            "EB at segment 11: EB07 '1E2' is not an X12 decimal number (expected digits, "
            "optionally a leading minus and a decimal point, e.g. 125.50); left out.",
        ),
        (
            ["EB*Q9**30"],
            "EB at segment 11: EB01 (2 characters, not shown) is not a eligibility or benefit code of 005010X279A1.",
        ),
        (
            ["EB*1**30^ZZ"],
            "EB at segment 11: EB03 (2 characters, not shown) is not a service type code of 005010X279A1.",
        ),
        (["EB*1**30***99"], "EB at segment 11: EB06 '99' is not a time period qualifier code of 005010X279A1."),
        (["EB*1**30*********X"], "EB at segment 11: EB12 'X' is not a in plan network indicator code of 005010X279A1."),
        (["EB*A**30***23**80"], "EB at segment 11: EB08 percent is outside 0..1 (the guide writes 80% as .80)."),
        (["EB*B**30***27"], "EB at segment 11: EB07 amount is missing for a co-payment (EB01 B)."),
        (["EB*A**30***27"], "EB at segment 11: EB08 percent is missing for a co-insurance (EB01 A)."),
        (
            ["EB*F**30***23***VS"],
            "EB at segment 11: EB09 quantity qualifier and EB10 quantity go together; one is missing.",
        ),
        (["AAA*N**50*C"], "AAA at segment 11: AAA03 '50' is not a reject reason of loop 2100C."),
        (
            ["AAA*N**QQ*C"],
            "AAA at segment 11: AAA03 (2 characters, not shown) is not a reject reason of loop 2100C, "
            "nor any 271 reject reason.",
        ),
        (
            ["AAA*N**72*Z"],
            "AAA at segment 11: AAA04 (1 character, not shown) is not a follow-up action (C N P R S W X Y).",
        ),
        (["AAA*Q**72*C"], "AAA at segment 11: AAA01 'Q' is not Y or N."),
        (
            ["DTP*346*D8*20251301", "EB*1**30"],
            "DTP at segment 11: DTP03 is not a D8 date (CCYYMMDD); the date is left out.",
        ),
        (
            ["DTP*346*RD8*20251231-20250101", "EB*1**30"],
            "DTP at segment 11: DTP03 is not a RD8 date (CCYYMMDD-CCYYMMDD "
            "with the start first); the date is left out.",
        ),
        (
            ["DMG*D8*19801301", "EB*1**30"],
            "DMG at segment 11: DMG01/DMG02 birth date is not a D8 calendar date (CCYYMMDD).",
        ),
        (["ZZZ*1*2", "EB*1**30"], "ZZZ at segment 11: not a segment of the 271 (005010X279A1); ignored."),
        (["EB*1**30", "LS*2120", "NM1*PRP*2*X"], "LS at segment 12: no LE closes the 2120 loop."),
        (["EB*1**30", "LE*2120"], "LE at segment 12: no LS opened a 2120 loop."),
        (
            [],
            "HL at segment 9: the subscriber (HL 3) has no EB (loop 2110C) and no AAA: the response says nothing about "
            "their coverage.",
        ),
    ],
)
def test_problems_name_segment_and_element(segments: list[str], problem: str) -> None:
    body = [*HEAD, "HL*3*2*22*0", "NM1*IL*1*SECRETNAME*****MI*SECRETID", *segments]
    resp = _read(interchange(body))
    assert resp.problems == [problem]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            [*HEAD, "HL*3*9*22*0", "NM1*IL*1*A*****MI*1", "EB*1**30"],
            [
                "HL at segment 9: HL02 names no earlier HL; a subscriber needs a parent HL 21.",
                "HL at segment 7: HL04 1 says children follow, but none does.",
            ],
        ),
        (
            [*HEAD, "HL*3*1*22*0", "NM1*IL*1*A*****MI*1", "EB*1**30"],
            [
                "HL at segment 9: HL02 names an HL '20'; a subscriber belongs under HL 21.",
                "HL at segment 7: HL04 1 says children follow, but none does.",
            ],
        ),
        (
            [*HEAD, "HL*3*2*22*0", "EB*1**30"],
            [
                "EB at segment 10: a benefit belongs to a subscriber or dependent (2110C/2110D).",
                "HL at segment 9: the subscriber (HL 3) has no NM1 (loop 2100C is required).",
                "HL at segment 9: the subscriber (HL 3) has no EB (loop 2110C) and no AAA: the response says nothing "
                "about their coverage.",
            ],
        ),
        (
            [*HEAD, "HL*3*2*22*1", "NM1*IL*1*A*****MI*1", "EB*1**30"],
            ["HL at segment 9: HL04 1 says children follow, but none does."],
        ),
        (
            [*HEAD, "HL*3*2*22*0", "NM1*IL*1*A*****MI*1", "EB*1**30", "HL*4*3*23*0", "NM1*03*1*B", "EB*1**30"],
            ["HL at segment 12: HL02 names the HL at segment 9, whose HL04 0 says it has no children."],
        ),
        (
            [*HEAD, "HL*3*2*99*0", "NM1*IL*1*A*****MI*1", "EB*1**30"],
            [
                "HL at segment 9: HL03 '99' is not a 270/271 level (20, 21, 22, 23); skipped.",
                "HL at segment 7: HL04 1 says children follow, but none does.",
            ],
        ),
    ],
)
def test_hierarchy_problems(body: list[str], problems: list[str]) -> None:
    resp = _read(interchange(body))
    assert resp.problems == problems


def test_version_and_transaction_kind_problems() -> None:
    text = RICH_271.replace("ST*271*0042*005010X279A1", "ST*271*0042*005010X279")
    assert _read(text).problems == [
        "ST at segment 3: implementation guide (10 characters, not shown) is not 005010X279A1."
    ]
    other = interchange(["BHT*0022*11*R1*20250102*1030"], set_id="835")
    reader = EligibilityReader(other)
    assert list(reader.responses()) == []
    assert reader.problems == ["ST at segment 3: transaction set 835 is not a 271; skipped."]


def test_streams_subscribers_before_the_end_of_the_file() -> None:
    lines = RICH_271.splitlines(keepends=True)
    consumed = []

    def chunks() -> Iterator[str]:
        for n, line in enumerate(lines):
            consumed.append(n)
            yield line

    resp = next(EligibilityReader(chunks()).responses())
    first = next(resp.iter_subscribers())
    assert first.subscriber.trace_numbers == ["CLM0001"]
    # handed out as soon as the next subscriber's HL arrives: the rest of the file is not read yet
    assert len(consumed) == lines.index("HL*5*2*22*0~\n") + 1 == 43


CANARIES = ("ZELDAQUIX", "MBRCANARY77", "19770707", "42 CANARY LANE", "CANARYVILLE", "SECRETMSG", "SSNCANARY")


def test_no_phi_in_problems_or_summary_even_in_malformed_segments() -> None:
    body = [
        *HEAD,
        "HL*3*2*22*0",
        "TRN*ZELDAQUIX*T1*9SUNRISE01",
        "NM1*ZELDAQUIX*1*ZELDAQUIX*ZELDAQUIX****MI*MBRCANARY77",
        "REF*SSNCANARY*SSNCANARY",
        "REF*SY*SSNCANARY",
        "N3*42 CANARY LANE",
        "N4*CANARYVILLE*TX*78701",
        "DMG*D8*19770707X*ZELDAQUIX",
        "INS*Y*18*001*25",
        "DTP*MBRCANARY77*D8*19770707",
        "DTP*346*ZELDAQUIX*19770707",
        "DTP*346*D8*ZELDAQUIX",
        "AAA*ZELDAQUIX**MBRCANARY77*ZELDAQUIX",
        # EB05 (plan description) is the payer's plan name and is shown in summaries: no canary there
        "EB*ZELDAQUIX*ZELDAQUIX*MBRCANARY77*ZELDAQUIX*GOLD*ZELDAQUIX*MBRCANARY77*19770707*ZELDAQUIX*SSNCANARY*"
        "ZELDAQUIX*ZELDAQUIX",
        "MSG*SECRETMSG ZELDAQUIX",
        "LS*ZELDAQUIX",
        "NM1*IL*1*ZELDAQUIX*ZELDAQUIX****MI*MBRCANARY77",
        "LE*ZELDAQUIX",
        "ZZQ*ZELDAQUIX*MBRCANARY77",
        "HL*4*3*ZELDAQUIX*0",
        "NM1*03*1*ZELDAQUIX",
    ]
    text = interchange(body)
    resp = _read(text)
    assert len(resp.problems) == 25  # every malformed element named (list in the 271 reader's docstring)
    assert check_271(text)[0] == 1
    _, problems, verdict = check_271(text)
    blob = "\n".join(problems) + verdict + json.dumps(summarize_271(text))
    for canary in CANARIES:
        assert canary not in blob, canary
    # the values are still there for the program that reads them (matching, staff screens)
    sub = resp.subscribers[0].subscriber
    assert (sub.last_name, sub.member_id, sub.benefits[0].messages) == (
        "ZELDAQUIX",
        "MBRCANARY77",
        ["SECRETMSG ZELDAQUIX"],
    )
    rich = repr(_read(RICH_271))  # names, member ids, birth dates, addresses and MSG text hidden from repr
    for phi in ("JANE", "W123456789", "19800203", "MAIN ST", "AUSTIN", "X98765432", "DEDUCTIBLE MET"):
        assert phi not in rich, phi
