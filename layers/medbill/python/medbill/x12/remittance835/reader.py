"""Reading an 835 as a stream, claim by claim::

    reader = RemittanceReader(open(path))
    for payment in reader.payments():          # header (BPR, TRN, payer, payee) is filled in
        for claim in payment.iter_claims():    # each claim payment as soon as it is complete
            ...
        payment.balanced, payment.problems     # final once its claims are exhausted
    reader.problems                            # envelope problems outside any transaction

Only one claim (plus running totals) is held in memory at a time, so memory does not grow with
the file. :func:`parse_835` materializes everything for small files. The per-segment work is in
``loops.py``; balancing in ``balancing.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TextIO

from medbill.x12.datatypes import X12NumberError
from medbill.x12.envelope import EnvelopeChecker
from medbill.x12.remittance835.loops import Event, Parser835
from medbill.x12.remittance835.models import Payment
from medbill.x12.tokenizer import iter_raw_batches

__all__ = ["RemittanceReader", "parse_835", "read_835"]


class RemittanceReader:
    """Streaming 835 reader over a string, a text file or an iterable of text chunks.

    ``problems`` collects envelope problems that belong to no transaction (GE/IEA counts, segments
    outside ST..SE, non-835 transactions); it is complete once :meth:`payments` is exhausted.
    """

    def __init__(self, source: str | TextIO | Iterable[str]) -> None:
        self._source = source
        self.checker = EnvelopeChecker()
        self.problems: list[str] = []
        self.segment_count = 0

    def payments(self) -> Iterator[Payment]:
        events = _events(self._source, self)
        for kind, obj in events:
            if kind == "payment":
                obj._stream = events
                yield obj
                obj.drain()  # the consumer may not have read the claims: skip past them


def read_835(source: str | TextIO | Iterable[str]) -> Iterator[Payment]:
    """Stream the payments (transactions) of an 835; see :class:`RemittanceReader`."""
    return RemittanceReader(source).payments()


def parse_835(source: str | TextIO | Iterable[str]) -> list[Payment]:
    """Read a (small) 835 completely: every payment with its ``claims`` list filled in.

    Envelope problems outside any transaction are appended to the last payment's problems (or
    raised as an empty result: an 835 with no ST has nothing to post).
    """
    reader = RemittanceReader(source)
    out: list[Payment] = []
    for payment in reader.payments():
        payment.claims = list(payment.iter_claims())
        out.append(payment)
    if out and reader.problems:
        out[-1].problems.extend(reader.problems)
    return out


def _events(source: str | TextIO | Iterable[str], reader: RemittanceReader) -> Iterator[Event]:
    """The parser's events in file order: ("payment", Payment) when a header is complete, ("claim",
    ClaimPayment) when a claim is complete and ("end", Payment) at SE. One pass, one claim held at a time."""
    parser = Parser835(reader.checker, reader.problems)

    def batches() -> Iterator[list[list[str]]]:
        for batch, batch_delimiters in iter_raw_batches(source):
            parser.delimiters = batch_delimiters
            yield batch

    position = 0
    # Held in locals (this loop runs once per segment); re-read after a handler that may switch them.
    handlers, unknown = parser.handlers, parser.unknown
    # chain + enumerate run in C: no Python-level generator step per segment
    for position, parts in enumerate(chain.from_iterable(batches()), 1):
        try:
            closed = handlers.get(parts[0], unknown)(parts, position)
            if closed is not None:
                yield from closed
                handlers, unknown = parser.handlers, parser.unknown
        except X12NumberError as err:  # AMT, QTY: not used for balancing, the segment is left out
            parser.problem(f"{parts[0]} at segment {position}: {err}.")
            handlers, unknown = parser.handlers, parser.unknown
        except IndexError:
            parser.problem(f"{parts[0]} at segment {position}: a mandatory element is missing.")
            handlers, unknown = parser.handlers, parser.unknown
    reader.segment_count = position
    yield from parser.end_of_input(position)
