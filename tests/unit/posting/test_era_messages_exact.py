"""billing.era_messages word for word: the ERA id a payment gets whoever identifies its payer, the ids
of payments a file repeats, a too-big file's id, and the exact problems a claim payment that cannot
become a posting message carries (where in the 835, which rule, never the value)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from medbill.billing.era_messages import (
    describe,
    era_id_for,
    era_ids_for,
    file_id_for,
    file_id_for_head,
    posting_problems,
    to_remittance,
)
from medbill.models.remittance import ClaimRemittance
from medbill.x12.remittance835 import (
    Adjustment,
    ClaimPayment,
    Party,
    Payment,
    Reference,
    RemittanceReader,
    ServiceLine,
)
from tests.posting_harness import era_text

D = Decimal


def _payment(
    trace: str = "TRC1",
    *,
    trn03: str = "",
    ref_2u: str | None = None,
    n1_id: str = "",
    st02: str = "",
) -> Payment:
    refs = [Reference("EO", "OTHERREF")] + ([Reference("2U", ref_2u)] if ref_2u is not None else [])
    return Payment(
        total_paid=D("0.00"),
        trace_number=trace,
        payer_identifier=trn03,
        payer=Party("PR", name="SOME PAYER", id_qualifier="XV", id=n1_id, references=refs),
        control_number=st02,
    )


# --- ERA ids ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payment", "era_id"),
    [
        (_payment(trn03="1999999999", ref_2u="PAYREF", n1_id="N1PAYER"), "1999999999-TRC1"),
        (_payment(ref_2u="PAYREF", n1_id="N1PAYER"), "PAYREF-TRC1"),  # no TRN03: the payer's REF*2U
        (_payment(n1_id="N1PAYER"), "N1PAYER-TRC1"),  # no TRN03, no REF*2U: N104 of N1*PR
        (_payment(ref_2u="", n1_id="N1PAYER"), "N1PAYER-TRC1"),  # an empty REF*2U names no payer
        (_payment(), "UNKNOWN-TRC1"),  # nothing names the payer
        (_payment("", trn03="1999999999", st02="0042"), "1999999999-0042"),  # no TRN02: the ST02
    ],
)
def test_the_era_id_is_the_first_payer_id_the_835_gives_and_the_trace(payment: Payment, era_id: str) -> None:
    assert era_id_for(payment) == era_id


def test_a_payment_repeated_in_a_file_is_kept_apart_under_an_id_no_other_payment_has() -> None:
    # The repeat's ST02 id is taken already (by a payment whose trace ends in it): its place is added too.
    taken = [_payment("TRC1-0001", ref_2u="PAYREF"), _payment(ref_2u="PAYREF"), _payment(ref_2u="PAYREF", st02="0001")]
    ids, problems = era_ids_for(taken)
    assert ids == ["PAYREF-TRC1-0001", "PAYREF-TRC1", "PAYREF-TRC1-0001-3"]
    assert problems == [
        "payment PAYREF-TRC1 (payer and trace number) appears again in this file at transaction 0001; "
        "recorded as PAYREF-TRC1-0001-3"
    ]
    # No ST02: the repeat's place in the file (counted from 1).
    ids, problems = era_ids_for([_payment(ref_2u="PAYREF") for _ in range(3)])
    assert ids == ["PAYREF-TRC1", "PAYREF-TRC1-2", "PAYREF-TRC1-3"]
    assert problems == [
        "payment PAYREF-TRC1 (payer and trace number) appears again in this file at transaction 2; "
        "recorded as PAYREF-TRC1-2",
        "payment PAYREF-TRC1 (payer and trace number) appears again in this file at transaction 3; "
        "recorded as PAYREF-TRC1-3",
    ]
    # The same ST02 three times: the third gets its place added to the second's id.
    ids, problems = era_ids_for([_payment(ref_2u="PAYREF", st02="0001") for _ in range(3)])
    assert ids == ["PAYREF-TRC1", "PAYREF-TRC1-0001", "PAYREF-TRC1-0001-3"]
    assert problems[1] == (
        "payment PAYREF-TRC1 (payer and trace number) appears again in this file at transaction 0001; "
        "recorded as PAYREF-TRC1-0001-3"
    )


def test_file_ids_are_the_head_of_a_sha256_in_capitals() -> None:
    assert file_id_for(b"ISA*00*") == "FF6B9B5E3EE512CBC"
    # A file too big to read: its first chunk and its size (a different size, a different id).
    assert file_id_for_head(b"ISA*00*", 123456) == "F7323934B3A830A08"
    assert file_id_for_head(b"ISA*00*", 123457) != file_id_for_head(b"ISA*00*", 123456)


# --- the posting message ---------------------------------------------------------------------------
def test_the_posting_message_carries_codes_amounts_and_the_original_procedure_of_each_line() -> None:
    first = ServiceLine(
        "HC",
        "99213",
        D("100.00"),
        D("80.00"),
        modifiers=["25"],
        units=D("1"),
        original_procedure=["HC", "99214", "25", "59", "XU", "76", "DESCRIPTION"],  # SVC06-1..7
        dates={"472": "20261005"},
        references=[Reference("6R", "L1")],
        amounts={"B6": D("80.00")},
        adjustments=[Adjustment("CO", "45", D("20.00"))],
        remarks=[("HE", "N130")],
        position=14,
    )
    second = ServiceLine("HC", "99215", D("10.00"), D("10.00"), original_procedure=["HC", "99212"], position=18)
    third = ServiceLine(
        "HC", "36415", D("10.00"), D("10.00"), original_procedure=["HC"], dates={"150": "20261006"}, position=20
    )
    claim = ClaimPayment(
        "C1",
        "1",
        D("120.00"),
        D("100.00"),
        D("0.00"),
        "CI",
        "PCN1",
        frequency_code="1",
        adjustments=[Adjustment("PR", "1", D("0.00"), D("1"))],
        dates={"232": "20261001", "233": "20261009"},
        outpatient=["", "", "MA01"],
        lines=[first, second, third],
        position=12,
    )
    payment = Payment(D("100.00"), trace_number="T1", payer_identifier="1999999999", payment_date="20261120")
    message = to_remittance(claim, payment, era_id="E1", file_id="F1", key="era/k.835")
    none = {"units": None, "service_date": None, "control_number": None, "allowed": None}
    plain = {"procedure_qualifier": "HC", "modifiers": [], "charge": "10.00", "paid": "10.00", "adjustments": []}
    assert message.model_dump(mode="json") == {
        "era_id": "E1",
        "payment_key": "E1",
        "occurrence": 1,
        "file_id": "F1",
        "source_key": "era/k.835",
        "payer_id": "1999999999",
        "trace_number": "T1",
        "position": 12,
        "claim_id": "C1",
        "status_code": "1",
        "charge": "120.00",
        "paid": "100.00",
        "patient_responsibility": "0.00",
        "filing_indicator": "CI",
        "payer_claim_number": "PCN1",
        "frequency_code": "1",
        "adjustments": [{"group": "PR", "reason": "1", "amount": "0.00", "quantity": "1"}],
        "remarks": ["MA01"],
        "service_date": "20261001",  # DTM*232
        "payment_date": "20261120",
        "lines": [
            {
                "position": 14,
                "procedure_qualifier": "HC",
                "procedure_code": "99213",
                "modifiers": ["25"],
                "charge": "100.00",
                "paid": "80.00",
                "units": "1",
                "original_procedure_code": "99214",
                "original_modifiers": ["25", "59", "XU", "76"],  # SVC06-3..6, not the description
                "service_date": "20261005",
                "control_number": "L1",
                "allowed": "80.00",
                "adjustments": [{"group": "CO", "reason": "45", "amount": "20.00", "quantity": None}],
                "remarks": ["N130"],
            },
            {
                **plain,
                **none,
                "position": 18,
                "procedure_code": "99215",
                "original_procedure_code": "99212",
                "original_modifiers": [],
                "remarks": [],
            },
            {
                **plain,
                **none,
                "position": 20,
                "procedure_code": "36415",
                "original_procedure_code": None,  # SVC06 with a qualifier only
                "original_modifiers": [],
                "service_date": "20261006",  # DTM*150
                "remarks": [],
            },
        ],
    }
    assert to_remittance(claim, payment, era_id="E1", file_id="F1", key="k", occurrence=2).occurrence == 2


# --- problems of a claim payment that cannot be posted ----------------------------------------------
def _read(text: str) -> list[tuple[ClaimPayment, Payment]]:
    """Each claim payment of the 835 `text` as the reader hands it out, with its payment."""
    out = []
    for payment in RemittanceReader(text).payments():
        out += [(claim, payment) for claim in payment.iter_claims()]
    return out


def _odd_claims() -> list[ClaimPayment]:
    good = ClaimPayment(
        "GOOD01", "1", D("10.00"), D("10.00"), D("0"), "CI", "PG", lines=[ServiceLine("HC", "99213", D("10"), D("10"))]
    )
    bad = ClaimPayment(
        "BAD01",
        "1",
        D("10.00"),
        D("5.00"),
        None,
        "CI",
        "PX",
        adjustments=[Adjustment("ZQ", "45", D("5.00"))],
        lines=[ServiceLine("HC", "99213", D("10.00"), D("5.00"), adjustments=[Adjustment("CO", "A1234X", D("5.00"))])],
    )
    return [good, bad]


def test_posting_problems_locate_each_failed_rule_in_the_835_and_a_good_claim_has_none() -> None:
    (good, payment), (bad, _) = _read(era_text(_odd_claims(), [], "PRB1"))
    assert posting_problems(good, payment) == []
    assert posting_problems(bad, payment) == [
        "claim payment (CLP) at segment 12 cannot be posted: claim-level CAS adjustment 1: CAS01 group code: "
        "Input should be 'CO', 'OA', 'PI', 'PR' or 'CR'",
        "claim payment (CLP) at segment 12 cannot be posted: SVC at segment 14 CAS adjustment 1: reason code: "
        "String should have at most 5 characters",
    ]


def test_posting_problems_of_a_claim_with_an_amount_that_is_not_a_number_count_them() -> None:
    text = era_text(_odd_claims(), [], "PRB1").replace("CAS*ZQ*45*5.00", "CAS*CO*45*5.0A")
    (good, payment), (bad, _) = _read(text)
    assert posting_problems(good, payment) == []
    assert posting_problems(bad, payment) == [
        "claim payment (CLP) at segment 12 cannot be posted: 1 amount(s) in it are not X12 numbers"
    ]


def _claim() -> ClaimPayment:
    line = ServiceLine("HC", "99213", D("10.00"), D("10.00"), position=12)
    return ClaimPayment("C1", "1", D("10.00"), D("10.00"), None, "CI", "P1", lines=[line], position=9)


def _described(**changes: Any) -> list[str]:
    """describe() of the posting message of `_claim()` with `changes` made to it."""
    claim = _claim()
    document = to_remittance(claim, Payment(D("10.00")), era_id="E", file_id="F", key="k").model_dump(mode="json")
    with pytest.raises(ValidationError) as caught:
        ClaimRemittance.model_validate({**document, **changes})
    return describe(caught.value, claim)


AT = "claim payment (CLP) at segment 9 cannot be posted: "
LINE = {"procedure_code": "99213", "charge": "10.00", "paid": "10.00"}
CAS = {"group": "CO", "reason": "45", "amount": "1.00"}


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"adjustments": "x"}, ["claim-level CAS adjustment 0: adjustment: Input should be a valid list"]),
        ({"adjustments": ["x"]}, ["claim-level CAS adjustment 1: adjustment: fails the model_type check"]),
        (
            {"adjustments": [CAS, {**CAS, "bogus": 1}]},
            ["claim-level CAS adjustment 2: bogus: fails the extra_forbidden check"],
        ),
        (
            {"adjustments": [{**CAS, "amount": "x"}]},
            ["claim-level CAS adjustment 1: amount: Input should be a valid decimal"],
        ),
        ({"lines": "x"}, ["lines: Input should be a valid list"]),
        ({"lines": ["x"]}, ["SVC at segment 12: fails the model_type check"]),
        ({"lines": [LINE, {**LINE, "bogus": 1}]}, ["service line 2: bogus: fails the extra_forbidden check"]),
        (
            {"lines": [LINE, LINE, {**LINE, "units": "x"}]},
            ["service line 3: SVC05 units: Input should be a valid decimal"],
        ),
        (
            {"lines": [{**LINE, "adjustments": [CAS, {**CAS, "quantity": "x"}]}]},
            ["SVC at segment 12 CAS adjustment 2: quantity: Input should be a valid decimal"],
        ),
        (
            {"era_id": None, "position": 1.5},
            ["era_id: Input should be a valid string", "position: fails the int_from_float check"],
        ),
        ({"status_code": "123"}, ["CLP02 claim status: String should have at most 2 characters"]),
    ],
)
def test_each_failed_rule_is_described_by_where_it_is_in_the_835_and_the_rule_only(
    changes: dict[str, Any], problems: list[str]
) -> None:
    assert _described(**changes) == [AT + p for p in problems]


def test_a_posting_message_that_is_not_a_document_is_described_as_the_claim_payment() -> None:
    with pytest.raises(ValidationError) as caught:
        ClaimRemittance.model_validate("x")
    assert describe(caught.value, _claim()) == [AT + "claim payment: fails the model_type check"]
