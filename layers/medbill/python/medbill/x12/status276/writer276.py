"""276 claim status requests (005010X212), one transaction per file, in the style of the 270 writer.

    HL 20 information source (payer)         NM1*PR ... PI payer id
      HL 21 information receiver (submitter)  NM1*41 ... 46 ETIN
        HL 19 service provider                NM1*1P ... XX NPI
          HL 22 subscriber                    [DMG] NM1*IL ... MI member id
            (HL 23 dependent                  [DMG] NM1*QC)
            TRN*1 claim id, REF*1K payer claim number, REF*EJ patient account (CLM01), AMT*T3, DTP*472

Values go through `SegmentBuffer`: a separator or a character X12 cannot carry is refused with
`X12DataError` naming the request and element, never the value (PHI).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from medbill.models.text import to_x12_text
from medbill.x12.interchange import (
    ControlNumbers,
    Envelope,
    close_transaction,
    open_transaction,
    write_header,
    write_trailer,
)
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError, is_clean
from medbill.x12.status276.models import IMPLEMENTATION_X212, Person276, StatusRequest

__all__ = ["write_276"]


def _fit(buf: SegmentBuffer, value: str, max_len: int, where: str, *, required: bool = False) -> str:
    text = to_x12_text(value.strip()) if value else ""
    if required and not text:
        raise buf.error(f"{where} is required")
    if len(text) > max_len:
        raise buf.error(f"{where} is longer than {max_len} characters")
    return text


def _person(buf: SegmentBuffer, entity: str, loop: str, person: Person276, member: bool) -> None:
    if person.date_of_birth is not None:
        buf.add("DMG", "D8", person.date_of_birth.strftime("%Y%m%d"), person.gender or "")
    last = _fit(buf, person.last_name, 60, f"{loop} NM103 last name", required=True)
    first = _fit(buf, person.first_name, 35, f"{loop} NM104 first name")
    if member:
        member_id = _fit(buf, person.member_id, 80, f"{loop} NM109 member id", required=True)
        buf.add("NM1", entity, "1", last, first, "", "", "", "MI", member_id)
    else:
        buf.add("NM1", entity, "1", last, first)


def _claim(buf: SegmentBuffer, req: StatusRequest, originator: str) -> None:
    buf.add("TRN", "1", req.claim_id, originator)
    if req.payer_claim_number:
        buf.add("REF", "1K", _fit(buf, req.payer_claim_number, 50, "2200D REF02 payer claim number"))
    buf.add("REF", "EJ", req.claim_id)
    buf.add("AMT", "T3", f"{req.total_charge:.2f}")
    end = req.service_to or req.service_from
    buf.add("DTP", "472", "RD8", f"{req.service_from:%Y%m%d}-{end:%Y%m%d}")


def _body(requests: Sequence[StatusRequest], submitter: tuple[str, str], originator: str) -> SegmentBuffer:
    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    hl = 0
    for n, req in enumerate(requests, 1):
        buf.context = f"request {n}"
        if not 1 <= len(req.claim_id) <= 50 or not is_clean(req.claim_id, buf.delimiters):
            raise buf.error("TRN02 trace (claim id) must be 1..50 plain characters")
        payer = _fit(buf, req.payer_name, 60, "2100A NM103 payer name", required=True)
        buf.add("HL", str(hl + 1), "", "20", "1")
        buf.add(
            "NM1", "PR", "2", payer, "", "", "", "", "PI", _fit(buf, req.payer_id, 80, "2100A NM109", required=True)
        )
        buf.add("HL", str(hl + 2), str(hl + 1), "21", "1")
        buf.add(
            "NM1",
            "41",
            "2",
            _fit(buf, submitter[0], 60, "2100B NM103", required=True),
            "",
            "",
            "",
            "",
            "46",
            submitter[1],
        )
        buf.add("HL", str(hl + 3), str(hl + 2), "19", "1")
        provider = _fit(buf, req.provider_name, 60, "2100C NM103 provider name", required=True)
        if len(req.provider_npi) != 10 or not req.provider_npi.isdigit():
            raise buf.error("2100C NM109 must be a 10-digit NPI")
        buf.add("NM1", "1P", "2", provider, "", "", "", "", "XX", req.provider_npi)
        buf.add("HL", str(hl + 4), str(hl + 3), "22", "1" if req.patient else "0")
        _person(buf, "IL", "2100D", req.subscriber, member=True)
        hl += 4
        if req.patient is None:
            _claim(buf, req, originator)
            continue
        hl += 1
        buf.add("HL", str(hl), str(hl - 1), "23")
        _person(buf, "QC", "2100E", req.patient, member=False)
        _claim(buf, req, originator)
    return buf


def write_276(
    requests: Sequence[StatusRequest],
    *,
    sender_id: str,
    receiver_id: str,
    submitter_name: str,
    control_numbers: ControlNumbers,
    created: datetime,
    usage: str = "P",
    line_breaks: bool = True,
) -> str:
    """One interchange with one 276 asking about every request's claim (one HL 20 per request)."""
    if not requests:
        raise X12DataError("a 276 needs at least one request")
    for name, value in (("sender_id", sender_id), ("receiver_id", receiver_id)):
        if not 2 <= len(value) <= 15 or not is_clean(value, DEFAULT_DELIMITERS):
            raise X12DataError(f"{name} must be 2..15 plain characters (ISA06/ISA08)")
    if usage not in ("P", "T"):
        raise X12DataError("usage (ISA15) must be P or T")
    originator = ("9" + sender_id.upper())[:10].ljust(10, "0")  # TRN03: 9 + an id we assign
    body = _body(requests, (submitter_name, sender_id), originator)
    envelope = Envelope(
        sender_qualifier="ZZ",
        sender_id=sender_id,
        receiver_qualifier="ZZ",
        receiver_id=receiver_id,
        control_number=control_numbers.interchange,
        usage=usage,
        functional_id="HR",
        application_sender=sender_id,
        application_receiver=receiver_id,
        group_control_number=control_numbers.group,
        version=IMPLEMENTATION_X212,
        created=created,
    )
    buf = SegmentBuffer(body.delimiters)
    write_header(buf, envelope)
    (st02,) = control_numbers.st02s(1)
    start = open_transaction(buf, "276", st02, IMPLEMENTATION_X212)
    buf.add("BHT", "0010", "13", f"{envelope.isa13}{st02}", created.strftime("%Y%m%d"), created.strftime("%H%M"))
    buf.segments.extend(body.segments)
    close_transaction(buf, start, st02)
    write_trailer(buf, envelope, 1)
    return buf.text(line_breaks=line_breaks)
