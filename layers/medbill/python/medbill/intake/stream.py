"""Reading an encounter file as a stream of bytes: bounded lines, and where a reader stands.

A reader holds one chunk of the file plus at most one record (limits.MAX_RECORD_BYTES); a longer
line is skipped by looking for its end, never kept. A `Cursor` says where a record starts, so a
continuation reads on from there instead of from the top of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from medbill.intake.limits import MAX_RECORD_BYTES

# Opens the file at a byte offset and yields its bytes from there, in chunks of any size.
Opener = Callable[[int], Iterable[bytes]]


class FileError(Exception):
    """The file as a whole (or from some record on) cannot be read. Names the problem, never content."""


@dataclass(frozen=True)
class Cursor:
    """Where a record starts: its number (as the report counts records), its byte offset, and its line
    and column (1-based) for messages about the text there."""

    record: int = 1
    offset: int = 0
    line: int = 1
    column: int = 1
    seen: int = 0  # records before this one (the per-file limit counts records, not lines or rows)

    def to_dict(self) -> dict[str, int]:
        return {
            "record": self.record,
            "offset": self.offset,
            "line": self.line,
            "column": self.column,
            "seen": self.seen,
        }


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line number in the file
    offset: int  # byte offset of the line's first byte
    data: bytes | None  # the line without its line feed; None: longer than the limit (skipped, not kept)
    length: int  # bytes, without the line feed

    @property
    def end(self) -> int:
        """The offset just after the line feed (where the next line starts)."""
        return self.offset + self.length + 1


def lines(
    chunks: Iterable[bytes], *, offset: int = 0, number: int = 1, limit: int = MAX_RECORD_BYTES
) -> Iterator[Line]:
    """The lines of `chunks` (which start at byte `offset`, on line `number`), split at line feeds only.
    A line longer than `limit` comes back with data None: its bytes are passed over, never held."""
    buf = bytearray()
    pos = offset  # file offset of buf[0]
    skip_from: int | None = None  # offset of an over-long line being passed over
    for chunk in chunks:
        if not chunk:
            continue
        if skip_from is not None:
            i = chunk.find(b"\n")
            if i < 0:
                pos += len(chunk)
                continue
            yield Line(number, skip_from, None, pos + i - skip_from)
            number += 1
            pos += i + 1
            chunk = chunk[i + 1 :]
            skip_from = None
        buf += chunk
        begin = 0
        while (i := buf.find(b"\n", begin)) >= 0:
            data = bytes(buf[begin:i]) if i - begin <= limit else None
            yield Line(number, pos + begin, data, i - begin)
            number += 1
            begin = i + 1
        del buf[:begin]
        pos += begin
        if len(buf) > limit:  # no line feed within the limit: pass over the rest of this line
            skip_from = pos
            pos += len(buf)
            buf.clear()
    if skip_from is not None:
        yield Line(number, skip_from, None, pos - skip_from)
    elif buf:
        yield Line(number, pos, bytes(buf), len(buf))


def chunked(body: bytes, size: int) -> Iterator[bytes]:
    """A whole file in memory as a stream of chunks (tests, and files read whole)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def opener_of(body: bytes, size: int = 1024 * 1024) -> Opener:
    return lambda offset: chunked(body[offset:], size)
