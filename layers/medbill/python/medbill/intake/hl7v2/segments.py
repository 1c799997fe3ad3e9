"""An HL7 v2 file -> messages, and plain access to their fields (parsed by the `hl7` package).

Files come as interface engines write them: CR, LF or CRLF segment endings, blank lines between
messages, an optional UTF-8 byte order mark, MLLP framing bytes left in, FHS/BHS batch wrappers or
none. A message starts at each MSH; the batch envelope (FHS, BHS, BTS, FTS) is not part of any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import hl7

ENVELOPE = frozenset({"FHS", "BHS", "BTS", "FTS"})
# Segments that repeat in a DFT: their locations carry the occurrence, "FT1(2)-25".
REPEATING = frozenset({"FT1", "DG1", "PR1", "IN1", "IN2", "GT1", "NTE", "OBX", "ROL", "PRT"})
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")
MAX_SEGMENTS_PER_MESSAGE = 2000


class NotHl7(ValueError):
    """The file as a whole is not HL7 v2 (the message names the problem, never the content)."""


@dataclass
class RawMessage:
    number: int  # 1-based position in the file
    segments: list[str] = field(default_factory=list)


def split_messages(text: str) -> list[RawMessage]:
    """The file's messages, in order. Raises NotHl7 when the file does not start like HL7 v2."""
    text = text.replace("\x0b", "\r").replace("\x1c", "\r")  # MLLP start / end block
    lines = [s for s in re.split(r"\r\n|\r|\n", text) if s.strip()]
    messages: list[RawMessage] = []
    for line in lines:
        seg = line.lstrip()
        kind = seg[:3]
        if kind in ENVELOPE and (len(seg) == 3 or not seg[3].isalnum()):
            continue
        if kind == "MSH":
            messages.append(RawMessage(len(messages) + 1, [seg]))
        elif not messages:
            raise NotHl7("the file does not start with an MSH segment (or an FHS / BHS batch header)")
        else:
            messages[-1].segments.append(line)
    if not messages:
        raise NotHl7("the file has no HL7 v2 message (no MSH segment)")
    return messages


def unescape(value: str, separators: str, esc: str) -> str:
    """HL7 escape sequences (v2 section 2.7): delimiters back, formatting and highlighting dropped, \\Xhh\\
    hex decoded, anything else dropped. Ours, not `hl7.util.unescape`: that one logs the field's text
    (PHI) when a sequence is malformed."""
    names = {"F": separators[1], "R": separators[2], "S": separators[3], "T": separators[4], "E": esc}
    names |= {".br": " ", ".sp": " ", ".ce": " "}
    out: list[str] = []
    parts = value.split(esc)
    for n, part in enumerate(parts):
        if n % 2 == 0:
            out.append(part)
        elif n == len(parts) - 1:  # an escape character that is never closed: keep the text as sent
            out.append(esc + part)
        elif part in names:
            out.append(names[part])
        elif part[:1] == "X" and re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", part[1:]):
            out.append(bytes.fromhex(part[1:]).decode("latin-1"))
    return "".join(out)


def _leaf(node: Any, index: int) -> Any:
    """node[index - 1] for a container, the node itself for a leaf at index 1, else ''."""
    if isinstance(node, str):
        return node if index == 1 else ""
    return node[index - 1] if 0 < index <= len(node) else ""


class Segment:
    """One segment: `get(field, component, subcomponent, repetition)`, 1-based, '' when absent."""

    def __init__(self, seg: Any, occurrence: int) -> None:
        self._seg = seg
        self.id = str(seg[0][0]) if len(seg) and len(seg[0]) else ""
        self.occurrence = occurrence

    def get(self, f: int, c: int = 1, s: int = 1, r: int = 1) -> str:
        seg = self._seg
        if f < 1 or f >= len(seg):
            return ""
        node = _leaf(_leaf(_leaf(seg[f], r), c), s)
        while not isinstance(node, str):  # deeper than asked: first child (the HL7 compatibility rule)
            node = node[0] if len(node) else ""
        value: str = node
        if self.id == "MSH" and f in (1, 2):
            return value
        if self._seg.esc in value:
            value = unescape(value, self._seg.separators, self._seg.esc)
        return value.strip()

    def repetitions(self, f: int) -> int:
        if f < 1 or f >= len(self._seg):
            return 0
        node = self._seg[f]
        if isinstance(node, str):
            return 1 if node else 0
        # A field without a repetition separator parses as its single value (or as one repetition).
        if all(isinstance(n, str) for n in node):
            return 1 if any(node) else 0
        return len(node)

    def components(self, f: int, r: int = 1) -> list[str]:
        """The components of one repetition (subcomponents of each joined by a space)."""
        if f < 1 or f >= len(self._seg):
            return []
        rep = _leaf(self._seg[f], r)
        if isinstance(rep, str):
            return [rep.strip()]
        out = []
        for c in range(1, len(rep) + 1):
            comp = rep[c - 1]
            out.append(self.get(f, c, 1, r) if isinstance(comp, str) or len(comp) < 2 else self.joined(f, c, r))
        return out

    def joined(self, f: int, c: int = 1, r: int = 1) -> str:
        """All subcomponents of a component, joined by spaces ('1000&Hospital Lane' -> '1000 Hospital Lane')."""
        rep = _leaf(_leaf(self._seg[f], r), c) if 0 < f < len(self._seg) else ""
        if isinstance(rep, str):
            return self.get(f, c, 1, r)
        parts = [self.get(f, c, s, r) for s in range(1, len(rep) + 1)]
        return " ".join(p for p in parts if p)

    def loc(self, f: int, c: int | None = None) -> str:
        where = f"{self.id}({self.occurrence})" if self.id in REPEATING else self.id
        return f"{where}-{f}" + (f".{c}" if c else "")


class Message:
    """A parsed message: its segments by id, in order."""

    def __init__(self, raw: RawMessage) -> None:
        self.number = raw.number
        if len(raw.segments) > MAX_SEGMENTS_PER_MESSAGE:
            raise ValueError(f"the message has more than {MAX_SEGMENTS_PER_MESSAGE} segments")
        check_msh(raw.segments[0])
        parsed = hl7.parse("\r".join(raw.segments))
        counts: dict[str, int] = {}
        self.segments: list[Segment] = []
        for seg in parsed:
            sid = str(seg[0][0]) if len(seg) and len(seg[0]) else ""
            if not _SEGMENT_ID.fullmatch(sid):
                continue  # a stray line (e.g. note text broken by a line feed): not a segment
            counts[sid] = counts.get(sid, 0) + 1
            self.segments.append(Segment(seg, counts[sid]))

    def all(self, sid: str) -> list[Segment]:
        return [s for s in self.segments if s.id == sid]

    def first(self, sid: str) -> Segment | None:
        return next((s for s in self.segments if s.id == sid), None)

    @property
    def msh(self) -> Segment:
        msh = self.first("MSH")
        assert msh is not None  # a Message always starts with its MSH
        return msh


def check_msh(line: str) -> None:
    """MSH-1 and MSH-2 must be usable delimiters, or nothing after them can be read."""
    if len(line) < 8:
        raise ValueError("MSH-2: the encoding characters are missing")
    sep = line[3]
    end = line.find(sep, 4)
    chars = line[4:end] if end > 0 else line[4:]
    if sep.isalnum() or sep.isspace() or not 2 <= len(chars) <= 5:
        raise ValueError("MSH-2: the field separator (MSH-1) or the encoding characters are not valid")
    if len(set(chars + sep)) != len(chars) + 1 or any(c.isalnum() or c.isspace() for c in chars):
        raise ValueError("MSH-2: the encoding characters are not distinct delimiters")


def header_summary(raw: RawMessage) -> dict[str, str]:
    """MSH-3/4/9/10/12 read leniently from the raw MSH line (for reports and ACKs of unparseable messages)."""
    line = raw.segments[0]
    sep = line[3] if len(line) > 3 else "|"
    fields = ["MSH", sep, *line[4:].split(sep)]
    comp = fields[2][0] if len(fields) > 2 and fields[2] else "^"

    def f(n: int) -> str:
        return fields[n].strip() if n < len(fields) else ""

    return {
        "sending_application": f(3),
        "sending_facility": f(4),
        "message_type": f(9),
        "control_id": f(10).split(comp)[0],
        "processing_id": f(11).split(comp)[0],
        "version": f(12).split(comp)[0],
        "component": comp,
    }
