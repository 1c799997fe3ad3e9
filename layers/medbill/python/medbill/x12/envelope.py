"""X12 envelopes: interchanges (ISA/IEA) -> functional groups (GS/GE) -> transactions (ST/SE).

Envelope problems (control numbers that do not match, wrong counts, missing trailers, segments
outside a transaction) are *reported* as strings naming the segment position, never raised:
a file with a wrong GE01 is still readable and a billing office wants to see its content.
Only unreadable input raises (:class:`~medbill.x12.tokenizer.X12SyntaxError`).

:class:`EnvelopeChecker` is the single implementation of the checks; it is fed envelope
segments only (segment counts come from positions), so readers that stream millions of
segments pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from medbill.x12.tokenizer import Delimiters, Segment, iter_raw_batches, iter_raw_segments

__all__ = [
    "ENVELOPE_IDS",
    "EnvelopeChecker",
    "EnvelopeReader",
    "FunctionalGroup",
    "Interchange",
    "Transaction",
    "check_envelopes",
    "iter_transactions",
]

ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


def _el(parts: list[str], i: int) -> str:
    return parts[i].strip() if i < len(parts) else ""


def _same_number(a: str, b: str) -> bool:
    """Control numbers compare as numbers when both are digits (ISA13 is zero-padded, IEA02 may not be)."""
    if _ascii_digits(a) and _ascii_digits(b):
        return (a.lstrip("0") or "0") == (b.lstrip("0") or "0")  # no int(): it refuses 4300+ digits
    return a == b


def _ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


@dataclass(slots=True)
class TransactionHeader:
    set_id: str  # ST01, e.g. "835"
    control_number: str  # ST02
    implementation: str  # ST03 (may be empty)
    position: int  # of the ST segment
    segment_count: int = 0  # counted ST..SE, once SE is seen


@dataclass(slots=True)
class FunctionalGroup:
    functional_id: str  # GS01, e.g. "HP"
    sender: str  # GS02
    receiver: str  # GS03
    date: str  # GS04
    control_number: str  # GS06
    version: str  # GS08, e.g. "005010X221A1"
    position: int
    transactions: list[TransactionHeader] = field(default_factory=list)


@dataclass(slots=True)
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str  # ISA09 YYMMDD
    time: str  # ISA10
    version: str  # ISA12
    control_number: str  # ISA13
    usage: str  # ISA15 P/T
    delimiters: Delimiters
    position: int
    groups: list[FunctionalGroup] = field(default_factory=list)


class EnvelopeChecker:
    """Tracks the envelope nesting and reports problems; feed it every envelope segment.

    Call :meth:`outside` for a non-envelope segment only when it is not inside a transaction
    (``in_transaction`` says so), and :meth:`finish` at end of input.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.interchanges: list[Interchange] = []
        self._isa: Interchange | None = None
        self._gs: FunctionalGroup | None = None
        self._st: TransactionHeader | None = None
        self.in_transaction = False

    def feed(self, parts: list[str], position: int, delimiters: Delimiters | None = None) -> None:
        """``parts[0]`` is the segment id (as from :func:`~medbill.x12.tokenizer.iter_raw_segments`)."""
        seg_id = parts[0]
        if seg_id == "ISA":
            self._isa_segment(parts, position, delimiters)
        elif seg_id == "GS":
            self._gs_segment(parts, position)
        elif seg_id == "ST":
            self._st_segment(parts, position)
        elif seg_id == "SE":
            self._se_segment(parts, position)
        elif seg_id == "GE":
            self._ge_segment(parts, position)
        elif seg_id == "IEA":
            self._iea_segment(parts, position)
        else:
            self.outside(seg_id, position)

    def _isa_segment(self, parts: list[str], position: int, delimiters: Delimiters | None) -> None:
        if self._isa is not None:
            self.problems.append(
                f"ISA at segment {position}: the interchange opened at segment {self._isa.position} has no IEA."
            )
            self._close_all()
        self._isa = Interchange(
            _el(parts, 5),
            _el(parts, 6),
            _el(parts, 7),
            _el(parts, 8),
            _el(parts, 9),
            _el(parts, 10),
            _el(parts, 12),
            _el(parts, 13),
            _el(parts, 15),
            delimiters or Delimiters(),
            position,
        )
        self.interchanges.append(self._isa)

    def _gs_segment(self, parts: list[str], position: int) -> None:
        p = self.problems.append
        if self._isa is None:
            p(f"GS at segment {position}: functional group outside an interchange (no ISA before it).")
        if self._gs is not None:
            p(f"GS at segment {position}: the group opened at segment {self._gs.position} has no GE.")
            self._close_group()
        self._gs = FunctionalGroup(
            _el(parts, 1), _el(parts, 2), _el(parts, 3), _el(parts, 4), _el(parts, 6), _el(parts, 8), position
        )
        if self._isa is not None:
            self._isa.groups.append(self._gs)

    def _st_segment(self, parts: list[str], position: int) -> None:
        p = self.problems.append
        if self._gs is None:
            p(f"ST at segment {position}: transaction outside a functional group (no GS before it).")
        if self._st is not None:
            p(f"ST at segment {position}: the transaction opened at segment {self._st.position} has no SE.")
        self._st = TransactionHeader(_el(parts, 1), _el(parts, 2), _el(parts, 3), position)
        self.in_transaction = True
        if self._gs is not None:
            self._gs.transactions.append(self._st)

    def _se_segment(self, parts: list[str], position: int) -> None:
        p = self.problems.append
        st = self._st
        if st is None:
            p(f"SE at segment {position}: no ST opened this transaction.")
            return
        count = position - st.position + 1
        st.segment_count = count
        se01, se02 = _el(parts, 1), _el(parts, 2)
        if se01 != str(count):
            p(
                f"SE at segment {position}: SE01 says {se01 or '(empty)'} segments but the transaction "
                f"ST..SE (segments {st.position}-{position}) has {count}."
            )
        if se02 != st.control_number:
            p(
                f"SE at segment {position}: SE02 control number {se02 or '(empty)'} does not match ST02 "
                f"{st.control_number or '(empty)'} at segment {st.position}."
            )
        self._st = None
        self.in_transaction = False

    def _ge_segment(self, parts: list[str], position: int) -> None:
        p = self.problems.append
        gs = self._gs
        if self._st is not None:
            p(f"GE at segment {position}: the transaction opened at segment {self._st.position} has no SE.")
            self._st = None
            self.in_transaction = False
        if gs is None:
            p(f"GE at segment {position}: no GS opened this functional group.")
            return
        ge01, ge02 = _el(parts, 1), _el(parts, 2)
        n = len(gs.transactions)
        if ge01 != str(n):
            p(
                f"GE at segment {position}: GE01 says {ge01 or '(empty)'} transactions but the group "
                f"opened at segment {gs.position} has {n} ST."
            )
        if not _same_number(ge02, gs.control_number):
            p(
                f"GE at segment {position}: GE02 control number {ge02 or '(empty)'} does not match GS06 "
                f"{gs.control_number or '(empty)'} at segment {gs.position}."
            )
        self._gs = None

    def _iea_segment(self, parts: list[str], position: int) -> None:
        p = self.problems.append
        isa = self._isa
        if self._gs is not None:
            p(f"IEA at segment {position}: the group opened at segment {self._gs.position} has no GE.")
            self._close_group()
        if isa is None:
            p(f"IEA at segment {position}: no ISA opened this interchange.")
            return
        iea01, iea02 = _el(parts, 1), _el(parts, 2)
        n = len(isa.groups)
        if not _same_number(iea01, str(n)):
            p(
                f"IEA at segment {position}: IEA01 says {iea01 or '(empty)'} groups but the interchange "
                f"opened at segment {isa.position} has {n} GS."
            )
        if not _same_number(iea02, isa.control_number):
            p(
                f"IEA at segment {position}: IEA02 control number {iea02 or '(empty)'} does not match "
                f"ISA13 "
                f"{isa.control_number or '(empty)'} at segment {isa.position}."
            )
        self._isa = None

    def outside(self, seg_id: str, position: int) -> None:
        if not self.in_transaction:
            self.problems.append(f"{seg_id} at segment {position}: segment outside a transaction (no ST before it).")

    def _close_group(self) -> None:
        self._st = None
        self.in_transaction = False
        self._gs = None

    def _close_all(self) -> None:
        self._close_group()
        self._isa = None

    def finish(self, last_position: int) -> None:
        """End of input: anything still open is missing its trailer."""
        p = self.problems.append
        if self._st is not None:
            p(
                f"End of input after segment {last_position}: the transaction opened at segment "
                f"{self._st.position} has no SE."
            )
        if self._gs is not None:
            p(f"End of input after segment {last_position}: the group opened at segment {self._gs.position} has no GE.")
        if self._isa is not None:
            p(
                f"End of input after segment {last_position}: the interchange opened at segment "
                f"{self._isa.position} has no IEA."
            )
        self._close_all()


@dataclass(slots=True)
class Transaction:
    """One ST..SE transaction with its segments and the envelope around it."""

    header: TransactionHeader
    group: FunctionalGroup | None
    interchange: Interchange | None
    segments: list[Segment]

    @property
    def set_id(self) -> str:
        return self.header.set_id

    @property
    def version(self) -> str:
        """The implementation guide: ST03 when present, else GS08."""
        return self.header.implementation or (self.group.version if self.group else "")


def _segment_batches(source: str | TextIO | Iterable[str]) -> Iterator[list[Segment]]:
    """`tokenize`, a batch at a time: Segments built in one comprehension per chunk of input."""
    position = 0
    for batch, delimiters in iter_raw_batches(source):
        if batch:
            yield [Segment(parts[0], parts[1:], n, delimiters) for n, parts in enumerate(batch, position + 1)]
            position += len(batch)


class EnvelopeReader:
    """Streams the transactions of a file; envelope problems accumulate in ``problems``.

    ``problems`` and ``interchanges`` are complete once :meth:`transactions` is exhausted.
    """

    def __init__(self, source: str | TextIO | Iterable[str]) -> None:
        self._source = source
        self.checker = EnvelopeChecker()

    @property
    def problems(self) -> list[str]:
        return self.checker.problems

    @property
    def interchanges(self) -> list[Interchange]:
        return self.checker.interchanges

    def transactions(self) -> Iterator[Transaction]:
        checker = self.checker
        current: list[Segment] | None = None
        header: TransactionHeader | None = None
        group: FunctionalGroup | None = None
        isa: Interchange | None = None
        last = 0
        for segments in _segment_batches(self._source):
            last = segments[-1].position
            if current is not None and ENVELOPE_IDS.isdisjoint([seg.id for seg in segments]):
                current.extend(segments)  # the bulk of a file: a batch inside one transaction
                continue
            for seg in segments:
                seg_id = seg.id
                if seg_id in ENVELOPE_IDS:
                    parts = [seg_id, *seg.elements]
                    if seg_id == "ST" and current is not None and header is not None:
                        # previous transaction never closed: hand out what we have
                        yield Transaction(header, group, isa, current)
                    checker.feed(parts, seg.position, seg.delimiters)
                    if seg_id == "ISA":
                        isa = checker.interchanges[-1]
                    elif seg_id == "GS":
                        group = checker._gs
                    elif seg_id == "ST":
                        header = checker._st
                        current = [seg]
                    elif seg_id == "SE" and current is not None and header is not None:
                        current.append(seg)
                        yield Transaction(header, group, isa, current)
                        current = None
                    elif seg_id in ("GE", "IEA") and current is not None and header is not None:
                        yield Transaction(header, group, isa, current)
                        current = None
                elif current is not None:
                    current.append(seg)
                else:
                    checker.outside(seg_id, seg.position)
        if current is not None and header is not None:
            yield Transaction(header, group, isa, current)
        checker.finish(last)


def iter_transactions(source: str | TextIO | Iterable[str]) -> Iterator[Transaction]:
    """Every transaction of every group of every interchange, in file order (problems not returned)."""
    return EnvelopeReader(source).transactions()


def check_envelopes(source: str | TextIO | Iterable[str]) -> tuple[list[Interchange], list[str]]:
    """Read the whole input for its envelope structure only: (interchanges, problems)."""
    checker = EnvelopeChecker()
    position = 0
    for position, (parts, delims) in enumerate(iter_raw_segments(source), 1):
        if parts[0] in ENVELOPE_IDS:
            checker.feed(parts, position, delims)
        elif not checker.in_transaction:
            checker.outside(parts[0], position)
    checker.finish(position)
    return checker.interchanges, checker.problems
