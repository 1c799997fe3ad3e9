"""JSON encounter files: a top-level array of encounter objects, or JSON Lines (one object per line)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


class FileError(Exception):
    """The file as a whole cannot be read. The message names the problem, never the content."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in an encounter file")


class TooDeep(ValueError):
    """Arrays / objects nested deeper than the parser can follow (Python's recursion limit)."""


def _loads(text: str) -> Any:
    # Numbers with a fraction become Decimal: money and units never pass through float.
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except RecursionError:
        # `"[" * 100000`: no encounter nests like this; report it instead of crashing the reader.
        raise TooDeep("arrays or objects are nested too deeply") from None


def _lines(text: str) -> list[str]:
    """JSON Lines end at a line feed only (one carriage return before it is dropped): str.splitlines()
    would also split on U+2028, U+2029, U+0085, ..., which may appear raw inside a JSON string."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return "true/false/null"
    return "a number"


# (record_number, parsed object or a parse-error message)
JsonRecord = tuple[int, Any, str | None]


def parse_json_records(text: str, *, lines_only: bool = False) -> tuple[str, list[JsonRecord]]:
    """-> (format, records). Raises FileError when the file is not an array / JSON Lines at all."""
    if not lines_only:
        try:
            doc = _loads(text)
        except (json.JSONDecodeError, ValueError) as exc:
            if not _looks_like_json_lines(text):
                raise FileError(_describe(exc)) from None
        else:
            if isinstance(doc, list):
                if not doc:
                    raise FileError("the file is an empty array: no encounters")
                return "json", [(i, item, None) for i, item in enumerate(doc, start=1)]
            if isinstance(doc, dict):
                return "jsonl", [(1, doc, None)]  # a single object: JSON Lines with one line
            raise FileError(f"the top level must be an array of encounter objects, not {_kind(doc)}")
    records: list[JsonRecord] = []
    for n, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            records.append((n, _loads(line), None))
        except (json.JSONDecodeError, ValueError) as exc:
            records.append((n, None, f"line {n} is {_describe(exc, with_line=False)}"))
    if not records:
        raise FileError("the file has no encounter records")
    return "jsonl", records


def _looks_like_json_lines(text: str) -> bool:
    first = next((line for line in _lines(text) if line.strip()), "")
    try:
        return isinstance(_loads(first), dict)
    except (json.JSONDecodeError, ValueError):
        return False


def _describe(exc: Exception, *, with_line: bool = True) -> str:
    if isinstance(exc, json.JSONDecodeError):
        where = f"line {exc.lineno} column {exc.colno}" if with_line else f"column {exc.colno}"
        return f"not valid JSON: {exc.msg} at {where}"
    if isinstance(exc, TooDeep):
        return f"not readable JSON: {exc}"
    return f"not valid JSON: {exc}"
