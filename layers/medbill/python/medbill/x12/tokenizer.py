"""X12 5010 tokenizer: delimiters from the ISA, segments streamed lazily.

The ISA is the only fixed-format segment: it names the element separator (char 4), the
repetition separator (ISA11), the component separator (ISA16) and, by the character right
after ISA16, the segment terminator. Everything after it is split on those characters.

Input may carry a UTF-8 BOM, CR/LF line breaks and indentation between segments (common in
sample files and clearinghouse exports); all of that is ignored. Several interchanges may
follow each other, each with its own delimiters.

A file must end on a segment terminator with every envelope closed: input that stops inside a
segment, or after a segment but before the IEA (and SE / GE) of what it opened, raises
:class:`X12TruncatedError` once the end is reached, so no reader takes a cut-off file for a
complete one. A body that ends its segments with something other than the terminator the ISA
declares (line breaks, typically) is named as such rather than read as one huge segment.

Error messages never quote segment content (it may be PHI): they name the segment position
and what was expected.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple, TextIO

__all__ = [
    "Delimiters",
    "Segment",
    "X12SyntaxError",
    "X12TruncatedError",
    "detect_delimiters",
    "iter_raw_batches",
    "iter_raw_segments",
    "tokenize",
]

ISA_LENGTH = 106  # fixed-length ISA including its terminator
_CHUNK = 1 << 16
_WHITESPACE = " \t\r\n\ufeff"
_ISA_MAX = 160  # generous bound: a trimmed or padded ISA is never this long
_TRACKED = frozenset({"GS", "GE", "ST", "SE"})  # followed so a truncation can say what is left open
_ENVELOPE_AFTER = r"[ \t\r\n]*(GS|ST|SE|GE|IEA)"


class X12SyntaxError(Exception):
    """The input cannot be read as X12 (not X12, truncated ISA, wrong delimiters, bad segment)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class X12TruncatedError(X12SyntaxError):
    """The input ends inside a segment, or before the trailers of the envelopes it opened."""


class Delimiters(NamedTuple):
    element: str = "*"
    repetition: str | None = "^"  # None before 00402 (ISA11 was a standards id there)
    component: str = ":"
    segment: str = "~"


class Segment:
    """One segment. ``elements[0]`` is XX01; ``position`` is the 1-based segment number in the file."""

    __slots__ = ("delimiters", "elements", "id", "position")

    def __init__(self, id: str, elements: list[str], position: int = 0, delimiters: Delimiters | None = None) -> None:
        self.id = id
        self.elements = elements
        self.position = position
        self.delimiters = delimiters

    def get(self, n: int, default: str = "") -> str:
        """Element XXnn (1-based, as the implementation guides number them); ``default`` if absent."""
        els = self.elements
        return els[n - 1] if 0 < n <= len(els) and els[n - 1] != "" else default

    __call__ = get

    def components(self, n: int) -> list[str]:
        """Components of composite element XXnn ([] if absent)."""
        value = self.get(n)
        if not value:
            return []
        sep = self.delimiters.component if self.delimiters else ":"
        return value.split(sep)

    def component(self, n: int, k: int, default: str = "") -> str:
        """Component k (1-based) of composite element XXnn."""
        comps = self.components(n)
        return comps[k - 1] if 0 < k <= len(comps) and comps[k - 1] != "" else default

    def repetitions(self, n: int) -> list[str]:
        """Repetitions of element XXnn ([] if absent; one item if no repetition separator)."""
        value = self.get(n)
        if not value:
            return []
        rep = self.delimiters.repetition if self.delimiters else None
        return value.split(rep) if rep else [value]

    def to_x12(self, delimiters: Delimiters | None = None) -> str:
        """The segment as X12 text, terminator included."""
        d = delimiters or self.delimiters or Delimiters()
        return d.element.join([self.id, *self.elements]) + d.segment

    def __len__(self) -> int:
        return len(self.elements)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return self.id == other.id and self.elements == other.elements

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # id and position only: element values may be PHI.
        return f"Segment({self.id!r}, {len(self.elements)} elements, position={self.position})"


def _looks_like_id(seg_id: str) -> bool:
    return 2 <= len(seg_id) <= 3 and seg_id.isalnum() and seg_id.isascii() and seg_id.isupper()


def _parse_isa(buf: str, position: int) -> tuple[Delimiters, int]:
    """Delimiters from the ISA at the start of ``buf``; returns them and the ISA's length.

    ``buf`` holds at least ``_ISA_MAX + 2`` characters unless the input ends sooner, so running out
    of ``buf`` means the file was cut inside its ISA.
    """
    truncated = f"truncated: the file ends inside the ISA at segment {position}"
    if len(buf) < 4 and "ISA".startswith(buf[:3]) and position > 1:
        raise X12TruncatedError(f"{truncated}.", position)
    if not buf.startswith("ISA"):
        if position <= 1:
            raise X12SyntaxError("Not X12: the input does not start with an ISA segment.", position)
        raise X12SyntaxError(f"Segment {position}: expected an ISA segment to start the next interchange.", position)
    if len(buf) < 4:
        raise X12TruncatedError(f"{truncated}.", position)
    elem = buf[3]
    if elem.isalnum() or elem in _WHITESPACE:
        raise X12SyntaxError(
            f"Wrong delimiters in the ISA at segment {position}: the element separator (4th character) "
            "must be a special character, not a letter, digit or space.",
            position,
        )
    # Find ISA16 by counting separators rather than trusting the 106-char layout, so that
    # files with trimmed ISA fields still read; the fixed layout is the common case.
    idx = 3
    for _ in range(15):
        idx = buf.find(elem, idx + 1, _ISA_MAX)
        if idx < 0 and len(buf) < _ISA_MAX:
            raise X12TruncatedError(f"{truncated}; expected 16 elements followed by a segment terminator.", position)
        if idx < 0:
            raise X12SyntaxError(
                f"Wrong delimiters in the ISA at segment {position}: expected 16 elements separated by {elem!r} "
                f"(its 4th character) within {_ISA_MAX} characters; the fixed-length ISA may be damaged.",
                position,
            )
    if idx + 2 >= len(buf):
        raise X12TruncatedError(f"{truncated}; expected a segment terminator after ISA16.", position)
    component = buf[idx + 1]
    segment = buf[idx + 2]
    fields = buf[4:idx].split(elem)
    if component.isalnum() or component == " " or component == elem:
        raise X12SyntaxError(
            f"Wrong delimiters in the ISA at segment {position}: the component separator (ISA16) must be a "
            "special character different from the element separator.",
            position,
        )
    if segment.isalnum() or segment == " " or segment in (elem, component):
        raise X12SyntaxError(
            f"Wrong delimiters in the ISA at segment {position}: the character after ISA16 must be a "
            "segment terminator different from the element and component separators.",
            position,
        )
    isa11, isa12 = fields[10], fields[11]
    repetition: str | None = None
    if len(isa11) == 1 and not isa11.isalnum() and isa11 not in (" ", elem, component, segment):
        repetition = isa11
    if not isa12.isdigit() or len(isa12) != 5:
        raise X12SyntaxError(
            f"Wrong delimiters in the ISA at segment {position}: ISA12 (version) should be 5 digits; the "
            "fixed-length ISA may be damaged.",
            position,
        )
    return Delimiters(elem, repetition, component, segment), idx + 3


def _chunks_of(source: str | TextIO | Iterable[str]) -> Iterator[str]:
    if isinstance(source, str):
        # Slice the string so memory use of the splitter stays bounded on huge inputs.
        for start in range(0, len(source), _CHUNK):
            yield source[start : start + _CHUNK]
    elif isinstance(source, io.TextIOBase) or hasattr(source, "read"):
        read = source.read  # type: ignore[union-attr]
        while True:
            chunk = read(_CHUNK)
            if not chunk:
                return
            yield chunk
    else:
        yield from source


def _find_iea(buf: str, elem: str, term: str) -> int:
    """Index where an IEA segment starts in ``buf`` (which starts at a segment boundary), or -1."""
    needle = "IEA" + elem
    k = buf.find(needle)
    while k >= 0:
        j = k - 1
        while j >= 0 and buf[j] in _WHITESPACE and buf[j] != term:  # the terminator may be a line break
            j -= 1
        if j < 0 or buf[j] == term:
            return k
        k = buf.find(needle, k + 1)
    return -1


def _bad_id_error(batch: list[list[str]], first_position: int, elem: str) -> X12SyntaxError:
    for offset, parts in enumerate(batch):
        position = first_position + offset
        if not _looks_like_id(parts[0]):
            return X12SyntaxError(
                f"Segment {position}: expected a segment identifier (2-3 capital letters or digits) "
                f"followed by the element separator {elem!r}; the delimiters may be wrong or the file damaged.",
                position,
            )
        if parts[0] == "ISA":
            return X12SyntaxError(
                f"Segment {position}: ISA found before the IEA closing the previous interchange.", position
            )
    raise AssertionError("no bad segment id in batch")  # pragma: no cover - callers checked


def _wrong_terminator(text: str, position: int, seg_id: str, delims: Delimiters, *, line_breaks_only: bool) -> None:
    """Raise when ``text`` (read as segment ``position``) holds what looks like the end of a segment
    followed by an envelope segment: the body ends its segments with something the ISA did not declare.
    """
    elem, term = delims.element, delims.segment
    if line_breaks_only:
        if "\n" not in text and "\r" not in text:
            return
        ender = "(\r\n|\r|\n)"
    else:
        reserved = re.escape("".join(c for c in delims if c))
        ender = f"(\r\n|\r|\n|[^\\w\\s{reserved}])"
    matches = list(re.finditer(ender + _ENVELOPE_AFTER + re.escape(elem), text))
    if not matches:
        return
    found, next_id = matches[0].group(1), matches[0].group(2)
    if found not in "\r\n" and sum(m.group(1) == found for m in matches) < 2:
        return  # one odd character before an id-like word is as likely data as a terminator
    what = "line breaks" if found in "\r\n" else repr(found)
    raise X12SyntaxError(
        f"Segment {position} ({seg_id}): expected the segment terminator {term!r} that the ISA declares (the "
        f"character after ISA16), but found {what} and then an {next_id} segment; the file seems to end its "
        f"segments with {what}, not {term!r}.",
        position,
    )


def _complete_iea(parts: list[str], isa13: str) -> bool:
    iea02 = parts[2] if len(parts) == 3 else ""
    if parts[0] != "IEA" or not (iea02.isascii() and iea02.isdigit() and isa13.isascii() and isa13.isdigit()):
        return False
    return (iea02.lstrip("0") or "0") == (isa13.lstrip("0") or "0")  # no int(): it refuses 4300+ digits


def _id_shown(tail: str, elem: str) -> str:
    head = tail.split(elem, 1)[0]
    if re.fullmatch("[A-Z0-9]{1,3}", head) is None:
        return "no segment id"
    return head if elem in tail else repr(head)  # a complete id, or the part of one that is there


def _truncated_inside(position: int, tail: str, delims: Delimiters) -> X12TruncatedError:
    return X12TruncatedError(
        f"truncated: the file ends inside segment {position} ({_id_shown(tail, delims.element)}), with no "
        f"segment terminator {delims.segment!r} after it.",
        position,
    )


def _truncated_after(position: int, last_id: str, isa: int, gs: int, st: int, st02: str) -> X12TruncatedError:
    expected = (["SE"] if st else []) + (["GE"] if gs else []) + ["IEA"]
    if st:
        name = f"ST {st02}" if st02.isalnum() and len(st02) <= 9 else "ST"
        inside = f"inside an open {name} (segment {st})"
    elif gs:
        inside = f"inside the functional group opened by the GS at segment {gs}"
    else:
        inside = f"inside the interchange opened by the ISA at segment {isa}"
    wanted = expected[0] if len(expected) == 1 else ", ".join(expected[:-1]) + " and " + expected[-1]
    return X12TruncatedError(
        f"truncated: the file ends after segment {position} ({last_id}) {inside}; expected {wanted}.", position
    )


def _check_ids(batch: list[list[str]], new_ids: set[str], first_position: int, elem: str) -> None:
    """Segment ids not seen before must look like ids (else the delimiters are wrong); an ISA must be alone."""
    if "ISA" in new_ids or not all(_looks_like_id(i) for i in new_ids):
        raise _bad_id_error(batch, first_position, elem)


def _track_open(
    batch: list[list[str]], first_position: int, open_gs: int, open_st: int, st02: str
) -> tuple[int, int, str]:
    """The GS and ST still open after `batch` (their positions, 0 when closed) and the open ST's ST02,
    so that a truncated file can say what it ends inside."""
    for at, parts in enumerate(batch, first_position):
        sid = parts[0]
        if sid == "ST":
            open_st, st02 = at, parts[2] if len(parts) > 2 else ""
        elif sid == "SE":
            open_st = 0
        elif sid == "GS":
            open_gs = at
        elif sid == "GE":
            open_gs = open_st = 0
    return open_gs, open_st, st02


def _cut_off(
    tail: str, position: int, delims: Delimiters, last_id: str, isa: int, gs: int, st: int, st02: str
) -> X12SyntaxError:
    """The error for input that ends before its IEA: inside a segment (`tail`), or after segment `position`."""
    if tail:
        _wrong_terminator(tail, position + 1, _id_shown(tail, delims.element), delims, line_breaks_only=False)
        return _truncated_inside(position + 1, tail, delims)
    return _truncated_after(position, last_id, isa, gs, st, st02)


def _read_isa_ahead(buf: str, chunks: Iterator[str], exhausted: bool) -> tuple[str, bool]:
    """Enough input for a whole ISA (or all that is left), leading whitespace dropped; and whether the
    input is exhausted."""
    buf = buf.lstrip(_WHITESPACE)  # stripped as it grows: megabytes of blank lines stay linear
    while not exhausted and len(buf) < _ISA_MAX + 2:
        nxt = next(chunks, None)
        if nxt is None:
            exhausted = True
        else:
            buf = (buf + nxt).lstrip(_WHITESPACE)
    return buf, exhausted


def iter_raw_batches(source: str | TextIO | Iterable[str]) -> Iterator[tuple[list[list[str]], Delimiters]]:
    """Fastest path: yields ``(batch, delimiters)``; a batch is a list of segments in file order,
    each segment a list whose item 0 is the segment id and item n is element XXnn.

    Positions are implicit (segments are numbered 1, 2, ... across batches). Splitting and the
    segment-id check run per chunk of input (C-level ``str`` methods and set operations), not per
    segment, which is what makes the 835 reader fast. Each interchange's ISA comes as a batch of
    its own, and a batch never crosses an IEA (the next interchange may use other delimiters).
    Raises :class:`X12TruncatedError` at the end of a cut-off input (after yielding what is there).
    """
    chunks = _chunks_of(source)
    buf = ""
    position = 0  # segments yielded so far
    exhausted = False
    first = True
    known: set[str] = set()  # segment ids already checked
    while True:
        # --- find and parse the next ISA ---
        buf, exhausted = _read_isa_ahead(buf, chunks, exhausted)
        if not buf:
            if first:
                raise X12SyntaxError("Not X12: the input is empty.", 1)
            return
        first = False
        delims, isa_len = _parse_isa(buf, position + 1)
        elem, term = delims.element, delims.segment
        position += 1
        isa_position = position
        open_gs = open_st = 0  # positions of the GS / ST not closed yet
        st02 = ""
        last_id = "ISA"
        isa_parts = buf[: isa_len - 1].split(elem)
        isa13 = isa_parts[13].strip() if len(isa_parts) > 13 else ""
        yield [isa_parts], delims
        buf = buf[isa_len:]
        # --- split the rest of this interchange, a chunk at a time ---
        while True:
            iea = _find_iea(buf, elem, term)
            end_of_interchange = False
            cut = -1
            if iea >= 0:
                cut = buf.find(term, iea)
                end_of_interchange = cut >= 0
            if cut < 0 and (iea < 0 or exhausted):
                cut = buf.rfind(term)  # complete segments only; an unfinished IEA waits for more input
            if cut >= 0:
                batch = [q.split(elem) for piece in buf[:cut].split(term) if (q := piece.strip(_WHITESPACE))]
                buf = buf[cut + 1 :]
                if batch:
                    if last_id == "ISA":
                        # The first segment after the ISA swallows the rest when the terminator is wrong.
                        _wrong_terminator(elem.join(batch[0]), position + 1, batch[0][0], delims, line_breaks_only=True)
                    ids = {parts[0] for parts in batch}
                    if not ids <= known:
                        _check_ids(batch, ids - known, position + 1, elem)
                        known |= ids
                    if not ids.isdisjoint(_TRACKED):
                        open_gs, open_st, st02 = _track_open(batch, position + 1, open_gs, open_st, st02)
                    position += len(batch)
                    last_id = batch[-1][0]
                    yield batch, delims
                if end_of_interchange:
                    break  # re-detect delimiters from the next ISA
            if exhausted:
                tail = buf.strip(_WHITESPACE)
                if not (tail and term in _WHITESPACE and _complete_iea(tail.split(elem), isa13)):
                    raise _cut_off(tail, position, delims, last_id, isa_position, open_gs, open_st, st02)
                # A line-break terminator is easily lost at the end of a file (editors, rstrip); an IEA
                # that names this interchange's ISA13 shows nothing was cut off.
                yield [tail.split(elem)], delims
                return
            buf, exhausted = _read_to_terminator(buf, chunks, term)


def _read_to_terminator(buf: str, chunks: Iterator[str], term: str) -> tuple[str, bool]:
    """``buf`` with more input: up to and including the next chunk that holds a segment terminator
    (or all that is left); and whether the input is exhausted.

    Chunks with no terminator are held in a list and joined once, so a segment of any size is copied
    and searched a constant number of times (appending each chunk to ``buf`` and searching it again
    made one 60 MB segment quadratic: 90 s). An IEA ends on a terminator too, so no search can
    succeed before one arrives."""
    held = [buf]
    while True:
        nxt = next(chunks, None)
        if nxt is None:
            return "".join(held), True
        held.append(nxt)
        if term in nxt:
            return "".join(held), False


def iter_raw_segments(source: str | TextIO | Iterable[str]) -> Iterator[tuple[list[str], Delimiters]]:
    """Yields ``(parts, delimiters)`` per segment, ``parts[0]`` being the segment id."""
    for batch, delims in iter_raw_batches(source):
        for parts in batch:
            yield parts, delims


def tokenize(source: str | TextIO | Iterable[str]) -> Iterator[Segment]:
    """Stream the segments of X12 text (a string, a text file, or an iterable of text chunks).

    Raises :class:`X12SyntaxError` (lazily, when the bad part is reached) on input that is not
    X12, a truncated ISA, or delimiters that do not split the file into segments.
    """
    position = 0
    for batch, delims in iter_raw_batches(source):
        for parts in batch:
            position += 1
            yield Segment(parts[0], parts[1:], position, delims)


def detect_delimiters(text: str) -> Delimiters:
    """Delimiters of the first interchange in ``text``."""
    buf = text.lstrip(_WHITESPACE)
    return _parse_isa(buf, 1)[0]
