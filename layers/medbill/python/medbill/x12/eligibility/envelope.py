"""ISA/GS/ST/BHT ... SE/GE/IEA around a 270's or 271's HL loops, through the shared envelope writer."""

from __future__ import annotations

from datetime import datetime

from medbill.x12.eligibility.codes import IMPLEMENTATION_GUIDE
from medbill.x12.interchange import (
    ControlNumbers,
    Envelope,
    close_transaction,
    open_transaction,
    write_header,
    write_trailer,
)
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
    envelope = Envelope(
        sender_qualifier="ZZ",
        sender_id=sender_id,
        receiver_qualifier="ZZ",
        receiver_id=receiver_id,
        control_number=control_numbers.interchange,
        usage=usage,
        functional_id=functional_id,
        application_sender=sender_id,
        application_receiver=receiver_id,
        group_control_number=control_numbers.group,
        version=IMPLEMENTATION_GUIDE,
        created=created,
    )
    buf = SegmentBuffer(body.delimiters)
    write_header(buf, envelope)
    (st02,) = control_numbers.st02s(1)
    start = open_transaction(buf, set_id, st02, IMPLEMENTATION_GUIDE)
    day, hhmm = created.strftime("%Y%m%d"), created.strftime("%H%M")
    buf.add("BHT", "0022", purpose, reference or f"{envelope.isa13}{st02}", day, hhmm)
    buf.segments.extend(body.segments)
    close_transaction(buf, start, st02)
    write_trailer(buf, envelope, 1)
    return buf
