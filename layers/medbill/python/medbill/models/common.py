"""Value types shared by the models: money, names, addresses, NPI."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from medbill.models.text import is_clean_text, to_x12_text

CENT = Decimal("0.01")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantize to cents. Floats are refused: money never passes through binary floating point."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# Decimal in Python, a two-decimal string in JSON (DynamoDB and JSON never see a float).
Money = Annotated[
    Decimal,
    Field(max_digits=12, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_money),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]


def _x12_writable(value: str) -> str:
    """Free text must be sendable in an 837P: no X12 separators, and letters X12 can carry once
    accents are folded (José is fine, Łukasz is not). The message never quotes the value (PHI)."""
    if any(c in value for c in "\r\n\t"):
        raise ValueError("contains a line break or tab (one line of text only)")
    if not is_clean_text(to_x12_text(value)):
        raise ValueError("contains a character an X12 claim cannot carry (* ^ : ~ or a letter outside Latin-1)")
    return value


X12Text = AfterValidator(_x12_writable)
# NM103 (last or organization name) is at most 60 characters, NM104 (first) 35, NM105 (middle) 25.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), X12Text]
FirstName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=35), X12Text]
MiddleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=25), X12Text]
StateCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2}$")]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{5}(\d{4})?$")]
Sex = Literal["M", "F", "U"]


class Model(BaseModel):
    """Base for our models: unknown fields are errors (a typo in a clinic file must not vanish)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False)


class Address(Model):
    line1: Annotated[str, StringConstraints(min_length=1, max_length=55), X12Text]
    line2: Annotated[str, StringConstraints(max_length=55), X12Text] | None = None
    city: Annotated[str, StringConstraints(min_length=2, max_length=30), X12Text]
    state: StateCode
    postal_code: PostalCode


class Person(Model):
    last_name: Name
    first_name: FirstName
    middle_name: MiddleName | None = None
    date_of_birth: date
    sex: Sex
    address: Address


def npi_check_digit_ok(npi: str) -> bool:
    """NPI check digit: Luhn over the 9 digits prefixed with 80840 (CMS NPI standard)."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # rightmost payload digit is doubled (the check digit is not in `digits`)
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def _valid_npi(value: str) -> str:
    if not re.fullmatch(r"\d{10}", value):
        raise ValueError("NPI must be 10 digits")
    if not npi_check_digit_ok(value):
        raise ValueError(f"NPI {value} fails its check digit")
    return value


Npi = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_valid_npi)]
Tin = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{9}$")]
Taxonomy = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[0-9A-Z]{9}X$")]
