"""JSON encounter files as streams: a top-level array read element by element, and JSON Lines line by
line. Each yields (cursor, parsed record or None, problems); memory is one chunk plus one record.

The array reader parses each element with the standard library's C decoder (`raw_decode`) on a
window of the file: an element not complete in the window gets more of the file, up to
limits.MAX_RECORD_BYTES; a longer one is passed over by a scan for its end and rejected unread. A
syntax error ends the reading there with a FileError naming line and column: the records before
it keep their outcomes, the report says from which record nothing was read.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from medbill.intake.json_records import RecordDecoder
from medbill.intake.limits import MAX_RECORD_BYTES, MAX_RECORDS, size_text
from medbill.intake.stream import Cursor, FileError, lines

JsonItem = tuple[Cursor, Any, list[tuple[str, str]]]
_SPACE = re.compile(r"[ \t\n\r]*")
_STRUCTURE = re.compile(r'["\[\]{},]')


def too_many_records(first_unread: int) -> FileError:
    return FileError(
        f"the file has more than {MAX_RECORDS:,} records, the limit per file: records from record {first_unread:,} "
        "on were not read; send them in another file"
    )


def _not_json(exc: json.JSONDecodeError, line: int, column: int, record: int) -> FileError:
    return FileError(
        f"not valid JSON: {exc.msg} at line {line} column {column}; records from {record} on were not read"
    )


_COMPACT_CHARS = 1024 * 1024  # drop the text already read once this much of it is behind the mark


def _byte_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


class _Window:
    """The part of the file being parsed, as text. `mark` is a position the reader has passed; the
    byte offset, line and column of text[mark] are kept as the mark moves (each character once)."""

    def __init__(self, chunks: Iterable[bytes], cursor: Cursor) -> None:
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.text = ""
        self.mark = 0
        self.eof = False
        self.offset, self.line, self.column = cursor.offset, cursor.line, cursor.column
        self._first = cursor.offset == 0

    def more(self) -> bool:
        """Append the next chunk; False at the end of the file."""
        if self.eof:
            return False
        chunk = next(self._chunks, None)
        try:
            if chunk is None:
                self.eof = True
                self.text += self._decoder.decode(b"", final=True)
                return False
            piece = self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            at = self.offset + _byte_length(self.text[self.mark :])
            raise FileError(f"the file is not UTF-8 text (invalid byte near offset {at + exc.start})") from None
        if self._first and piece:
            self._first = False
            if piece.startswith("\ufeff"):  # a UTF-8 byte order mark is dropped
                piece = piece[1:]
                self.offset += 3
        self.text += piece
        return True

    def _moved(self, pos: int) -> tuple[int, int, int]:
        seg = self.text[self.mark : pos]
        newlines = seg.count("\n")
        column = len(seg) - seg.rfind("\n") if newlines else self.column + len(seg)
        return self.offset + _byte_length(seg), self.line + newlines, column

    def advance(self, pos: int) -> None:
        self.offset, self.line, self.column = self._moved(pos)
        self.mark = pos

    def drop(self, upto: int) -> None:
        """Forget text[:upto] (positions start again at 0)."""
        self.advance(upto)
        self.text = self.text[upto:]
        self.mark = 0

    def where(self, pos: int) -> tuple[int, int]:
        """(line, column) of text[pos] (pos at or after the mark)."""
        _, line, column = self._moved(pos)
        return line, column

    def cursor(self, record: int, pos: int) -> Cursor:
        self.advance(pos)
        return Cursor(record, self.offset, self.line, self.column, seen=record - 1)

    def skip_space(self, pos: int) -> int:
        """The position of the next non-space character, reading on as needed (len(text) at the end)."""
        while True:
            pos = _SPACE.match(self.text, pos).end()  # type: ignore[union-attr]
            if pos < len(self.text):
                return pos
            self.drop(pos)  # all space so far: keep none of it (a file of blanks stays one chunk in memory)
            pos = 0
            if not self.more():
                return pos


def array_records(chunks: Iterable[bytes], cursor: Cursor | None = None) -> Iterator[JsonItem]:
    """The elements of a top-level JSON array. `cursor` None: the file from its start (the "[" first);
    else an element's start, as an earlier pass yielded it."""
    window = _Window(chunks, cursor or Cursor())
    decoder = RecordDecoder()
    record = cursor.record if cursor else 1
    pos = window.skip_space(0)
    if cursor is None:
        if window.text[pos : pos + 1] != "[":
            raise FileError("the top level must be an array of encounter objects")
        pos = window.skip_space(pos + 1)
        if window.text[pos : pos + 1] == "]":
            raise FileError("the file is an empty array: no encounters")
    while True:
        if pos >= len(window.text):
            line, column = window.where(pos)
            raise FileError(
                f"not valid JSON: the array is not closed at line {line} column {column}; records from {record} on "
                "were not read"
            )
        if record > MAX_RECORDS:
            raise too_many_records(record)
        start = window.cursor(record, pos)
        if window.mark > _COMPACT_CHARS:
            window.drop(pos)
            pos = 0
        item = _element(window, decoder, record, pos)
        if item is None:  # over the limit: passed over, the window now starts after it
            reason = f"record {record} is over the limit of {size_text(MAX_RECORD_BYTES)} per record: not read"
            yield start, None, [("", reason)]
            pos = 0
        else:
            value, pos, problems = item
            yield start, value, problems
        record += 1
        pos = window.skip_space(pos)
        sep = window.text[pos : pos + 1]
        if sep == ",":
            pos = window.skip_space(pos + 1)
            continue
        if sep == "]":
            end = window.skip_space(pos + 1)
            if end < len(window.text):
                line, column = window.where(end)
                raise FileError(f"not valid JSON: extra data after the array at line {line} column {column}")
            return
        line, column = window.where(pos)
        what = "the array is not closed" if not sep else "expecting ',' delimiter"
        raise FileError(
            f"not valid JSON: {what} at line {line} column {column}; records from {record} on were not read"
        )


def _element(
    window: _Window, decoder: RecordDecoder, record: int, pos: int
) -> tuple[Any, int, list[tuple[str, str]]] | None:
    """Parse the element at text[pos]: (value, end, problems), or None when it is over the record limit
    (then passed over, unread, and the window starts after it). Raises FileError for a syntax error.
    Sizes here count characters."""
    while True:
        try:
            value, end, problems = decoder.decode(window.text, pos)
        except json.JSONDecodeError as exc:
            if not window.eof and len(window.text) - pos <= MAX_RECORD_BYTES:
                window.more()  # the element may go on in the next chunk
                continue
            # A string still open is a long value, not a mistake (the pass-over finds its end or the end of file).
            unterminated = exc.msg.startswith("Unterminated string")
            if exc.pos - pos <= MAX_RECORD_BYTES and not (unterminated and not window.eof):
                line, column = window.where(exc.pos)
                raise _not_json(exc, line, column, record) from None
            window.drop(pos)
            _pass_over(window)
            return None
        except RecursionError:
            line, column = window.where(pos)
            raise FileError(
                f"not readable JSON: arrays or objects nested too deeply in the record at line {line} column {column}; "
                f"records from {record} on were not read"
            ) from None
        if end - pos > MAX_RECORD_BYTES:  # complete in the window but over the limit all the same
            window.drop(end)
            return None
        return value, end, problems


def _pass_over(window: _Window) -> None:
    """Move the window past the value at text[0] without keeping it (strings, nesting and escapes
    followed; the text is dropped as the scan goes)."""
    depth, in_string, pos = 0, False, 0
    while True:
        if pos >= len(window.text):
            window.drop(len(window.text))
            pos = 0
            if not window.more():
                raise FileError("not valid JSON: the file ends inside a record")
            continue
        if in_string:
            # str.find runs at memory speed (a 50 MB string is passed over in a few milliseconds).
            text = window.text
            quote = text.find('"', pos)
            backslash = text.find("\\", pos, quote if quote >= 0 else len(text))
            if backslash >= 0:
                if backslash + 1 < len(text):
                    pos = backslash + 2  # the escaped character is passed over
                else:  # the escaped character is in the next chunk: keep the backslash, read on
                    window.drop(backslash)
                    pos = 0
                    if not window.more():
                        raise FileError("not valid JSON: the file ends inside a record")
            elif quote < 0:
                pos = len(text)
            else:
                in_string, pos = False, quote + 1
                if depth == 0:  # a string element
                    window.drop(pos)
                    return
            continue
        m = _STRUCTURE.search(window.text, pos)
        if m is None:
            pos = len(window.text)
            continue
        c = m.group()
        if c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
        elif depth == 0:  # "," or "]" after a scalar element: it ends here
            window.drop(m.start())
            return
        elif c in "]}":
            depth -= 1
            if depth == 0:
                window.drop(m.end())
                return
        pos = m.end()


def line_records(chunks: Iterable[bytes], cursor: Cursor | None = None) -> Iterator[JsonItem]:
    """JSON Lines: one record per non-blank line; the record number is the line number."""
    start = cursor or Cursor()
    decoder = RecordDecoder()
    seen = start.seen
    for line in lines(chunks, offset=start.offset, number=start.line):
        if line.data is not None and not line.data.strip():
            continue
        if seen >= MAX_RECORDS:
            raise too_many_records(line.number)
        here = Cursor(line.number, line.offset, line.number, 1, seen)
        seen += 1
        if line.data is None:
            limit = size_text(MAX_RECORD_BYTES)
            reason = f"line {line.number} is {line.length:,} bytes, over the limit of {limit} per record: not read"
            yield here, None, [("", reason)]
            continue
        data = line.data.removesuffix(b"\r")
        if line.offset == 0:
            data = data.removeprefix(b"\xef\xbb\xbf")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield here, None, [("", f"line {line.number} is not UTF-8 text (invalid byte at column {exc.start + 1})")]
            continue
        try:
            value, end, problems = decoder.decode(text, _SPACE.match(text).end())  # type: ignore[union-attr]
            if text[end:].strip():
                raise json.JSONDecodeError("Extra data", text, _SPACE.match(text, end).end())  # type: ignore[union-attr]
        except json.JSONDecodeError as exc:
            yield here, None, [("", f"line {line.number} is not valid JSON: {exc.msg} at column {exc.colno}")]
            continue
        except RecursionError:
            yield (
                here,
                None,
                [("", f"line {line.number} is not readable JSON: arrays or objects are nested too deeply")],
            )
            continue
        yield here, value, problems
