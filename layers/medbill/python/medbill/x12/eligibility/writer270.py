"""270 eligibility inquiries (005010X279A1): many requests in one transaction.

The hierarchy nests the requests the way the guide does, in the order they are given:

    HL 20 information source (one per payer)          NM1*PR ... PI payer id
      HL 21 information receiver (one per provider)   NM1*1P ... XX NPI
        HL 22 subscriber (one per request)            TRN*1 (when the subscriber is the patient), NM1*IL ... MI, DMG
          HL 23 dependent (when the patient is one)   TRN*1, NM1*03, DMG, INS
          DTP*291 date of service and EQ per service type on the patient's level: 30 first, then the visit's

Every request carries its own TRN02 trace number (unique in the file) so each 271 answer matches its
question. Values go through `SegmentBuffer`: a separator or a character X12 cannot carry is refused
with `X12DataError` naming the request number and element, never the value (PHI).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from medbill.models.common import npi_check_digit_ok
from medbill.models.text import to_x12_text
from medbill.x12.eligibility.codes import HEALTH_BENEFIT_PLAN_COVERAGE, SERVICE_TYPES
from medbill.x12.eligibility.envelope import enveloped
from medbill.x12.eligibility.models import (
    Dependent270,
    EligibilityRequest,
    InformationReceiver,
    InformationSource,
    Subscriber270,
)
from medbill.x12.interchange import ControlNumbers
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError, is_clean

__all__ = ["service_types_for", "write_270"]

_GENDERS = frozenset({"M", "F", "U"})
_RELATIONSHIPS = frozenset({"01", "19", "34"})  # INS02 in 2100D: spouse, child, other adult


def service_types_for(visit_types: Sequence[str]) -> list[str]:
    """EQ01 codes of one request: 30 (health benefit plan coverage) first, then the visit's, once each."""
    out = [HEALTH_BENEFIT_PLAN_COVERAGE]
    for code in visit_types:
        if code not in out:
            out.append(code)
    return out


def _fit(buf: SegmentBuffer, value: str, max_len: int, where: str, *, required: bool = False) -> str:
    text = to_x12_text(value.strip()) if value else ""
    if required and not text:
        raise buf.error(f"{where} is required")
    if len(text) > max_len:
        raise buf.error(f"{where} is longer than {max_len} characters")  # refused, not cut: payers match on it
    return text


def _check_request(buf: SegmentBuffer, req: EligibilityRequest, seen: set[str]) -> None:
    trace = req.trace_number
    if not 1 <= len(trace) <= 50 or not is_clean(trace, buf.delimiters):
        raise buf.error("TRN02 trace number must be 1..50 plain characters")
    if trace in seen:
        raise buf.error("TRN02 trace number is used by an earlier request: 271 answers could not be matched")
    seen.add(trace)
    if not req.source.payer_id or len(req.source.payer_id) > 80:
        raise buf.error("2100A NM109 payer id must be 1..80 characters")
    if not (len(req.receiver.npi) == 10 and req.receiver.npi.isdigit() and npi_check_digit_ok(req.receiver.npi)):
        raise buf.error("2100B NM109 is not a valid NPI (10 digits with the Luhn check digit)")
    for code in req.service_types:
        if code not in SERVICE_TYPES:
            raise buf.error("EQ01 service type is not a 005010X279A1 service type code")
    for person in (req.subscriber, req.dependent):
        if person is None:
            continue
        if person.gender is not None and person.gender not in _GENDERS:
            raise buf.error("DMG03 gender must be M, F or U")
        if person.date_of_birth is not None and person.date_of_birth > req.date_of_service:
            raise buf.error("DMG02 birth date is after the date of service (the payer would reject it: AAA 60)")


def _source(buf: SegmentBuffer, hl: int, source: InformationSource) -> None:
    buf.add("HL", str(hl), "", "20", "1")
    name = _fit(buf, source.name, 60, "2100A NM103 payer name", required=True)
    buf.add("NM1", "PR", "2", name, "", "", "", "", source.id_qualifier, source.payer_id)


def _receiver(buf: SegmentBuffer, hl: int, parent: int, receiver: InformationReceiver) -> None:
    buf.add("HL", str(hl), str(parent), "21", "1")
    name = _fit(buf, receiver.name, 60, "2100B NM103 provider name", required=True)
    first = _fit(buf, receiver.first_name, 35, "2100B NM104 provider first name")
    buf.add("NM1", "1P", "1" if first else "2", name, first, "", "", "", "XX", receiver.npi)


def _person(buf: SegmentBuffer, loop: str, person: Subscriber270 | Dependent270) -> tuple[str, ...]:
    return (
        _fit(buf, person.last_name, 60, f"{loop} NM103 last name", required=True),
        _fit(buf, person.first_name, 35, f"{loop} NM104 first name"),
        _fit(buf, person.middle_name, 25, f"{loop} NM105 middle name"),
    )


def _inquiry(buf: SegmentBuffer, req: EligibilityRequest) -> None:
    """DTP*291 date of service, then one EQ (loop 2110C/D) per service type."""
    buf.add("DTP", "291", "D8", req.date_of_service.strftime("%Y%m%d"))
    for code in service_types_for(req.service_types):
        buf.add("EQ", code)


def _subscriber(buf: SegmentBuffer, hl: int, parent: int, req: EligibilityRequest, originator: str) -> None:
    sub = req.subscriber
    buf.add("HL", str(hl), str(parent), "22", "1" if req.dependent else "0")
    if req.dependent is None:
        buf.add("TRN", "1", req.trace_number, originator)
    last, first, middle = _person(buf, "2100C", sub)
    suffix = _fit(buf, sub.suffix, 10, "2100C NM107 suffix")
    member_id = _fit(buf, sub.member_id, 80, "2100C NM109 member id", required=True)
    buf.add("NM1", "IL", "1", last, first, middle, "", suffix, "MI", member_id)
    if sub.date_of_birth is not None:
        buf.add("DMG", "D8", sub.date_of_birth.strftime("%Y%m%d"), sub.gender or "")
    if req.dependent is None:
        _inquiry(buf, req)


def _dependent(buf: SegmentBuffer, hl: int, parent: int, req: EligibilityRequest, originator: str) -> None:
    dep = req.dependent
    assert dep is not None
    if dep.relationship and dep.relationship not in _RELATIONSHIPS:
        raise buf.error("2100D INS02 relationship must be 01 (spouse), 19 (child) or 34 (other adult)")
    buf.add("HL", str(hl), str(parent), "23", "0")
    buf.add("TRN", "1", req.trace_number, originator)
    buf.add("NM1", "03", "1", *_person(buf, "2100D", dep))
    buf.add("DMG", "D8", dep.date_of_birth.strftime("%Y%m%d"), dep.gender or "")
    if dep.relationship:
        buf.add("INS", "N", dep.relationship)
    _inquiry(buf, req)


def _body(requests: Sequence[EligibilityRequest], originator: str) -> SegmentBuffer:
    """HL 20/21/22/23 loops, grouped by source then receiver in order of first appearance."""
    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    tree: dict[InformationSource, dict[InformationReceiver, list[tuple[int, EligibilityRequest]]]] = {}
    seen: set[str] = set()
    for n, req in enumerate(requests, 1):
        buf.context = f"request {n}"
        _check_request(buf, req, seen)
        tree.setdefault(req.source, {}).setdefault(req.receiver, []).append((n, req))
    hl = 0
    for source, receivers in tree.items():
        hl += 1
        source_hl = hl
        buf.context = f"request {next(iter(receivers.values()))[0][0]}"
        _source(buf, source_hl, source)
        for receiver, reqs in receivers.items():
            hl += 1
            receiver_hl = hl
            buf.context = f"request {reqs[0][0]}"
            _receiver(buf, receiver_hl, source_hl, receiver)
            for n, req in reqs:
                buf.context = f"request {n}"
                hl += 1
                subscriber_hl = hl
                _subscriber(buf, subscriber_hl, receiver_hl, req, originator)
                if req.dependent is not None:
                    hl += 1
                    _dependent(buf, hl, subscriber_hl, req, originator)
    return buf


def write_270(
    requests: Sequence[EligibilityRequest],
    *,
    sender_id: str,
    receiver_id: str,
    control_numbers: ControlNumbers,
    created: datetime,
    trace_originator: str,
    reference: str = "",
    usage: str = "P",
    line_breaks: bool = True,
) -> str:
    """One interchange with one 270 holding every request (a batch: one HL 22 per request).

    ``trace_originator`` is TRN03: 10 characters, "1" + our EIN or "9" + an id we assign.
    ``reference`` is BHT03 (the 271 echoes it); by default ISA13 + ST02.
    """
    if not requests:
        raise X12DataError("a 270 needs at least one request")
    for name, value in (("sender_id", sender_id), ("receiver_id", receiver_id)):
        if not 2 <= len(value) <= 15 or not is_clean(value, DEFAULT_DELIMITERS):
            raise X12DataError(f"{name} must be 2..15 plain characters (ISA06/ISA08)")
    if usage not in ("P", "T"):
        raise X12DataError("usage (ISA15) must be P or T")
    if len(trace_originator) != 10 or not trace_originator.isascii() or not trace_originator.isalnum():
        raise X12DataError("trace_originator (TRN03) must be 10 letters or digits: 1 + EIN or 9 + assigned id")
    if reference and (len(reference) > 50 or not is_clean(reference, DEFAULT_DELIMITERS)):
        raise X12DataError("reference (BHT03) must be 1..50 plain characters")
    body = _body(requests, trace_originator)
    out = enveloped(
        body,
        set_id="270",
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_numbers=control_numbers,
        created=created,
        reference=reference,
        usage=usage,
    )
    return out.text(line_breaks=line_breaks)
