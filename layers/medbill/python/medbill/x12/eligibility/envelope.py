"""The one place the 270 and 271 writers put ISA/GS/ST/BHT ... SE/GE/IEA around their segments.

Temporary: to be switched to the shared envelope writer of the x12 restructuring once it lands
(one interchange, one group, one transaction; control numbers from `ControlNumbers`)."""

from __future__ import annotations

from datetime import datetime

from medbill.x12.claim837 import ControlNumbers
from medbill.x12.eligibility.codes import IMPLEMENTATION_GUIDE
from medbill.x12.segments import SegmentBuffer

__all__ = ["enveloped"]

_KINDS = {"270": ("HS", "13"), "271": ("HB", "11")}  # ST01 -> (GS01, BHT02)


def enveloped(
    body: SegmentBuffer,
    *,
    set_id: str,
    sender_id: str,
    receiver_id: str,
    control_numbers: ControlNumbers,
    created: datetime,
    reference: str,
    usage: str = "P",
) -> SegmentBuffer:
    """``body`` (the HL loops) inside ISA/GS/ST/BHT and SE/GE/IEA; SE01 counts ST..SE."""
    functional_id, purpose = _KINDS[set_id]
    d = body.delimiters
    buf = SegmentBuffer(d)
    isa13 = control_numbers.isa13
    isa = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{sender_id:<15}", "ZZ", f"{receiver_id:<15}"]
    isa += [created.strftime("%y%m%d"), created.strftime("%H%M"), d.repetition or "^", "00501", isa13, "0", usage]
    buf.add_raw(d.element.join([*isa, d.component]))  # fixed width, holds the separators: written verbatim
    gs06 = str(control_numbers.group)
    day, hhmm = created.strftime("%Y%m%d"), created.strftime("%H%M")
    buf.add("GS", functional_id, sender_id, receiver_id, day, hhmm, gs06, "X", IMPLEMENTATION_GUIDE)
    (st02,) = control_numbers.st02s(1)
    buf.add("ST", set_id, st02, IMPLEMENTATION_GUIDE)
    buf.add("BHT", "0022", purpose, reference or f"{isa13}{st02}", day, hhmm)
    buf.segments.extend(body.segments)
    buf.add("SE", str(len(buf) - 2 + 1), st02)  # everything after ISA and GS, SE included
    buf.add("GE", "1", gs06)
    buf.add("IEA", "1", isa13)
    return buf
