"""277 claim status responses (005010X212) for the local payer simulator: one answer per claim a
276 asked about, the hierarchy of the 276 mirrored (payer, receiver, provider, subscriber)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from medbill.x12.ack277ca.models import StatusCode
from medbill.x12.interchange import (
    ControlNumbers,
    Envelope,
    close_transaction,
    open_transaction,
    write_header,
    write_trailer,
)
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer
from medbill.x12.status276.models import IMPLEMENTATION_X212

__all__ = ["StatusAnswer", "write_277"]


@dataclass(frozen=True, kw_only=True)
class StatusAnswer:
    claim_id: str
    payer_id: str
    status: StatusCode
    effective: datetime
    total_charge: Decimal
    paid: Decimal | None = None
    payer_claim_number: str | None = None


def write_277(
    answers: Sequence[StatusAnswer],
    *,
    sender_id: str,
    receiver_id: str,
    control_numbers: ControlNumbers,
    created: datetime,
    usage: str = "T",
    line_breaks: bool = True,
) -> str:
    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    envelope = Envelope(
        sender_qualifier="ZZ",
        sender_id=sender_id,
        receiver_qualifier="ZZ",
        receiver_id=receiver_id,
        control_number=control_numbers.interchange,
        usage=usage,
        functional_id="HN",
        application_sender=sender_id,
        application_receiver=receiver_id,
        group_control_number=control_numbers.group,
        version=IMPLEMENTATION_X212,
        created=created,
    )
    write_header(buf, envelope)
    (st02,) = control_numbers.st02s(1)
    start = open_transaction(buf, "277", st02, IMPLEMENTATION_X212)
    buf.add("BHT", "0010", "08", f"{envelope.isa13}{st02}", created.strftime("%Y%m%d"), created.strftime("%H%M"), "DG")
    hl = 0
    for n, a in enumerate(answers, 1):
        buf.context = f"answer {n}"
        buf.add("HL", str(hl + 1), "", "20", "1")
        buf.add("NM1", "PR", "2", "PAYER", "", "", "", "", "PI", a.payer_id)
        buf.add("HL", str(hl + 2), str(hl + 1), "21", "1")
        buf.add("NM1", "41", "2", "SUBMITTER", "", "", "", "", "46", receiver_id)
        buf.add("HL", str(hl + 3), str(hl + 2), "19", "1")
        buf.add("NM1", "1P", "2", "PROVIDER", "", "", "", "", "XX", "1234567893")
        buf.add("HL", str(hl + 4), str(hl + 3), "22", "0")
        buf.add("NM1", "IL", "1", "SUBSCRIBER", "", "", "", "", "MI", "UNKNOWN")
        buf.add("TRN", "2", a.claim_id)
        paid = f"{a.paid:.2f}" if a.paid is not None else ""
        status = (a.status.category, a.status.code, a.status.entity)
        buf.add("STC", status, a.effective.strftime("%Y%m%d"), "", f"{a.total_charge:.2f}", paid)
        if a.payer_claim_number:
            buf.add("REF", "1K", a.payer_claim_number)
        buf.add("REF", "EJ", a.claim_id)
        hl += 4
    close_transaction(buf, start, st02)
    write_trailer(buf, envelope, 1)
    return buf.text(line_breaks=line_breaks)
