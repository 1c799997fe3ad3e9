"""Streaming 271 (and 270) reader, 005010X279A1, in the style of the 835 reader.

    reader = EligibilityReader(open(path))
    for response in reader.responses():              # one per ST..SE
        for answer in response.iter_subscribers():   # each subscriber (with dependents) once complete
            ...
        response.problems                            # final once its subscribers are exhausted
    reader.problems                                  # envelope problems outside any transaction

Only the subscriber being read is held (sources and receivers are few), so memory does not grow with
a batch. :func:`parse_271` materializes everything for small files; :func:`read_270` reads an
inquiry the same way (EQ instead of EB), for the payer simulator.

Problems are *reported*, never raised: the HL hierarchy (parents, levels, HL04 child codes), the NM1
each level needs, codes checked against :mod:`~medbill.x12.eligibility.codes` per loop (AAA03 reject
reasons differ by loop), numbers strictly X12, D8/RD8 dates, LS/LE pairs, segments a 271 does not
have. Each problem names the segment, its position and the element (e.g. ``EB at segment 17: EB07
...``) and quotes a value only when it is a known code or a harmless number: never a name, birth
date, member id, address or MSG text. Unreadable input raises :class:`X12SyntaxError` (tokenizer).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from medbill.x12.eligibility import codes as c
from medbill.x12.eligibility.loops import Transaction
from medbill.x12.eligibility.models import EligibilityResponse
from medbill.x12.envelope import ENVELOPE_IDS, EnvelopeChecker
from medbill.x12.tokenizer import iter_raw_segments

__all__ = ["EligibilityReader", "parse_270", "parse_271", "read_270", "read_271"]

Source = str | TextIO | Iterable[str]


def _el(parts: list[str], n: int) -> str:
    return parts[n] if n < len(parts) else ""


class EligibilityReader:
    """Streaming reader over a string, text file or iterable of chunks; ``problems`` collects the
    envelope problems outside any transaction (complete once :meth:`responses` is exhausted)."""

    def __init__(self, source: Source, set_id: str = "271") -> None:
        self._source = source
        self.set_id = set_id
        self.checker = EnvelopeChecker()
        self.problems: list[str] = []

    def responses(self) -> Iterator[EligibilityResponse]:
        events = self._events()
        for kind, obj in events:
            if kind == "response":
                obj._stream = events
                yield obj
                obj.drain()

    def _start(self, parts: list[str], position: int) -> EligibilityResponse | None:
        set_id = _el(parts, 1)
        if set_id != self.set_id:
            shown = set_id if set_id.isascii() and set_id.isalnum() and len(set_id) <= 6 else "(unreadable)"
            self.problems.append(f"ST at segment {position}: transaction set {shown} is not a {self.set_id}; skipped.")
            return None
        gs = self.checker._gs
        resp = EligibilityResponse(set_id, _el(parts, 2), _el(parts, 3) or (gs.version if gs else ""))
        resp.position = position
        if resp.version != c.IMPLEMENTATION_GUIDE:
            resp.problems.append(
                f"ST at segment {position}: implementation guide {c.code_shown(resp.version)} is not "
                f"{c.IMPLEMENTATION_GUIDE}."
            )
        return resp

    def _events(self) -> Iterator[tuple[str, Any]]:
        checker = self.checker
        tx: Transaction | None = None
        position = 0
        for position, (parts, delims) in enumerate(iter_raw_segments(self._source), 1):
            sid = parts[0]
            if sid not in ENVELOPE_IDS:
                if tx is not None:
                    tx.feed(sid, parts, position)
                    yield from (("subscriber", s) for s in tx.done)
                    tx.done.clear()
                elif not checker.in_transaction:
                    checker.outside(sid, position)
                continue
            if tx is not None and sid != "SE":
                tx.finish()  # an ST, GE or IEA before the SE: the checker reports the missing SE
                yield from (("subscriber", s) for s in tx.done)
                yield "end", tx.resp
                tx = None
            if sid == "SE" and tx is not None:
                tx.finish()
                yield from (("subscriber", s) for s in tx.done)
                known = len(checker.problems)
                checker.feed(parts, position, delims)
                tx.resp.problems.extend(checker.problems[known:])
                del checker.problems[known:]
                yield "end", tx.resp
                tx = None
                continue
            checker.feed(parts, position, delims)
            if sid == "ST" and (resp := self._start(parts, position)) is not None:
                tx = Transaction(resp, delims.component, delims.repetition)
                yield "response", resp
        if tx is not None:
            tx.finish()
            yield from (("subscriber", s) for s in tx.done)
            yield "end", tx.resp
        checker.finish(position)
        self.problems.extend(checker.problems)
        checker.problems.clear()


def read_271(source: Source) -> Iterator[EligibilityResponse]:
    """Stream the responses (transactions) of a 271; see :class:`EligibilityReader`."""
    return EligibilityReader(source, "271").responses()


def read_270(source: Source) -> Iterator[EligibilityResponse]:
    """Stream the inquiries of a 270 (members carry ``inquiries``, the EQ01 codes asked)."""
    return EligibilityReader(source, "270").responses()


def _parse(source: Source, set_id: str) -> tuple[list[EligibilityResponse], list[str]]:
    reader = EligibilityReader(source, set_id)
    out = []
    for resp in reader.responses():
        resp.subscribers = list(resp.iter_subscribers())
        out.append(resp)
    return out, reader.problems


def parse_271(source: Source) -> tuple[list[EligibilityResponse], list[str]]:
    """A (small) 271 read completely: (responses with ``subscribers`` filled in, envelope problems)."""
    return _parse(source, "271")


def parse_270(source: Source) -> tuple[list[EligibilityResponse], list[str]]:
    return _parse(source, "270")
