"""The envelope checker, fed segment by segment (as the 835 and 271 readers feed it): every problem
it reports, word for word, and the interchange / group / transaction headers it builds.

Each case is a real envelope with one thing wrong (a trailer missing, a header repeated, a count or
control number empty or different); the expected problems are the complete list.
"""

from __future__ import annotations

import pytest

from medbill.x12.envelope import EnvelopeChecker, FunctionalGroup, Interchange, TransactionHeader
from medbill.x12.tokenizer import Delimiters

ISA = "ISA*00*          *00*          *ZZ*SENDER         *30*RECEIVER       *250101*1200*^*00501*000000905*0*T*:"
ISA_906 = ISA.replace("000000905", "000000906")
GS7 = "GS*HP*PAYERAPP*MEDBILL*20250102*1305*7*X*005010X221A1"
GS8 = GS7.replace("*7*X", "*8*X")


def fed(*segments: str, delimiters: Delimiters | None = None) -> EnvelopeChecker:
    """A checker fed `segments` (positions 1..n) and finished after the last."""
    checker = EnvelopeChecker()
    for position, segment in enumerate(segments, 1):
        checker.feed(segment.split("*"), position, delimiters)
    checker.finish(len(segments))
    return checker


@pytest.mark.parametrize(
    ("segments", "problems"),
    [
        pytest.param(
            (ISA, GS7, "ST*835*0001", "SE*2*0001", "GE*1*7", "IEA*1*000000905"),
            [],
            id="well-formed",
        ),
        pytest.param(
            (GS7, "ST*835*0001", "SE*2*0001", "GE*1*7"),
            ["GS at segment 1: functional group outside an interchange (no ISA before it)."],
            id="GS without ISA",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", GS8, "REF*EV*1", "ST*835*0002", "SE*2*0002", "GE*1*8", "IEA*2*905"),
            [
                "GS at segment 4: the group opened at segment 2 has no GE.",
                # the open ST 0001 went with its group: the REF after the new GS is outside a transaction
                "REF at segment 5: segment outside a transaction (no ST before it).",
            ],
            id="GS while a group is open",
        ),
        pytest.param(
            (ISA, "ST*835*0001", "SE*2*0001", "IEA*0*905"),
            ["ST at segment 2: transaction outside a functional group (no GS before it)."],
            id="ST without GS",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", "ST*835*0002", "SE*2*0002", "GE*2*7", "IEA*1*905"),
            ["ST at segment 4: the transaction opened at segment 3 has no SE."],
            id="ST while a transaction is open",
        ),
        pytest.param(
            (ISA, GS7, "SE*1*0001", "GE*0*7", "IEA*1*905"),
            ["SE at segment 3: no ST opened this transaction."],
            id="SE without ST",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", "REF*EV*1", "SE", "GE*1*7", "IEA*1*905"),
            [
                "SE at segment 5: SE01 says (empty) segments but the transaction ST..SE (segments 3-5) has 3.",
                "SE at segment 5: SE02 control number (empty) does not match ST02 0001 at segment 3.",
            ],
            id="SE01 and SE02 empty",
        ),
        pytest.param(
            (ISA, GS7, "ST*835", "SE*2*0001", "GE*1*7", "IEA*1*905"),
            ["SE at segment 4: SE02 control number 0001 does not match ST02 (empty) at segment 3."],
            id="ST02 empty",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", "GE*1*7", "REF*EV*1", GS8, "ST*835*0002", "SE*2*0002", "GE*1*8", "IEA*2*905"),
            [
                "GE at segment 4: the transaction opened at segment 3 has no SE.",
                "REF at segment 5: segment outside a transaction (no ST before it).",
            ],
            id="GE while a transaction is open",
        ),
        pytest.param(
            (ISA, "GE*0*7", "IEA*0*905"),
            ["GE at segment 2: no GS opened this functional group."],
            id="GE without GS",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", "SE*2*0001", "GE", "IEA*1*905"),
            [
                "GE at segment 5: GE01 says (empty) transactions but the group opened at segment 2 has 1 ST.",
                "GE at segment 5: GE02 control number (empty) does not match GS06 7 at segment 2.",
            ],
            id="GE01 and GE02 empty",
        ),
        pytest.param(
            (ISA, GS7.replace("*7*X", "**X"), "GE*0*7", "IEA*1*905"),
            ["GE at segment 3: GE02 control number 7 does not match GS06 (empty) at segment 2."],
            id="GS06 empty",
        ),
        pytest.param(
            (ISA, GS7.replace("*7*X", "*000*X"), "GE*0*00", "IEA*1*905"),
            [],
            id="GS06 and GE02 both zero, padded differently",
        ),
        pytest.param(
            (ISA, GS7.replace("*7*X", "*A*X"), "GE*0*0A", "IEA*1*905"),
            ["GE at segment 3: GE02 control number 0A does not match GS06 A at segment 2."],
            id="non-numeric control numbers compare as text",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", "SE*2*0001", "IEA*1*905", ISA_906, GS8, "GE*0*8", "IEA*1*906"),
            ["IEA at segment 5: the group opened at segment 2 has no GE."],
            id="IEA while a group is open",
        ),
        pytest.param(
            (ISA, "IEA*0*905", "IEA*0*905"),
            ["IEA at segment 3: no ISA opened this interchange."],
            id="IEA without ISA",
        ),
        pytest.param(
            (ISA, "IEA"),
            [
                "IEA at segment 2: IEA01 says (empty) groups but the interchange opened at segment 1 has 0 GS.",
                "IEA at segment 2: IEA02 control number (empty) does not match ISA13 000000905 at segment 1.",
            ],
            id="IEA01 and IEA02 empty",
        ),
        pytest.param(
            (ISA.replace("*000000905*", "**"), "IEA*0*905"),
            ["IEA at segment 2: IEA02 control number 905 does not match ISA13 (empty) at segment 1."],
            id="ISA13 empty",
        ),
        pytest.param(
            (ISA, GS7, ISA_906, "IEA*0*906"),
            ["ISA at segment 3: the interchange opened at segment 1 has no IEA."],
            id="ISA while an interchange is open",
        ),
        pytest.param(
            (ISA, "BHT*0019*00"),
            [
                "BHT at segment 2: segment outside a transaction (no ST before it).",
                "End of input after segment 2: the interchange opened at segment 1 has no IEA.",
            ],
            id="a body segment outside any transaction",
        ),
        pytest.param(
            (ISA, GS7, "ST*835*0001", "BHT*0019*00"),
            [
                "End of input after segment 4: the transaction opened at segment 3 has no SE.",
                "End of input after segment 4: the group opened at segment 2 has no GE.",
                "End of input after segment 4: the interchange opened at segment 1 has no IEA.",
            ],
            id="input ends with everything open",
        ),
    ],
)
def test_each_envelope_problem_is_reported_exactly(segments: tuple[str, ...], problems: list[str]) -> None:
    assert fed(*segments).problems == problems


def test_in_transaction_is_false_after_every_segment_that_ends_a_transaction() -> None:
    checker = EnvelopeChecker()
    seen: list[bool] = [checker.in_transaction]
    segments = (ISA, GS7, "ST*835*0001", "SE*2*0001", "ST*835*0002", "GE*2*7", GS8, "ST*835*0003", "IEA*2*905")
    for position, segment in enumerate(segments, 1):
        checker.feed(segment.split("*"), position)
        seen.append(checker.in_transaction)
    # a list of bools, compared exactly: None (falsy, but not False) would not pass
    assert seen == [False, False, False, True, False, True, False, False, True, False]


def test_the_headers_are_built_element_by_element() -> None:
    delimiters = Delimiters("*", "^", ">", "\n")
    checker = fed(ISA, GS7, "ST*835*0001*005010X221A1", "SE*2*0001", "GE*1*7", "IEA*1*905", delimiters=delimiters)
    st = TransactionHeader("835", "0001", "005010X221A1", 3, 2)
    group = FunctionalGroup("HP", "PAYERAPP", "MEDBILL", "20250102", "7", "005010X221A1", 2, [st])
    isa = Interchange("ZZ", "SENDER", "30", "RECEIVER", "250101", "1200", "00501", "000000905", "T", delimiters, 1)
    isa.groups.append(group)
    assert checker.interchanges == [isa]
    assert checker.problems == []


def test_without_delimiters_the_interchange_has_the_standard_ones() -> None:
    (isa,) = fed(ISA, "IEA*0*905").interchanges
    assert isa.delimiters == Delimiters("*", "^", ":", "~")


def test_a_group_outside_an_interchange_belongs_to_none_and_a_repeated_isa_keeps_the_first() -> None:
    assert fed(GS7, "GE*0*7").interchanges == []
    first, second = fed(ISA, GS7, ISA_906, "IEA*0*906").interchanges
    assert [g.position for g in first.groups] == [2] and second.groups == []
    assert (first.control_number, second.control_number) == ("000000905", "000000906")
