"""270 writer (005010X279A1): the exact text of a batch, the HL hierarchy across payers and providers,
TRN per request, service types 30 + the visit's, refusals that never echo a value, read back by our
270 reader and by x12sdk (the independent reader)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from medbill.x12.claim837 import ControlNumbers
from medbill.x12.eligibility import (
    Dependent270,
    EligibilityRequest,
    InformationReceiver,
    InformationSource,
    Subscriber270,
    service_types_for,
    write_270,
)
from medbill.x12.eligibility.reader271 import parse_270
from medbill.x12.eligibility.summary import check_270
from medbill.x12.segments import X12DataError

ACME = InformationSource("842610001", "ACME HEALTH PLAN")
BETA = InformationSource("99999", "BETA INSURANCE")
SUNRISE = InformationReceiver("1234567893", "SUNRISE CLINIC")
DR_LEE = InformationReceiver("1245319599", "LEE", first_name="ANN")
DOS = date(2025, 1, 2)


def jane(**changes: object) -> EligibilityRequest:
    request = EligibilityRequest(
        "CLM0001",
        ACME,
        SUNRISE,
        Subscriber270("W123456789", "DOE", "JANE", date(1980, 2, 3), "F", middle_name="Q"),
        DOS,
        ("98",),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


def kid_of_john() -> EligibilityRequest:
    return EligibilityRequest(
        "CLM0002",
        ACME,
        SUNRISE,
        Subscriber270("W555", "DOE", "JOHN", suffix="JR"),
        DOS,
        ("98", "30", "98", "UC"),
        Dependent270("DOE", "KID", date(2015, 6, 7), "M", relationship="19"),
    )


def write(requests: list[EligibilityRequest], **kw: object) -> str:
    args: dict[str, object] = {
        "sender_id": "SUNRISE",
        "receiver_id": "CLEARHOUSE",
        "control_numbers": ControlNumbers(17, 17, (17,)),
        "created": datetime(2025, 1, 2, 10, 30),
        "trace_originator": "9SUNRISE01",
    }
    args.update(kw)
    return write_270(requests, **args)  # type: ignore[arg-type]


EXPECTED = """\
ISA*00*          *00*          *ZZ*SUNRISE        *ZZ*CLEARHOUSE     *250102*1030*^*00501*000000017*0*P*:~
GS*HS*SUNRISE*CLEARHOUSE*20250102*1030*17*X*005010X279A1~
ST*270*0017*005010X279A1~
BHT*0022*13*0000000170017*20250102*1030~
HL*1**20*1~
NM1*PR*2*ACME HEALTH PLAN*****PI*842610001~
HL*2*1*21*1~
NM1*1P*2*SUNRISE CLINIC*****XX*1234567893~
HL*3*2*22*0~
TRN*1*CLM0001*9SUNRISE01~
NM1*IL*1*DOE*JANE*Q***MI*W123456789~
DMG*D8*19800203*F~
DTP*291*D8*20250102~
EQ*30~
EQ*98~
HL*4*2*22*1~
NM1*IL*1*DOE*JOHN***JR*MI*W555~
HL*5*4*23*0~
TRN*1*CLM0002*9SUNRISE01~
NM1*03*1*DOE*KID~
DMG*D8*20150607*M~
INS*N*19~
DTP*291*D8*20250102~
EQ*30~
EQ*98~
EQ*UC~
SE*25*0017~
GE*1*17~
IEA*1*000000017~
"""


def test_batch_exact_text() -> None:
    assert write([jane(), kid_of_john()]) == EXPECTED


def test_service_types_are_30_first_then_the_visits_once_each() -> None:
    assert service_types_for(["98", "30", "98", "UC"]) == ["30", "98", "UC"]
    assert service_types_for([]) == ["30"]
    assert service_types_for(["30"]) == ["30"]


def test_reads_back_through_our_270_reader_and_validates() -> None:
    text = write([jane(), kid_of_john()])
    (resp,), envelope = parse_270(text)
    assert envelope == [] and resp.problems == []
    assert (resp.set_id, resp.purpose, resp.reference) == ("270", "13", "0000000170017")
    first, second = resp.subscribers
    sub = first.subscriber
    assert (sub.trace_numbers, sub.member_id, sub.last_name, sub.birth_date, sub.gender) == (
        ["CLM0001"],
        "W123456789",
        "DOE",
        "19800203",
        "F",
    )
    assert sub.inquiries == ["30", "98"] and sub.date("291") is not None
    assert (first.source.id, first.receiver.id) == ("842610001", "1234567893")
    assert second.subscriber.trace_numbers == [] and second.subscriber.inquiries == []
    (kid,) = second.subscriber.dependents
    assert (kid.trace_numbers, kid.inquiries, kid.maintenance) == (["CLM0002"], ["30", "98", "UC"], ("N", "19"))
    assert check_270(text) == (1, [], "2 request(s), ")


def test_hierarchy_groups_requests_by_payer_then_provider_in_first_seen_order() -> None:
    requests = [
        jane(trace_number="A1"),
        jane(trace_number="B1", source=BETA),
        jane(trace_number="A2", receiver=DR_LEE),
        jane(trace_number="A3"),
    ]
    text = write(requests)
    hls = [line for line in text.splitlines() if line.startswith(("HL*", "TRN*", "NM1*1P", "NM1*PR"))]
    assert hls == [
        "HL*1**20*1~",
        "NM1*PR*2*ACME HEALTH PLAN*****PI*842610001~",
        "HL*2*1*21*1~",
        "NM1*1P*2*SUNRISE CLINIC*****XX*1234567893~",
        "HL*3*2*22*0~",
        "TRN*1*A1*9SUNRISE01~",
        "HL*4*2*22*0~",
        "TRN*1*A3*9SUNRISE01~",
        "HL*5*1*21*1~",
        "NM1*1P*1*LEE*ANN****XX*1245319599~",
        "HL*6*5*22*0~",
        "TRN*1*A2*9SUNRISE01~",
        "HL*7**20*1~",
        "NM1*PR*2*BETA INSURANCE*****PI*99999~",
        "HL*8*7*21*1~",
        "NM1*1P*2*SUNRISE CLINIC*****XX*1234567893~",
        "HL*9*8*22*0~",
        "TRN*1*B1*9SUNRISE01~",
    ]
    assert check_270(text) == (1, [], "4 request(s), ")


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (
            [jane(), jane()],
            "request 2: TRN02 trace number is used by an earlier request: 271 answers could not be matched",
        ),
        (
            [jane(), jane(trace_number="X", subscriber=Subscriber270("W1", "DO*E", "JANE"))],
            "request 2: NM103 holds an X12 separator or a character outside the X12 character set; fix the source "
            "data (values are never escaped)",
        ),
        (
            [jane(subscriber=Subscriber270("SECRETID~1", "DOE", "JANE"))],
            "request 1: NM109 holds an X12 separator or a character outside the X12 character set; fix the source "
            "data (values are never escaped)",
        ),
        ([jane(subscriber=Subscriber270("", "DOE", "JANE"))], "request 1: 2100C NM109 member id is required"),
        (
            [jane(subscriber=Subscriber270("W1", "X" * 61, "JANE"))],
            "request 1: 2100C NM103 last name is longer than 60 characters",
        ),
        (
            [jane(receiver=InformationReceiver("1234567890", "SUNRISE"))],
            "request 1: 2100B NM109 is not a valid NPI (10 digits with the Luhn check digit)",
        ),
        ([jane(service_types=("ZZ",))], "request 1: EQ01 service type is not a 005010X279A1 service type code"),
        (
            [jane(subscriber=Subscriber270("W1", "DOE", "JANE", date(2026, 1, 1)))],
            "request 1: DMG02 birth date is after the date of service (the payer would reject it: AAA 60)",
        ),
        ([jane(trace_number="")], "request 1: TRN02 trace number must be 1..50 plain characters"),
        ([], "a 270 needs at least one request"),
    ],
)
def test_refusals_name_the_request_and_element_never_the_value(
    requests: list[EligibilityRequest], message: str
) -> None:
    with pytest.raises(X12DataError) as err:
        write(requests)
    assert str(err.value) == message
    for phi in ("SECRETID", "DO*E", "JANE", "W123456789"):
        assert phi not in str(err.value)


def test_refuses_bad_envelope_settings() -> None:
    with pytest.raises(X12DataError, match=r"^trace_originator \(TRN03\) must be 10 letters or digits"):
        write([jane()], trace_originator="123")
    with pytest.raises(X12DataError, match=r"^sender_id must be 2\.\.15 plain characters"):
        write([jane()], sender_id="A")
    with pytest.raises(X12DataError, match=r"^usage \(ISA15\) must be P or T$"):
        write([jane()], usage="X")


def test_the_independent_reader_reads_our_270_the_same_way() -> None:
    """x12sdk 2.2.0 parses the batch: same members, trace numbers, member ids and service types asked."""
    from x12sdk.io import X12ModelReader

    with X12ModelReader(write([jane(), kid_of_john()])) as reader:
        (model,) = list(reader.models())
    members = list(model.members())
    assert [(m.is_dependent, m.member_id, m.name, m.service_type_codes) for m in members] == [
        (False, "W123456789", ("DOE", "JANE"), ("30", "98")),
        (True, "W555", ("DOE", "KID"), ("30", "98", "UC")),
    ]
    traces = [loop.trn_segment[0].reference_identification_1 for loop in _patient_loops(model)]
    assert traces == ["CLM0001", "CLM0002"]


def _patient_loops(model: object) -> list[object]:
    out: list[object] = []
    for a in model.loop_2000a:  # type: ignore[attr-defined]
        for b in a.loop_2000b:
            for sub in b.loop_2000c or []:
                out.extend(sub.loop_2000d or [sub])
    return out
