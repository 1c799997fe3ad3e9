"""Writing the envelope of an outgoing file: ISA/GS before the transactions, GE/IEA after, ST/SE around each.

Every file we write (837P, 835, 999, 277CA) is one interchange holding one functional group, so
ISA13 and GS06 are written once here and repeated in IEA02 and GE02. Reading envelopes (and checking
their counts and control numbers) is `medbill.x12.envelope`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from medbill.x12.envelope import Interchange
from medbill.x12.segments import SegmentBuffer

__all__ = [
    "MAX_CONTROL_NUMBER",
    "ControlNumbers",
    "Envelope",
    "close_transaction",
    "open_transaction",
    "write_header",
    "write_trailer",
]

MAX_CONTROL_NUMBER = 999_999_999  # ISA13 is 9 digits; GS06 allows the same range


@dataclass(frozen=True)
class ControlNumbers:
    """ISA13, GS06 and the ST02s of one file, drawn from a persistent counter.

    Build it with `from_counter` so every file draws fresh numbers (the lifecycle backs the counter
    with a DynamoDB atomic counter); a 999's AK1/AK2 and a 277CA then name the file and transaction
    without ambiguity. `transactions` holds one number per ST; when it is empty a one-transaction
    file uses `group` (one draw names the interchange, the group and the transaction).
    """

    interchange: int
    group: int
    transactions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (
            ("interchange", self.interchange),
            ("group", self.group),
            *(("transaction", n) for n in self.transactions),
        ):
            if not 1 <= value <= MAX_CONTROL_NUMBER:
                raise ValueError(f"{name} control number {value} is outside 1..{MAX_CONTROL_NUMBER}")
        if len(set(self.transactions)) != len(self.transactions):
            raise ValueError("transaction control numbers (ST02) must be unique")

    @classmethod
    def from_counter(cls, next_control_number: Callable[[], int], transactions: int = 1) -> ControlNumbers:
        """One draw serves ISA13, GS06 and the first ST02 (one group per interchange); every further
        transaction draws its own ST02. `transactions`: for an 837P, see `claim837.transactions_needed`."""
        if transactions < 1:
            raise ValueError("a file has at least one transaction")
        n = next_control_number()
        return cls(interchange=n, group=n, transactions=(n, *(next_control_number() for _ in range(transactions - 1))))

    @property
    def isa13(self) -> str:
        return f"{self.interchange:09d}"

    def st02s(self, count: int) -> list[str]:
        """The ST02 of each of `count` transactions (4 to 9 digits, as ST02 allows)."""
        numbers = self.transactions or ((self.group,) if count == 1 else ())
        if len(numbers) < count:
            raise ValueError(
                f"{count} transactions need {count} ST02 control numbers but {len(numbers) or 'none'} were given: "
                f"use ControlNumbers.from_counter(counter, transactions={count})"
            )
        return [f"{n:04d}" for n in numbers[:count]]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the ISA and GS of one outgoing interchange say."""

    sender_qualifier: str  # ISA05, written as given
    sender_id: str  # ISA06, space-padded to 15
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    control_number: int  # ISA13 = IEA02, 9 digits
    usage: str  # ISA15: P production, T test
    functional_id: str  # GS01: HC 837, HP 835, FA 999, HN 277
    application_sender: str  # GS02
    application_receiver: str  # GS03
    group_control_number: int  # GS06 = GE02
    version: str  # GS08: the implementation guide
    created: datetime  # ISA09/10, GS04/05

    @property
    def isa13(self) -> str:
        return f"{self.control_number:09d}"

    @classmethod
    def answering(
        cls,
        isa: Interchange,
        *,
        control_number: int,
        group_control_number: int,
        functional_id: str,
        version: str,
        created: datetime,
        usage: str | None = None,
        application_sender: str | None = None,
        application_receiver: str | None = None,
    ) -> Envelope:
        """The envelope of an acknowledgement: the submission's sender and receiver swapped (GS02/GS03
        too, unless given), its usage (ISA15) unless `usage` overrides it."""
        sender, receiver = isa.receiver_id.strip(), isa.sender_id.strip()
        return cls(
            sender_qualifier=isa.receiver_qualifier or "ZZ",
            sender_id=sender,
            receiver_qualifier=isa.sender_qualifier or "ZZ",
            receiver_id=receiver,
            control_number=control_number,
            usage=usage or isa.usage or "P",
            functional_id=functional_id,
            application_sender=sender if application_sender is None else application_sender,
            application_receiver=receiver if application_receiver is None else application_receiver,
            group_control_number=group_control_number,
            version=version,
            created=created,
        )


def write_header(buf: SegmentBuffer, envelope: Envelope) -> None:
    """ISA and GS. The ISA is fixed width and carries the separators themselves, so it is written verbatim."""
    d = buf.delimiters
    when = envelope.created
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10,
        envelope.sender_qualifier, f"{envelope.sender_id:<15}",
        envelope.receiver_qualifier, f"{envelope.receiver_id:<15}",
        when.strftime("%y%m%d"), when.strftime("%H%M"), d.repetition or "^", "00501",
        envelope.isa13, "0", envelope.usage, d.component,
    ]  # fmt: skip
    buf.add_raw(d.element.join(isa))
    buf.add(
        "GS",
        envelope.functional_id,
        envelope.application_sender,
        envelope.application_receiver,
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        str(envelope.group_control_number),
        "X",
        envelope.version,
    )


def write_trailer(buf: SegmentBuffer, envelope: Envelope, transactions: int) -> None:
    """GE (transaction count, GS06) and IEA (one group, ISA13)."""
    buf.add("GE", str(transactions), str(envelope.group_control_number))
    buf.add("IEA", "1", envelope.isa13)


def open_transaction(buf: SegmentBuffer, set_id: str, st02: str, implementation: str = "") -> int:
    """ST; returns what `close_transaction` needs to count the transaction's segments."""
    start = len(buf)
    buf.add("ST", set_id, st02, implementation)
    return start


def close_transaction(buf: SegmentBuffer, start: int, st02: str) -> int:
    """SE: SE01 counts ST..SE; returns that count."""
    count = len(buf) - start + 1
    buf.add("SE", str(count), st02)
    return count
