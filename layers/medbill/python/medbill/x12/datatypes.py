"""X12 numeric data elements, read strictly: R (decimal number) and N0 (whole number).

`Decimal()` alone accepts far more than X12 allows ('8E2', '8_00', 'NaN', 'Infinity', ' 8 ',
non-ASCII digits), so every reader checks the X12 form first: an optional leading minus sign,
ASCII digits and (R only) an optional decimal point. No exponent, plus sign, spaces or
thousands separators, and at most 18 digits (X12's longest numeric element; Python's int() refuses
strings of over 4300 digits, so an unbounded one would not even fail with a useful message).

Error messages name the element (e.g. CLP03). They quote the value only when it cannot be a date,
an id, a phone number or an SSN: at most 12 characters, all of them digits or ``+ - . , _ e E``
(spaces only around them)
(or a special value Decimal knows, e.g. 'NaN', '-Infinity'), with no '-' but a single leading minus
and at most one '.'. So '8E2', '1,000.00' and '-1_0' are quoted; '1985-01-02', '123-45-6789',
'01.02.1985', '555 1234' and 'SMITH' are described by their length instead ("(10 characters, not
shown)"): they may be patient data that slipped into the wrong element. An empty element is said to
be empty.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["X12NumberError", "is_n0", "is_r", "n0_int", "parse_r", "r_decimal", "shown"]

_R = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_N0 = re.compile(r"-?[0-9]+")
# Number-like junk that cannot be PHI: a short run of digits and number punctuation with no inner
# '-' (dates, SSNs, phone numbers) and at most one '.' (dotted dates), or a special value Python's
# Decimal would have accepted. No inner spaces ('555 1234'), no '/' ('01/02/1985').
_SHOWABLE = re.compile(r"-?[+0-9.,_eE]{1,11}|[-+]?(?:s?nan|inf|infinity)", re.IGNORECASE)

MAX_DIGITS = 18  # X12 R and N0 elements are at most 18 digits (sign and decimal point not counted)
_R_CHARS = "0123456789.-"

_EXPECTED = {
    "decimal": "expected digits, optionally a leading minus and a decimal point, e.g. 125.50",
    "whole": "expected digits, optionally a leading minus, e.g. 3",
}
_TOO_LONG = f"more than {MAX_DIGITS} digits"


def _digits(value: str) -> int:
    return len(value) - value.count(".") - value.count("-")


def is_r(value: str) -> re.Match[str] | None:
    """The definition of an X12 R number; :func:`parse_r` is the fast equivalent readers use."""
    found = _R.fullmatch(value)
    return found if found and _digits(value) <= MAX_DIGITS else None


def is_n0(value: str) -> re.Match[str] | None:
    """The definition of an X12 N0 number."""
    found = _N0.fullmatch(value)
    return found if found and (len(value) <= MAX_DIGITS or _digits(value) <= MAX_DIGITS) else None


def shown(value: str) -> str:
    """The value quoted when it cannot be a date, id, phone number or SSN (see the module docstring);
    otherwise its length (it may be PHI); 'empty' for ''."""
    if not value:
        return "empty"
    if len(value) <= 12 and value.count(".") <= 1 and _SHOWABLE.fullmatch(value.strip(" ")):
        return repr(value)
    return f"({len(value)} character{'s' if len(value) > 1 else ''}, not shown)"


class X12NumberError(ValueError):
    """An element that must be an X12 number is not. ``element`` is e.g. 'CLP03'."""

    def __init__(self, element: str, value: str, kind: str = "decimal") -> None:
        self.element = element
        pattern = _R if kind == "decimal" else _N0
        expected = _TOO_LONG if pattern.fullmatch(value) else _EXPECTED[kind]
        if not value:
            super().__init__(f"{element} is empty, which is not an X12 {kind} number ({expected})")
        else:
            super().__init__(f"{element} {shown(value)} is not an X12 {kind} number ({expected})")


def parse_r(value: str) -> Decimal | None:
    """``value`` as a Decimal when it is an X12 R number, else None. Same verdict as :data:`is_r`, at a
    fraction of the cost (the 835 reader calls it for every amount): only digits, '.' and '-' get
    through the first test, and Decimal refuses every misplaced '.' or '-'. Counting digits is needed
    only for a value longer than the most digits allowed (amounts never are)."""
    if value and not value.strip(_R_CHARS) and (len(value) <= MAX_DIGITS or _digits(value) <= MAX_DIGITS):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def r_decimal(value: str, element: str) -> Decimal:
    """An R element as a Decimal; raises :class:`X12NumberError` naming ``element``."""
    number = parse_r(value)
    if number is None:
        raise X12NumberError(element, value)
    return number


def n0_int(value: str, element: str) -> int:
    """An N0 element as an int; raises :class:`X12NumberError` naming ``element``."""
    if is_n0(value) is None:
        raise X12NumberError(element, value, "whole")
    return int(value)
