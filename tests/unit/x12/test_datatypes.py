"""Strict X12 numbers: the fast check the readers use agrees with the definition, and error messages
quote only what can be nothing but a malformed number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medbill.x12.datatypes import X12NumberError, is_n0, is_r, n0_int, parse_r, r_decimal, shown


@given(st.text(alphabet="0123456789.-+eE_ \t\u0663\uff11naNIfity", max_size=8))
def test_fast_check_agrees_with_the_definition(value: str) -> None:
    assert (parse_r(value) is not None) == (is_r(value) is not None)
    if is_r(value):
        assert parse_r(value) == Decimal(value)


@pytest.mark.parametrize(
    "value", ["0", "125.50", "-3", "5.", ".5", "-.5", "007", "9999999999999999.99", "-999999999999999999"]
)
def test_x12_decimals(value: str) -> None:
    assert r_decimal(value, "CLP03") == Decimal(value)


@pytest.mark.parametrize(
    "value", ["", "-", ".", "-.", "1.2.3", "1-2", "--1", "+1", " 1", "1 ", "1e2", "8E2", "8_00", "1,000"]
)
def test_not_x12_decimals(value: str) -> None:
    with pytest.raises(X12NumberError, match=r"^CLP03 .* is not an X12 decimal number"):
        r_decimal(value, "CLP03")


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Inf", "inf", "\u0661\u0662", "\uff11"])
def test_what_decimal_takes_but_x12_does_not(value: str) -> None:
    Decimal(value)  # Python would read it ...
    assert parse_r(value) is None and is_r(value) is None  # ... X12 does not


def test_whole_numbers() -> None:
    assert n0_int("12", "LX01") == 12 and n0_int("-1", "LX01") == -1 and is_n0("1.0") is None
    for bad in ("1.0", "1e1", "\u00b2", "A", ""):
        with pytest.raises(X12NumberError, match="is not an X12 whole number"):
            n0_int(bad, "LX01")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8E2", "'8E2'"),
        ("NaN", "'NaN'"),
        ("-Infinity", "'-Infinity'"),
        ("1,000.00", "'1,000.00'"),
        ("SMITH", "(5 characters, not shown)"),
        ("JOHN DOE", "(8 characters, not shown)"),
        ("8O0.00", "(6 characters, not shown)"),
        ("1" * 40, "(40 characters, not shown)"),
        (" 300", "' 300'"),
        ("-1_0", "'-1_0'"),
        ("1985-01-02", "(10 characters, not shown)"),  # a birth date
        ("123-45-6789", "(11 characters, not shown)"),  # an SSN
        ("555-1234", "(8 characters, not shown)"),  # a phone number
        ("555 1234", "(8 characters, not shown)"),
        ("01.02.1985", "(10 characters, not shown)"),
        ("1,234,567,890", "(13 characters, not shown)"),  # longer than any showable junk
        ("--5", "(3 characters, not shown)"),
        ("X", "(1 character, not shown)"),
        ("", "empty"),
    ],
)
def test_only_number_like_values_are_quoted(value: str, expected: str) -> None:
    assert shown(value) == expected


@pytest.mark.parametrize("value", ["1" * 19, "-1" + "0" * 18, "9" * 5000])
def test_numbers_longer_than_18_digits_are_not_x12_numbers(value: str) -> None:
    assert parse_r(value) is None and is_r(value) is None and is_n0(value) is None
    with pytest.raises(X12NumberError, match=r"is not an X12 whole number \(more than 18 digits\)$"):
        n0_int(value, "LX01")
    with pytest.raises(X12NumberError, match=r"is not an X12 decimal number \(more than 18 digits\)$"):
        r_decimal(value[:-2] + "." + value[-2:], "CLM02")
    assert n0_int("9" * 18, "LX01") == int("9" * 18) and r_decimal("9" * 16 + ".99", "CLM02") == Decimal(
        "9" * 16 + ".99"
    )


def test_an_empty_element_is_said_to_be_empty() -> None:
    with pytest.raises(X12NumberError) as raised:
        r_decimal("", "CLM02")
    assert str(raised.value).startswith("CLM02 is empty, which is not an X12 decimal number")
    assert "not shown" not in str(raised.value)
