"""Writing an 835: one interchange, one HP group (GS08 005010X221A1), one ST per payment, in
implementation-guide order. The payer simulator and the tests' ERA builder use it.

What it writes reads back equal through `parse_835` and passes pyx12 4.0.0 (see docs/x12.md for the
two pyx12 facts worth knowing: ST03 left empty, more than six PLB pairs per provider and date).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from medbill.x12.interchange import Envelope, close_transaction, open_transaction, write_header, write_trailer
from medbill.x12.remittance835.models import IMPLEMENTATION_GUIDE, Adjustment, ClaimPayment, Party, Payment, ServiceLine
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer
from medbill.x12.tokenizer import Delimiters

__all__ = ["write_835"]


def _fmt(value: Decimal) -> str:
    """X12 'R' (decimal) text: no exponent, no superfluous sign."""
    text = format(value, "f")
    return "0" if text in ("-0", "-0.00", "0.00", "-0.0") and value == 0 else text


_CLAIM_REF_ORDER = {
    # 2100 "Other claim related identification" comes before "Rendering provider identification"
    q: 0
    for q in ("1L", "1W", "28", "6P", "9A", "9C", "BB", "CE", "EA", "F8", "G1", "G3", "IG", "SY")
}
_LINE_REF_ORDER = {
    **{q: 0 for q in ("1S", "APC", "BB", "E9", "G1", "G3", "LU", "RB")},
    "6R": 1,
    **{q: 2 for q in ("0B", "1A", "1B", "1C", "1D", "1G", "1H", "1J", "D3", "G2", "HPI", "SY", "TJ")},
    "0K": 3,
}
_CLAIM_DTM_ORDER = {"232": 0, "233": 1, "036": 2, "050": 3}
_LINE_DTM_ORDER = {"472": 0, "150": 1, "151": 2}


def _write_cas(w: SegmentBuffer, adjustments: list[Adjustment]) -> None:
    # Consecutive adjustments of one group share a CAS, at most six triples each.
    i = 0
    while i < len(adjustments):
        group = adjustments[i].group
        triples: list[str] = []
        while i < len(adjustments) and adjustments[i].group == group and len(triples) < 18:
            a = adjustments[i]
            triples += [a.reason, _fmt(a.amount), _fmt(a.quantity) if a.quantity is not None else ""]
            i += 1
        w.add("CAS", group, *triples)


def _write_header(w: SegmentBuffer, p: Payment) -> None:
    """BPR, TRN, CUR, REF, DTM*405 and the 1000A payer / 1000B payee loops."""
    bank = (p.bank_details + [""] * 10)[:10]
    w.add("BPR", p.handling_code, _fmt(p.total_paid), p.credit_debit, p.payment_method, p.payment_format, *bank,
          p.payment_date)  # fmt: skip
    w.add("TRN", p.trace_type, p.trace_number, p.payer_identifier, p.originating_company_supplemental)
    if p.currency:
        w.add("CUR", "PR", p.currency)
    for r in p.references:
        w.add("REF", r.qualifier, r.value)
    if p.production_date:
        w.add("DTM", "405", p.production_date)
    for party in (p.payer, p.payee):
        _write_party(w, party)


def _write_party(w: SegmentBuffer, party: Party) -> None:
    w.add("N1", party.entity, party.name, party.id_qualifier, party.id)
    if party.address:
        w.add("N3", *party.address[:2])
    if party.city or party.state or party.postal_code:
        w.add("N4", party.city, party.state, party.postal_code, party.country)
    for r in party.references:
        w.add("REF", r.qualifier, r.value)
    for c in party.contacts:
        w.add("PER", c.function, c.name, *(x for pair in c.communications[:3] for x in pair))


def _write_claim(w: SegmentBuffer, claim: ClaimPayment) -> None:
    """Loop 2100 (CLP, CAS, NM1, MIA, MOA, REF, DTM, AMT, QTY) and its 2110 service lines."""
    w.add(
        "CLP",
        claim.claim_id,
        claim.status_code,
        _fmt(claim.charge),
        _fmt(claim.paid),
        _fmt(claim.patient_responsibility) if claim.patient_responsibility is not None else "",
        claim.filing_indicator,
        claim.payer_claim_control_number,
        claim.facility_code,
        claim.frequency_code,
        "",
        claim.drg_code,
    )
    _write_cas(w, claim.adjustments)
    for nm in claim.names:
        w.add("NM1", nm.entity, nm.entity_type, nm.last, nm.first, nm.middle, "", nm.suffix, nm.id_qualifier, nm.id)
    if claim.inpatient:
        w.add("MIA", *claim.inpatient)
    if claim.outpatient:
        w.add("MOA", *claim.outpatient)
    for r in sorted(claim.references, key=lambda r: _CLAIM_REF_ORDER.get(r.qualifier, 1)):
        w.add("REF", r.qualifier, r.value)
    for q, d in sorted(claim.dates.items(), key=lambda kv: _CLAIM_DTM_ORDER.get(kv[0], 9)):
        w.add("DTM", q, d)
    for q, a in claim.amounts.items():
        w.add("AMT", q, _fmt(a))
    for q, a in claim.quantities.items():
        w.add("QTY", q, _fmt(a))
    for line in claim.lines:
        _write_line(w, line)


def _write_line(w: SegmentBuffer, line: ServiceLine) -> None:
    """Loop 2110: SVC, DTM, CAS, REF, AMT, QTY, LQ."""
    mods = (line.modifiers + [""] * 4)[:4]
    w.add(
        "SVC",
        [line.procedure_qualifier, line.procedure_code, *mods, line.description],
        _fmt(line.charge),
        _fmt(line.paid),
        line.revenue_code,
        _fmt(line.units) if line.units is not None else "",
        list(line.original_procedure),
        _fmt(line.original_units) if line.original_units is not None else "",
    )
    for q, d in sorted(line.dates.items(), key=lambda kv: _LINE_DTM_ORDER.get(kv[0], 9)):
        w.add("DTM", q, d)
    _write_cas(w, line.adjustments)
    for r in sorted(line.references, key=lambda r: _LINE_REF_ORDER.get(r.qualifier, 0)):
        w.add("REF", r.qualifier, r.value)
    for q, a in line.amounts.items():
        w.add("AMT", q, _fmt(a))
    for q, a in line.quantities.items():
        w.add("QTY", q, _fmt(a))
    for code_list, code in line.remarks:
        w.add("LQ", code_list, code)


def _write_plb(w: SegmentBuffer, p: Payment) -> None:
    # Consecutive adjustments for one provider and fiscal date share a PLB, six pairs each.
    adj = p.provider_adjustments
    i = 0
    while i < len(adj):
        key = (adj[i].provider_id, adj[i].fiscal_period_date)
        pairs: list[str | list[str]] = []
        while i < len(adj) and (adj[i].provider_id, adj[i].fiscal_period_date) == key and len(pairs) < 12:
            pa = adj[i]
            pairs += [[pa.reason, pa.reference], _fmt(pa.amount)]
            i += 1
        w.add("PLB", key[0], key[1], *pairs)


def _write_payment(w: SegmentBuffer, p: Payment, st_control: str) -> int:
    # ST03 stays empty: GS08 names the guide, and pyx12's 835 map marks ST03 "not used".
    start = open_transaction(w, "835", st_control)
    _write_header(w, p)
    last_lx: str | None = None
    for n, claim in enumerate(p.claims):
        lx = claim.header_number if claim.header_number is not None else "1"
        if n == 0 or lx != last_lx:
            w.add("LX", lx)
            last_lx = lx
        _write_claim(w, claim)
    _write_plb(w, p)
    return close_transaction(w, start, st_control)


def _check_ids(sender_id: str, receiver_id: str, sender_qualifier: str, receiver_qualifier: str) -> None:
    for name, value, width in (
        ("sender_id", sender_id, 15),
        ("receiver_id", receiver_id, 15),
        ("sender_qualifier", sender_qualifier, 2),
        ("receiver_qualifier", receiver_qualifier, 2),
    ):
        if len(value) > width:  # refused, not cut: a truncated id routes the file to someone else
            raise ValueError(f"{name} is longer than its {width}-character ISA field")


def write_835(
    payments: Iterable[Payment],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    group_control_number: int | None = None,
    application_sender: str | None = None,
    application_receiver: str | None = None,
    created: datetime | None = None,
    usage: str = "P",
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    line_breaks: bool = False,
) -> str:
    """Write one interchange with one HP functional group holding one 835 per payment.

    ``payments`` use the models with ``claims`` filled in. ST02 is the payment's ``control_number``
    when set, else a sequence number. ``line_breaks`` puts a newline after each segment terminator
    (readable; still valid X12). A value holding a delimiter is refused with ``ValueError``
    (`X12DataError`) naming the element.
    """
    if not 0 <= interchange_control_number <= 999_999_999:
        raise ValueError("interchange_control_number must fit ISA13 (9 digits)")
    if delimiters.repetition is None:
        raise ValueError("an 00501 interchange needs a repetition separator (ISA11)")
    _check_ids(sender_id, receiver_id, sender_qualifier, receiver_qualifier)
    envelope = Envelope(
        sender_qualifier=f"{sender_qualifier:<2}",
        sender_id=sender_id,
        receiver_qualifier=f"{receiver_qualifier:<2}",
        receiver_id=receiver_id,
        control_number=interchange_control_number,
        usage=usage,
        functional_id="HP",
        application_sender=application_sender or sender_id,
        application_receiver=application_receiver or receiver_id,
        group_control_number=group_control_number if group_control_number is not None else interchange_control_number,
        version=IMPLEMENTATION_GUIDE,
        created=created or datetime(2000, 1, 1),
    )
    # The 835 carries what it is given: only the delimiters are refused (see SegmentBuffer).
    w = SegmentBuffer(delimiters, x12_charset=False)
    write_header(w, envelope)
    n = 0
    for n, p in enumerate(payments, 1):
        _write_payment(w, p, p.control_number or f"{n:04d}")
    write_trailer(w, envelope, n)
    # Unlike SegmentBuffer.text, the line break follows even a terminator that is itself one (as always).
    end = delimiters.segment + ("\n" if line_breaks else "")
    return end.join(w.segments) + end
