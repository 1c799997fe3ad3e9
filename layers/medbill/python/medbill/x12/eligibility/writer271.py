"""271 eligibility responses (005010X279A1) from the reader's models: what the payer simulator
answers, and what the tests and the benchmark read back.

`write_271(answers, ...)` writes one interchange, one HB group and one 271: HL 20 per source, HL 21
per receiver (in order of first appearance, by identity), HL 22 per subscriber with its HL 23
dependents, each with TRN, NM1, REF, N3/N4, AAA, DMG, INS, DTP and its EB loops (REF, DTP, AAA, MSG,
LS 2120 NM1/PER LE). Values go through `SegmentBuffer` (a separator is refused, never escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from medbill.x12.eligibility.envelope import enveloped
from medbill.x12.eligibility.models import Benefit, DatePeriod, Member, Party, Rejection, SubscriberResponse
from medbill.x12.interchange import ControlNumbers
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError

__all__ = ["write_271"]


def _num(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _dates(buf: SegmentBuffer, dates: list[DatePeriod]) -> None:
    for d in dates:
        buf.add("DTP", d.qualifier, d.format, f"{d.start}-{d.end}" if d.format == "RD8" else d.start)


def _rejections(buf: SegmentBuffer, rejections: list[Rejection]) -> None:
    for r in rejections:
        buf.add("AAA", r.valid_request, "", r.reason, r.follow_up)


def _party(buf: SegmentBuffer, party: Party) -> None:
    buf.add(
        "NM1", party.entity, party.entity_type, party.name, party.first_name, "", "", "", party.id_qualifier, party.id
    )


def _contacts(buf: SegmentBuffer, party: Party) -> None:
    if party.contacts:
        buf.add("PER", "IC", "", *(x for pair in party.contacts[:3] for x in pair))


def _benefit(buf: SegmentBuffer, b: Benefit) -> None:
    # EB03 repeats: SegmentBuffer has no repetitions, so the EB is written with the first code there
    # (every value checked as usual), then EB03 becomes the checked codes joined by the repetition
    # separator (no checked value holds the element separator, so the split is exact).
    for code in b.service_types:
        buf.check(code, "EB", 3)
    buf.add(
        "EB",
        b.code,
        b.coverage_level,
        b.service_types[0] if b.service_types else "",
        b.insurance_type,
        b.plan_description,
        b.time_period,
        _num(b.amount),
        _num(b.percent),
        b.quantity_qualifier,
        _num(b.quantity),
        b.authorization_required,
        b.in_network,
        b.procedure or None,
    )
    if len(b.service_types) > 1:
        parts = buf.segments[-1].split(buf.delimiters.element)
        parts[3] = (buf.delimiters.repetition or "^").join(b.service_types)
        buf.segments[-1] = buf.delimiters.element.join(parts)
    for ref in b.references:
        buf.add("REF", ref.qualifier, ref.value, ref.description)
    _dates(buf, b.dates)
    _rejections(buf, b.rejections)
    for text in b.messages:
        buf.add("MSG", text)
    if b.entities:
        buf.add("LS", "2120")
        for entity in b.entities:
            _party(buf, entity)
            _contacts(buf, entity)
        buf.add("LE", "2120")


def _member(buf: SegmentBuffer, m: Member) -> None:
    for t in m.traces:
        buf.add("TRN", t.type, t.number, t.originator, t.supplemental)
    entity = "IL" if m.level == "subscriber" else "03"
    buf.add("NM1", entity, "1", m.last_name, m.first_name, m.middle_name, "", m.suffix, m.id_qualifier, m.member_id)
    for ref in m.references:
        buf.add("REF", ref.qualifier, ref.value, ref.description)
    if m.address:
        buf.add("N3", *m.address)
    if m.locality:
        buf.add("N4", *m.locality)
    _rejections(buf, m.rejections)
    if m.birth_date or m.gender:
        buf.add("DMG", "D8", m.birth_date, m.gender)
    if m.maintenance:
        buf.add("INS", *m.maintenance)
    _dates(buf, m.dates)
    for b in m.benefits:
        _benefit(buf, b)


def _body(answers: Sequence[SubscriberResponse]) -> SegmentBuffer:
    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    tree: dict[int, tuple[Party, dict[int, tuple[Party, list[SubscriberResponse]]]]] = {}
    for a in answers:
        receivers = tree.setdefault(id(a.source), (a.source, {}))[1]
        receivers.setdefault(id(a.receiver), (a.receiver, []))[1].append(a)
    hl = 0
    for source, receivers in tree.values():
        hl += 1
        source_hl = hl
        buf.add("HL", str(hl), "", "20", "1")
        _rejections(buf, [r for r in source.rejections if r.loop == "2000A"])
        _party(buf, source)
        _contacts(buf, source)
        _rejections(buf, [r for r in source.rejections if r.loop != "2000A"])
        for receiver, subs in receivers.values():
            hl += 1
            receiver_hl = hl
            buf.add("HL", str(hl), str(source_hl), "21", "1")
            _party(buf, receiver)
            _rejections(buf, receiver.rejections)
            for n, answer in enumerate(subs, 1):
                buf.context = f"subscriber {n}"
                hl += 1
                subscriber_hl = hl
                sub = answer.subscriber
                buf.add("HL", str(hl), str(receiver_hl), "22", "1" if sub.dependents else "0")
                _member(buf, sub)
                for dep in sub.dependents:
                    hl += 1
                    buf.add("HL", str(hl), str(subscriber_hl), "23", "0")
                    _member(buf, dep)
                buf.context = ""
    return buf


def write_271(
    answers: Sequence[SubscriberResponse],
    *,
    sender_id: str,
    receiver_id: str,
    control_numbers: ControlNumbers,
    created: datetime,
    reference: str,
    line_breaks: bool = True,
) -> str:
    """One interchange, one HB group, one 271 answering ``reference`` (the 270's BHT03)."""
    if not answers:
        raise X12DataError("a 271 needs at least one answer")
    body = _body(answers)
    out = enveloped(
        body,
        set_id="271",
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_numbers=control_numbers,
        created=created,
        reference=reference,
    )
    return out.text(line_breaks=line_breaks)
