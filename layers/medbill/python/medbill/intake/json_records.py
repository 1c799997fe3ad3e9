"""One JSON encounter record: parsed with Decimal numbers, duplicate keys found, values bounded.

`json.loads` keeps the last of two equal keys without a word; a clinic's record with `date_of_birth`
twice is rejected instead, naming the key (a field name, not a value). A string longer than
limits.MAX_FIELD_CHARS is rejected by its path before the encounter model sees the record.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from medbill.intake.limits import MAX_FIELD_CHARS

_FIELD_NAME = re.compile(r"^[A-Za-z0-9_]{1,40}$")


class _Constant:
    """NaN / Infinity in a record: kept as a marker so the record is rejected, not the file."""

    def __init__(self, name: str) -> None:
        self.name = name


def key_name(key: str) -> str:
    """A key as a report may show it: field-name shaped keys as given, anything else not quoted."""
    return key if _FIELD_NAME.fullmatch(key) else "(a key that is not a field name)"


class RecordDecoder:
    """`decode(text, pos)` -> (value, end, problems): one JSON value from `pos` on (raw_decode), with the
    problems the standard parser would pass over. Raises json.JSONDecodeError / RecursionError."""

    def __init__(self) -> None:
        self._problems: list[tuple[str, str]] = []
        self._decoder = json.JSONDecoder(
            parse_float=Decimal, parse_constant=self._constant, object_pairs_hook=self._object
        )

    def _constant(self, name: str) -> _Constant:
        return _Constant(name)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            twice = sorted({k for k, _ in pairs if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
            names = ", ".join(key_name(k) for k in twice)
            self._problems.append(("", f"key {names} appears twice in one object: which one is meant is unclear"))
        return obj

    def decode(self, text: str, pos: int = 0) -> tuple[Any, int, list[tuple[str, str]]]:
        self._problems = []
        value, end = self._decoder.raw_decode(text, pos)
        problems = self._problems + value_problems(value)
        self._problems = []
        return value, end, problems


def value_problems(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(field path, reason) for each over-long string and NaN / Infinity in a parsed record."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_FIELD_CHARS:
                found.append(
                    (
                        where,
                        f"{where or 'the value'} is {len(item):,} characters, over the limit of {MAX_FIELD_CHARS:,}",
                    )
                )
        elif isinstance(item, _Constant):
            found.append((where, f"{item.name} is not allowed in an encounter file"))
        elif isinstance(item, dict):
            for k, v in item.items():
                name = key_name(k)
                if len(k) > MAX_FIELD_CHARS:
                    found.append((where, f"a key of {len(k):,} characters is over the limit of {MAX_FIELD_CHARS:,}"))
                stack.append((f"{where}.{name}" if where else name, v))
        elif isinstance(item, list):
            stack.extend((f"{where}.{n}" if where else str(n), v) for n, v in enumerate(item, start=1))
    return sorted(found)
