"""The streaming readers against the whole-file parse: any chunking gives the same records, a
continuation from any record's cursor gives the rest, and over-long records are passed over exactly."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from medbill.intake.json_stream import array_records, line_records
from medbill.intake.limits import MAX_RECORD_BYTES
from medbill.intake.stream import Cursor, chunked, lines

_text = st.text(alphabet=st.sampled_from('ab"\\\n\t/é€{}[],:'), max_size=30)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | _text,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text("xyz", min_size=1, max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)
_records = st.lists(
    st.dictionaries(st.text("abc", min_size=1, max_size=4), _values, max_size=5), min_size=1, max_size=8
)


@settings(max_examples=60, deadline=None)
@given(records=_records, chunk=st.integers(1, 64), indent=st.sampled_from([None, 1]))
def test_any_chunking_and_any_resume_point_read_the_same_records(
    records: list[dict], chunk: int, indent: int | None
) -> None:
    body = json.dumps(records, indent=indent, ensure_ascii=False).encode()
    read = list(array_records(chunked(body, chunk)))
    assert [value for _, value, _ in read] == records
    for cursor, _, _ in read:
        rest = list(array_records(chunked(body[cursor.offset :], chunk), cursor))
        assert [value for _, value, _ in rest] == records[cursor.record - 1 :]
        assert rest[0][0] == cursor  # the same offset, line and column again


@settings(max_examples=12, deadline=None)
@given(chunk=st.sampled_from([4093, 65536, 1 << 20]), escapes=st.integers(0, 3))
def test_an_over_long_string_with_escapes_is_passed_over_to_its_exact_end(chunk: int, escapes: int) -> None:
    long = ('x\\"y\\\\' * escapes) + "z" * (MAX_RECORD_BYTES + 5)
    body = json.dumps([{"a": 1}, {"name": json.loads(f'"{long}"')}, {"b": "\\"}, long[:10]]).encode()
    read = list(array_records(chunked(body, chunk)))
    assert [(c.record, v) for c, v, _ in read] == [
        (1, {"a": 1}),
        (2, None),
        (3, {"b": "\\"}),
        (4, long[:10]),
    ]
    assert read[1][2] == [("", "record 2 is over the limit of 256 KiB per record: not read")]


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=10), chunk=st.integers(1, 50), limit=st.integers(5, 30)
)
def test_lines_split_at_line_feeds_and_pass_over_long_ones(lengths: list[int], chunk: int, limit: int) -> None:
    body = b"\n".join(b"q" * n for n in lengths)
    got = list(lines(chunked(body, chunk), limit=limit))
    assert [(line.number, line.length) for line in got] == [
        (n, length) for n, length in enumerate(lengths, start=1) if n < len(lengths) or length
    ]
    for line in got:
        assert line.data == (None if line.length > limit else b"q" * line.length)
        assert body[line.offset : line.offset + line.length] == b"q" * line.length


def test_json_lines_resume_at_a_line() -> None:
    body = b'{"a": 1}\n\n{"a": 2}\r\n{"a": 3}'
    read = list(line_records(chunked(body, 3)))
    assert [(c.record, v) for c, v, _ in read] == [(1, {"a": 1}), (3, {"a": 2}), (4, {"a": 3})]
    cursor = read[1][0]
    assert cursor == Cursor(record=3, offset=10, line=3, column=1, seen=1)
    assert [v for _, v, _ in line_records(chunked(body[10:], 2), cursor)] == [{"a": 2}, {"a": 3}]
