"""Writing X12 segments: the one place that knows the separators and refuses data that would corrupt a file.

Every writer (837P, 835, 999, 277CA) builds its document with `SegmentBuffer` and the default
delimiters below; `medbill.x12.interchange` writes the ISA/GS ... GE/IEA around it. `serialize` turns
segments read by the tokenizer back into text (used to prove that reading and writing round-trip).

Data is never escaped: X12 has no escape mechanism, so a value holding a separator (or, for the
writers of our own claims and acknowledgements, a character outside the X12 extended character set)
is refused with `X12DataError`, whose message names ids and element positions only, never the value
(it may be PHI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Protocol

from medbill.models.text import is_clean_text
from medbill.x12.tokenizer import Delimiters


class X12DataError(ValueError):
    """A value that cannot be written into an X12 document without corrupting it."""


def is_clean(value: str, delimiters: Delimiters) -> bool:
    """True when `value` can be written as one simple element or component as it is."""
    return is_clean_text(value, "".join(c for c in delimiters if c))


DEFAULT_DELIMITERS = Delimiters("*", "^", ":", "~")

# An element is a simple value, or a composite given as its components (trailing empties dropped).
Element = str | Sequence[str] | None


class SegmentBuffer:
    """Segments of one document under construction, checked as they are added.

    `context` prefixes error messages (e.g. "claim CLM123") so a refusal says which record failed.
    `x12_charset=False` refuses only the separators: the 835 writer carries what a payer sent (or a
    caller built) as it is, where our own claims and acknowledgements keep to the X12 character set.
    """

    def __init__(self, delimiters: Delimiters = DEFAULT_DELIMITERS, *, x12_charset: bool = True) -> None:
        self.delimiters = delimiters
        self.segments: list[str] = []
        self.context = ""
        self.x12_charset = x12_charset
        separators = "".join(c for c in delimiters if c)
        # Bound once: this check runs for every element of every segment written.
        self._clean: Callable[[str], bool] = (
            partial(is_clean_text, separators=separators) if x12_charset else frozenset(separators).isdisjoint
        )

    def __len__(self) -> int:
        return len(self.segments)

    def add(self, seg_id: str, *elements: Element) -> None:
        """Append one segment; elements are numbered from 1 (XX01). Trailing empty elements are dropped."""
        clean = self._clean
        parts = [seg_id]
        for pos, element in enumerate(elements, start=1):
            if element is None:
                parts.append("")
            elif isinstance(element, str):
                if element and not clean(element):
                    raise self._refusal(seg_id, pos, None)
                parts.append(element)
            else:
                comps = [c or "" for c in element]
                while comps and not comps[-1]:
                    comps.pop()
                for i, comp in enumerate(comps, start=1):
                    if comp and not clean(comp):
                        raise self._refusal(seg_id, pos, i)
                parts.append(self.delimiters.component.join(comps))
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        self.segments.append(self.delimiters.element.join(parts))

    def check(self, value: str, seg_id: str, pos: int) -> None:
        """Refuse `value` as element `pos` of `seg_id` as `add` would (for values joined by hand, such
        as repetitions, which `add` does not write)."""
        if value and not self._clean(value):
            raise self._refusal(seg_id, pos, None)

    def add_raw(self, text: str) -> None:
        """Append a segment already in X12 form (the ISA, whose fields hold the separators themselves)."""
        self.segments.append(text)

    def error(self, message: str) -> X12DataError:
        """An X12DataError naming the record being written (`context`)."""
        return X12DataError(f"{self.context}: {message}" if self.context else message)

    def _refusal(self, seg_id: str, pos: int, comp: int | None) -> X12DataError:
        if not self.x12_charset:
            if comp is None:
                return self.error(f"{seg_id}{pos:02d} contains a delimiter character; it cannot be written.")
            return self.error(f"{seg_id}{pos:02d}: a component contains a delimiter; it cannot be written.")
        where = f"{seg_id}{pos:02d}" + (f"-{comp}" if comp is not None else "")
        return self.error(
            f"{where} holds an X12 separator or a character outside the X12 character set; "
            "fix the source data (values are never escaped)"
        )

    def text(self, *, line_breaks: bool = True) -> str:
        # A terminator that is itself a line break gets no second one.
        end = self.delimiters.segment + ("\n" if line_breaks and self.delimiters.segment not in "\r\n" else "")
        return end.join(self.segments) + end


class SegmentLike(Protocol):
    """What the tokenizer yields: `id` and `elements` (elements[0] is XX01)."""

    @property
    def id(self) -> str: ...

    @property
    def elements(self) -> Sequence[object]: ...


def _element_text(value: object, sep: Delimiters) -> str:
    # The tokenizer hands back raw element text; a composite given as its components is joined.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, Sequence):
        return sep.component.join(_element_text(v, sep) for v in value)
    return str(value)


def serialize_segment(segment: SegmentLike, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """One segment as X12 text without its terminator. Refuses a value holding the element separator
    or the segment terminator (it would split the segment); the ISA is written as it is."""
    texts = [_element_text(e, delimiters) for e in segment.elements]
    if segment.id != "ISA":
        for pos, value in enumerate(texts, start=1):
            if delimiters.element in value or delimiters.segment in value:
                raise X12DataError(f"{segment.id}{pos:02d} holds the element separator or segment terminator")
    return delimiters.element.join([segment.id, *texts])


def serialize(
    segments: Iterable[SegmentLike], delimiters: Delimiters = DEFAULT_DELIMITERS, *, line_breaks: bool = True
) -> str:
    """Segments (e.g. from the tokenizer) back into an X12 document."""
    # A terminator that is itself a line break gets no second one.
    end = delimiters.segment + ("\n" if line_breaks and delimiters.segment not in "\r\n" else "")
    return "".join(serialize_segment(s, delimiters) + end for s in segments)
