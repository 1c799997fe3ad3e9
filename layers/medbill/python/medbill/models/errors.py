"""Validation errors described without the values that failed.

pydantic's own `str(err)` quotes the input (`input_value=...`), which may be a patient's name, a
date of birth or a member id, and error messages travel into logs, SQS batch failures and Step
Functions error causes. Everything that reports a `ValidationError` outside the process says which
fields failed and which rule, through these two functions, and never `str(err)`.

This module is in the lowest layer (models) so the domain and the handlers can both use it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


def field_path(loc: Sequence[int | str]) -> str:
    """`("lines", 0, "units")` -> `"lines.0.units"`; the whole input when there is no location."""
    return ".".join(str(part) for part in loc) or "message"


def error_fields(err: ValidationError) -> list[str]:
    """`"<field path>: <error type>"` per failed rule, in pydantic's order; never an input value."""
    return [
        f"{field_path(e['loc'])}: {e['type']}"
        for e in err.errors(include_url=False, include_context=False, include_input=False)
    ]


def describe(err: ValidationError, *, subject: str | None = None) -> str:
    """One line naming the model (or `subject`), each failed field and its rule: no values."""
    return f"{subject or err.title} failed validation: {'; '.join(error_fields(err))}"
