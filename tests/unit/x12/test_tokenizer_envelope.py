"""Envelopes: interchanges -> groups -> transactions; wrong counts and control numbers are reported."""

from __future__ import annotations

import re

import pytest

from medbill.x12.envelope import EnvelopeChecker, EnvelopeReader, check_envelopes, iter_transactions
from medbill.x12.tokenizer import X12SyntaxError, X12TruncatedError

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*^*00501*{icn:09d}*0*P*:~"


def doc(
    *,
    icn: int = 905,
    iea02: str | None = None,
    iea01: str = "1",
    gs06: str = "7",
    ge02: str | None = None,
    ge01: str | None = None,
    transactions: tuple[tuple[str, str, int, str | None, str | None], ...] = (("835", "0001", 2, None, None),),
) -> str:
    """transactions: (ST01, ST02, body segments, SE01 override, SE02 override)."""
    out = [ISA.format(icn=icn), f"GS*HP*S*R*20250101*1200*{gs06}*X*005010X221A1~"]
    for st01, st02, body, se01, se02 in transactions:
        out.append(f"ST*{st01}*{st02}~")
        out.extend(f"REF*EV*{i}~" for i in range(body))
        out.append(f"SE*{se01 or body + 2}*{se02 or st02}~")
    out.append(f"GE*{ge01 or len(transactions)}*{ge02 or gs06}~")
    out.append(f"IEA*{iea01}*{iea02 or f'{icn:09d}'}~")
    return "".join(out)


def test_well_formed_file_has_no_problems_and_a_nested_structure() -> None:
    text = doc(transactions=(("835", "0001", 2, None, None), ("835", "0002", 3, None, None)))
    interchanges, problems = check_envelopes(text)
    assert problems == []
    (ic,) = interchanges
    assert ic.control_number == "000000905" and ic.sender_id == "SENDER" and ic.version == "00501"
    (group,) = ic.groups
    assert group.functional_id == "HP" and group.version == "005010X221A1" and group.control_number == "7"
    assert [(t.set_id, t.control_number, t.segment_count) for t in group.transactions] == [
        ("835", "0001", 4),
        ("835", "0002", 5),
    ]


def test_transactions_iterate_with_their_segments_and_envelope() -> None:
    text = doc(transactions=(("835", "0001", 2, None, None), ("999", "0002", 1, None, None))) + doc(icn=906)
    txs = list(iter_transactions(text))
    assert [t.set_id for t in txs] == ["835", "999", "835"]
    assert [s.id for s in txs[0].segments] == ["ST", "REF", "REF", "SE"]
    assert txs[0].segments[0].position == 3
    assert txs[2].interchange is not None and txs[2].interchange.control_number == "000000906"
    assert txs[0].version == "005010X221A1"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"transactions": (("835", "0001", 2, "5", None),)}, "SE at segment 6: SE01 says 5 segments"),
        ({"transactions": (("835", "0001", 2, None, "0009"),)}, "SE at segment 6: SE02 control number 0009"),
        ({"ge01": "3"}, "GE at segment 7: GE01 says 3 transactions but the group opened at segment 2 has 1"),
        ({"ge02": "8"}, "GE at segment 7: GE02 control number 8 does not match GS06 7"),
        ({"iea01": "2"}, "IEA at segment 8: IEA01 says 2 groups but the interchange opened at segment 1 has 1"),
        ({"iea02": "000000906"}, "IEA at segment 8: IEA02 control number 000000906 does not match ISA13 000000905"),
    ],
)
def test_wrong_counts_and_control_numbers_are_reported_with_positions(kwargs: dict, expected: str) -> None:
    _, problems = check_envelopes(doc(**kwargs))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_zero_padding_of_control_numbers_is_not_a_mismatch() -> None:
    _, problems = check_envelopes(doc(iea02="905", gs06="0007", ge02="7"))
    assert problems == []


def test_control_numbers_too_long_for_int_are_compared_not_crashed_on() -> None:
    _, problems = check_envelopes(doc(iea02="0" * 4991 + "000000905", ge02="0" * 5000 + "7", iea01="0" * 5000 + "1"))
    assert problems == []
    _, problems = check_envelopes(doc(ge02="8" * 5000, iea01="\u00b9"))
    assert [p[:30] for p in problems] == ["GE at segment 7: GE02 control ", "IEA at segment 8: IEA01 says \u00b9"]


def test_a_file_ending_before_its_trailers_is_truncated_not_just_a_problem() -> None:
    text = doc()
    truncated = text[: text.index("SE*")]  # no SE, GE, IEA
    expected = "truncated: the file ends after segment 5 (REF) inside an open ST 0001 (segment 3); expected SE, GE"
    with pytest.raises(X12TruncatedError, match=re.escape(expected)):
        check_envelopes(truncated)
    reader = EnvelopeReader(truncated)
    with pytest.raises(X12TruncatedError):
        list(reader.transactions())


def test_missing_trailers_and_stray_segments() -> None:
    # The checker on its own (fed segment by segment) still reports what end of input left open.
    checker = EnvelopeChecker()
    for position, segment in enumerate(doc().split("~")[:5], 1):
        checker.feed(segment.split("*"), position)
    checker.finish(5)
    assert any("transaction opened at segment 3 has no SE" in p for p in checker.problems)
    assert any("group opened at segment 2 has no GE" in p for p in checker.problems)
    assert any("interchange opened at segment 1 has no IEA" in p for p in checker.problems)

    stray = doc().replace("GE*", "REF*XX*1~GE*", 1)
    _, problems = check_envelopes(stray)
    assert problems == ["REF at segment 7: segment outside a transaction (no ST before it)."]


def test_reader_collects_problems_while_streaming() -> None:
    reader = EnvelopeReader(doc(ge01="2"))
    assert reader.problems == []
    txs = list(reader.transactions())
    assert len(txs) == 1 and len(reader.problems) == 1 and "GE01" in reader.problems[0]


def test_unreadable_input_still_raises() -> None:
    with pytest.raises(X12SyntaxError):
        check_envelopes("not x12 at all")
