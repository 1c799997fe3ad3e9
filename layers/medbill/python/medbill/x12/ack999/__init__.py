"""999 implementation acknowledgements (005010X231A1): read what the clearinghouse says, write one for the simulator.

A 999 answers one functional group (AK1 names its GS06) transaction by transaction (AK2 names
each ST02): IK5 A accepted, E accepted with errors noted, R/M/W/X rejected. IK3 points at a segment
in error (id, position within the transaction, loop), IK4 at an element inside it. IK4's copy of
the bad value may be PHI: it is read but never put in summaries or messages.

Split by role: ``models.py``, ``reader.py`` (read_999, read_999_groups, summarize_999, check_999),
``writer.py`` (write_999). Every public name is importable from ``medbill.x12.ack999`` itself.
"""

from medbill.x12.ack999.models import (
    IMPLEMENTATION_999,
    AckStatus,
    ElementError,
    GroupAck,
    SegmentError,
    TransactionAck,
)
from medbill.x12.ack999.reader import check_999, read_999, read_999_groups, summarize_999
from medbill.x12.ack999.writer import write_999

__all__ = [
    "IMPLEMENTATION_999",
    "AckStatus",
    "ElementError",
    "GroupAck",
    "SegmentError",
    "TransactionAck",
    "check_999",
    "read_999",
    "read_999_groups",
    "summarize_999",
    "write_999",
]
