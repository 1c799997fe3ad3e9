"""Writing envelopes: the control-number rules of `ControlNumbers` (with their exact refusals), the
envelope of an acknowledgement (`Envelope.answering`) and an ISA written with pre-00402 delimiters."""

from __future__ import annotations

from datetime import datetime

import pytest

from medbill.x12.envelope import Interchange
from medbill.x12.interchange import MAX_CONTROL_NUMBER, ControlNumbers, Envelope, write_header
from medbill.x12.segments import SegmentBuffer
from medbill.x12.tokenizer import Delimiters

CREATED = datetime(2026, 12, 7, 9, 30)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interchange": 0, "group": 1}, "interchange control number 0 is outside 1..999999999"),
        ({"interchange": 1, "group": 1_000_000_000}, "group control number 1000000000 is outside 1..999999999"),
        (
            {"interchange": 1, "group": 1, "transactions": (5, -1)},
            "transaction control number -1 is outside 1..999999999",
        ),
        (
            {"interchange": 1, "group": 1, "transactions": (5, 6, 5)},
            "transaction control numbers (ST02) must be unique",
        ),
    ],
)
def test_control_numbers_out_of_range_or_repeated_are_refused_by_name(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        ControlNumbers(**kwargs)
    assert str(refused.value) == message


def test_the_largest_control_number_is_allowed_everywhere() -> None:
    numbers = ControlNumbers(MAX_CONTROL_NUMBER, MAX_CONTROL_NUMBER, (MAX_CONTROL_NUMBER,))
    assert numbers.isa13 == "999999999"
    assert numbers.st02s(1) == ["999999999"]


def test_a_file_without_transactions_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        ControlNumbers.from_counter(lambda: 1, transactions=0)
    assert str(refused.value) == "a file has at least one transaction"


def test_st02s_beyond_the_numbers_drawn_are_refused_with_how_many_there_are() -> None:
    hint = "use ControlNumbers.from_counter(counter, transactions=2)"
    # No ST02 drawn: the group number serves one transaction only.
    assert ControlNumbers(7, 7).st02s(1) == ["0007"]
    with pytest.raises(ValueError) as none_drawn:
        ControlNumbers(7, 7).st02s(2)
    assert str(none_drawn.value) == f"2 transactions need 2 ST02 control numbers but none were given: {hint}"
    with pytest.raises(ValueError) as one_drawn:
        ControlNumbers(7, 7, (7,)).st02s(2)
    assert str(one_drawn.value) == f"2 transactions need 2 ST02 control numbers but 1 were given: {hint}"


def _submission(*, sender_qualifier: str, receiver_qualifier: str, usage: str) -> Interchange:
    return Interchange(
        sender_qualifier, "CLINIC         ", receiver_qualifier, "MEDBILL        ", "261207", "0900", "00501",
        "000000044", usage, Delimiters(), 1,
    )  # fmt: skip


def test_an_acknowledgement_swaps_sender_and_receiver_and_keeps_the_usage() -> None:
    isa = _submission(sender_qualifier="30", receiver_qualifier="ZZ", usage="T")
    ack = Envelope.answering(
        isa, control_number=12, group_control_number=13, functional_id="FA", version="005010X231A1", created=CREATED
    )
    assert ack == Envelope(
        "ZZ", "MEDBILL", "30", "CLINIC", 12, "T", "FA", "MEDBILL", "CLINIC", 13, "005010X231A1", CREATED
    )  # fmt: skip


def test_an_acknowledgement_of_an_isa_with_empty_qualifiers_and_usage_uses_zz_and_production() -> None:
    isa = _submission(sender_qualifier="", receiver_qualifier="", usage="")
    ack = Envelope.answering(
        isa, control_number=1, group_control_number=1, functional_id="FA", version="005010X231A1", created=CREATED
    )
    assert (ack.sender_qualifier, ack.receiver_qualifier, ack.usage) == ("ZZ", "ZZ", "P")


def test_an_acknowledgement_names_the_application_sender_and_receiver_it_is_given() -> None:
    isa = _submission(sender_qualifier="30", receiver_qualifier="ZZ", usage="P")
    ack = Envelope.answering(
        isa,
        control_number=1,
        group_control_number=2,
        functional_id="HN",
        version="005010X214",
        created=CREATED,
        usage="T",
        application_sender="MEDBILLAPP",
        application_receiver="CLINICAPP",
    )
    assert (ack.sender_id, ack.receiver_id) == ("MEDBILL", "CLINIC")
    assert (ack.application_sender, ack.application_receiver, ack.usage) == ("MEDBILLAPP", "CLINICAPP", "T")


def test_an_isa_written_with_pre_00402_delimiters_still_has_a_repetition_separator() -> None:
    buf = SegmentBuffer(Delimiters("*", None, ":", "~"))
    isa = _submission(sender_qualifier="30", receiver_qualifier="ZZ", usage="P")
    envelope = Envelope.answering(
        isa, control_number=3, group_control_number=3, functional_id="FA", version="005010X231A1", created=CREATED
    )
    write_header(buf, envelope)
    assert buf.segments[0] == (
        "ISA*00*          *00*          *ZZ*MEDBILL        *30*CLINIC         *261207*0930*^*00501*000000003*0*P*:"
    )
