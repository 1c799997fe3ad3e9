"""270/271 batches for the tests and the benchmark, and x12sdk 2.2.0 as the independent 271 reader.

`answers_batch(n)` stays inside what x12sdk 2.2.0 can read, so the same file serves both readers:
x12sdk refuses (or crashes on) a 2100C/2100D AAA outside the 2100B code list (72, 75, 67, ...), a PER
in 2100A (dropped, then its SE count fails), an EB09 quantity qualifier (typed as a number there), a
REF*Q4 in 2100C, and an EB on a subscriber who has dependents (TypeError). Our reader takes all of
them (see tests/unit/x12/test_271_reader.py).

`our_view(text)` and `x12sdk_view(text)` reduce a 271 to the same comparable tuples, member by member.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from medbill.x12.claim837 import ControlNumbers
from medbill.x12.eligibility import (
    Benefit,
    DatePeriod,
    Dependent270,
    EligibilityRequest,
    InformationReceiver,
    InformationSource,
    Member,
    Party,
    Reference,
    Rejection,
    Subscriber270,
    SubscriberResponse,
    Trace,
)
from medbill.x12.eligibility.reader271 import parse_271
from medbill.x12.eligibility.writer271 import write_271

PAYER = InformationSource("842610001", "ACME HEALTH PLAN")
CLINIC = InformationReceiver("1234567893", "SUNRISE CLINIC")
DOS = date(2025, 1, 2)
CREATED = datetime(2025, 1, 2, 10, 30)


def requests_batch(n: int) -> list[EligibilityRequest]:
    """``n`` inquiries for one payer and clinic; every fifth for a dependent child, visit type 98 or UC."""
    out = []
    for i in range(n):
        dependent = Dependent270("DOE", f"KID{i}", date(2015, 6, 7), "M", relationship="19") if i % 5 == 4 else None
        subscriber = Subscriber270(f"W{i:09d}", "DOE", f"JANE{i}", date(1980, 2, 3), "F")
        out.append(
            EligibilityRequest(f"C{i:07d}", PAYER, CLINIC, subscriber, DOS, ("98" if i % 2 else "UC",), dependent)
        )
    return out


def _benefits(i: int) -> list[Benefit]:
    if i % 7 == 3:
        return [Benefit("6", service_types=["30"])]
    other = Benefit(
        "R", service_types=["30"], entities=[Party("PRP", "2", "BETA INSURANCE", id_qualifier="PI", id="99999")]
    )
    return [
        Benefit("1", "IND", ["30", "98"], "PR", "GOLD PPO"),
        Benefit("B", "IND", ["98"], "PR", time_period="27", amount=Decimal("25.00"), in_network="Y"),
        Benefit("A", "IND", ["98"], "PR", time_period="27", percent=Decimal("0.2"), in_network="N"),
        Benefit("C", "IND", ["30"], "PR", time_period="23", amount=Decimal("1500.00"), in_network="Y"),
        Benefit("C", "IND", ["30"], "PR", time_period="29", amount=Decimal(500 + i % 100), in_network="Y"),
        Benefit("G", "FAM", ["30"], "PR", time_period="23", amount=Decimal("6000.00"), in_network="Y"),
        other,
    ]


def answers_batch(n: int) -> list[SubscriberResponse]:
    """Answers to ``requests_batch(n)``: active with copay, coinsurance, deductible (and remaining),
    out of pocket and another payer (2120C); every 7th inactive; every 11th rejected (AAA 15 at 2100C);
    a dependent's answer sits on the dependent (with a 2110D AAA on every other one)."""
    source = Party("PR", "2", "ACME HEALTH PLAN", id_qualifier="PI", id="842610001")
    receiver = Party("1P", "2", "SUNRISE CLINIC", id_qualifier="XX", id="1234567893")
    out = []
    for req in requests_batch(n):
        i = int(req.trace_number[1:])
        sub = Member("subscriber", last_name="DOE", first_name=f"JANE{i}", id_qualifier="MI", member_id=f"W{i:09d}")
        sub.references = [Reference("18", "PLAN77", "GOLD PPO 2025"), Reference("1L", "GRP555", "ACME EMPLOYEES")]
        sub.birth_date, sub.gender = "19800203", "F"
        sub.dates = [DatePeriod("346", "D8", "20250101"), DatePeriod("356", "RD8", "20250101", "20251231")]
        patient = sub
        if req.dependent is not None:
            patient = Member("dependent", last_name="DOE", first_name=f"KID{i}", birth_date="20150607", gender="M")
            sub.dependents = [patient]
        patient.traces = [Trace("2", req.trace_number, "9SUNRISE01")]
        if i % 11 == 10:
            patient.rejections = [Rejection("2100C" if patient is sub else "2100D", "N", "15", "C")]
        else:
            patient.benefits = _benefits(i)
            if patient is not sub and i % 2:
                patient.benefits.append(
                    Benefit("V", service_types=["33"], rejections=[Rejection("2110D", "Y", "53", "R")])
                )
        out.append(SubscriberResponse(sub, source, receiver))
    return out


def write_batch_271(n: int) -> str:
    return write_271(
        answers_batch(n),
        sender_id="PAYERSIM",
        receiver_id="SUNRISE",
        control_numbers=ControlNumbers(9, 9, (9,)),
        created=CREATED,
        reference="REQ0001",
    )


def _dec(value: Any) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _val(value: Any) -> str:
    """An x12sdk enum or text as its X12 value."""
    return "" if value is None else str(getattr(value, "value", value))


def our_view(text: str) -> list[tuple[Any, ...]]:
    """Per member: (dependent?, member id, name, traces, AAA (loop, code, follow-up), benefits, 2120 entities)."""
    (resp,), _ = parse_271(text)
    out = []
    for answer in resp.subscribers:
        for m in answer.members():
            if m.level == "subscriber" and m.dependents and not m.benefits:
                continue  # x12sdk yields the subscriber only when it has benefits or no dependents
            benefits = tuple(
                (
                    b.code,
                    tuple(b.service_types),
                    b.insurance_type,
                    b.plan_description,
                    b.time_period,
                    _dec(b.amount),
                    _dec(b.percent),
                    b.in_network,
                    tuple((r.loop, r.reason, r.follow_up) for r in b.rejections),
                )
                for b in m.benefits
            )
            entities = tuple((e.entity, e.id_qualifier, e.id) for b in m.benefits for e in b.entities)
            names = (m.last_name, m.first_name)
            out.append(
                (
                    m.level == "dependent",
                    answer.subscriber.member_id,
                    names,
                    tuple(m.trace_numbers),
                    tuple((r.loop, r.reason, r.follow_up) for r in m.rejections),
                    benefits,
                    entities,
                )
            )
    return out


def x12sdk_view(text: str) -> list[tuple[Any, ...]]:
    """The same tuples read by x12sdk 2.2.0 (`members()` and its loop models)."""
    from x12sdk.io import X12ModelReader

    with X12ModelReader(text) as reader:
        models: list[Any] = list(reader.models())
    out = []
    for model in models:
        for m in model.members():
            loop = m.member
            level = ("2100D", "2110D") if m.is_dependent else ("2100C", "2110C")
            benefits = []
            entities = []
            for b in m.benefits:
                eb = b.eb_segment
                aaa = tuple(
                    (level[1], _val(a.reject_reason_code), _val(a.follow_up_action_code)) for a in b.aaa_segment or []
                )
                benefits.append(
                    (
                        _val(eb.eligibility_benefit_information),
                        tuple(_val(s) for s in eb.service_type_code or []),
                        _val(eb.insurance_type_code),
                        _val(eb.plan_coverage_description),
                        _val(eb.time_period_qualifier),
                        _dec(eb.benefit_amount),
                        _dec(eb.benefit_percent),
                        _val(eb.inplan_network_indicator),
                        aaa,
                    )
                )
                for e in (b.loop_2120d if m.is_dependent else b.loop_2120c) or []:
                    nm1 = e.nm1_segment
                    entities.append(
                        (
                            _val(nm1.entity_identifier_code),
                            _val(nm1.identification_code_qualifier),
                            _val(nm1.identification_code),
                        )
                    )
            traces = tuple(t.reference_identification_1 for t in _trace_loop(model, loop).trn_segment or [])
            out.append(
                (
                    m.is_dependent,
                    m.member_id,
                    m.name,
                    traces,
                    tuple(
                        (level[0], _val(a.reject_reason_code), _val(a.follow_up_action_code))
                        for a in loop.aaa_segment or []
                    ),
                    tuple(benefits),
                    tuple(entities),
                )
            )
    return out


def _trace_loop(model: Any, name_loop: Any) -> Any:
    """The 2000C/2000D loop holding ``name_loop`` (TRN sits there, above the name)."""
    for a in model.loop_2000a:
        for b in a.loop_2000b:
            for sub in b.loop_2000c or []:
                if sub.loop_2100c is name_loop:
                    return sub
                for dep in sub.loop_2000d or []:
                    if dep.loop_2100d is name_loop:
                        return dep
    raise LookupError("name loop not found")


def our_upper(text: str) -> list[tuple[str, str, str, str, str]]:
    """Source and receiver rejections: (loop, NM101, NM109, AAA03, AAA04)."""
    (resp,), _ = parse_271(text)
    return [
        (r.loop, p.entity, p.id, r.reason, r.follow_up) for p in (*resp.sources, *resp.receivers) for r in p.rejections
    ]


def x12sdk_upper(text: str) -> list[tuple[str, str, str, str, str]]:
    from x12sdk.io import X12ModelReader

    with X12ModelReader(text) as reader:
        models: list[Any] = list(reader.models())
    out = []
    for model in models:
        for a in model.loop_2000a:
            nm1 = a.loop_2100a.nm1_segment
            for loop, found in (("2000A", a.aaa_segment), ("2100A", a.loop_2100a.aaa_segment)):
                out += [
                    (
                        loop,
                        _val(nm1.entity_identifier_code),
                        _val(nm1.identification_code),
                        _val(x.reject_reason_code),
                        _val(x.follow_up_action_code),
                    )
                    for x in found or []
                ]
        for a in model.loop_2000a:
            for b in a.loop_2000b:
                nm1 = b.loop_2100b.nm1_segment
                out += [
                    (
                        "2100B",
                        _val(nm1.entity_identifier_code),
                        _val(nm1.identification_code),
                        _val(x.reject_reason_code),
                        _val(x.follow_up_action_code),
                    )
                    for x in b.loop_2100b.aaa_segment or []
                ]
    return out
