"""Writing a 277CA for the payer simulator: every claim of an 837P accepted (A2:20) or rejected."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from medbill.x12.ack277ca.models import IMPLEMENTATION_277CA, REJECTED_CATEGORIES, StatusCode
from medbill.x12.claim837.models import Claim837, Name, Submission837
from medbill.x12.claim837.reader import read_submission
from medbill.x12.interchange import (
    ControlNumbers,
    Envelope,
    close_transaction,
    open_transaction,
    write_header,
    write_trailer,
)
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError

__all__ = ["write_277ca"]


@dataclass
class _ProviderClaims:
    """The claims of one billing provider (2010AA NPI), in file order: one 2000C HL 19 loop."""

    name: Name  # of its first 2010AA
    npi: str
    claims: list[Claim837] = field(default_factory=list)


def _by_provider(submission: Submission837) -> list[_ProviderClaims]:
    providers: dict[str, _ProviderClaims] = {}
    for claim in submission.claims:
        if claim.billing is not None:  # no 2010AA before it: nobody to acknowledge it to
            npi = claim.billing.npi
            providers.setdefault(npi, _ProviderClaims(claim.billing.name, npi)).claims.append(claim)
    return list(providers.values())


def _check_rejections(rejected: Mapping[str, Sequence[StatusCode]], claims: Sequence[Claim837]) -> None:
    unknown = set(rejected) - {c.claim_id for c in claims}
    if unknown:
        raise X12DataError(f"no claim {', '.join(sorted(unknown))} in the submission")
    for claim_id, codes in rejected.items():
        if not 1 <= len(codes) <= 3:
            raise X12DataError(f"claim {claim_id}: a rejection carries 1 to 3 status codes")
        if any(c.category not in REJECTED_CATEGORIES for c in codes[:1]):
            raise X12DataError(
                f"claim {claim_id}: the first status code of a rejection needs an A3/A4/A6/A7/A8 category"
            )


def _total(claim: Claim837) -> Decimal:
    return claim.total or Decimal("0")  # a CLM02 that is not a number counts as 0


def write_277ca(
    submission: str,
    *,
    control_numbers: ControlNumbers,
    created: datetime,
    rejected: Mapping[str, Sequence[StatusCode]] | None = None,
    payer_claim_number: Callable[[str], str] | None = None,
    received: date | None = None,
    usage_indicator: str | None = None,
) -> str:
    """A 277CA answering every claim of an 837P `submission`.

    Claims whose id is a key of `rejected` are rejected with those status codes (up to three:
    STC01, STC10, STC11; e.g. StatusCode(category="A7", code="562", entity="85")); every other
    claim is accepted (A2:20) with a payer claim number from `payer_claim_number(claim_id)`
    (default: a number derived from this file's control number and the claim's position).
    """
    rejected = dict(rejected or {})
    sub = read_submission(submission)
    providers = _by_provider(sub)
    if sub.interchange is None or not providers:
        raise X12DataError("the submission holds no 837 claim to acknowledge")
    _check_rejections(rejected, [c for p in providers for c in p.claims])
    envelope = Envelope.answering(
        sub.interchange,
        control_number=control_numbers.interchange,
        group_control_number=control_numbers.group,
        functional_id="HN",
        version=IMPLEMENTATION_277CA,
        created=created,
        usage=usage_indicator,
    )
    isa13 = envelope.isa13
    seq = iter(range(1, 100_000))

    def default_pcn(_claim_id: str) -> str:
        return f"{isa13}{next(seq):05d}"

    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    write_header(buf, envelope)
    start = open_transaction(buf, "277", "0001", IMPLEMENTATION_277CA)
    day = created.strftime("%Y%m%d")
    buf.add("BHT", "0085", "08", isa13, day, created.strftime("%H%M"), "TH")
    _write_source_and_receiver(buf, sub, envelope, rejected, received or created.date())
    hl = 2
    for provider in providers:
        hl = _write_provider(buf, provider, hl, day, rejected, payer_claim_number or default_pcn)
    close_transaction(buf, start, "0001")
    write_trailer(buf, envelope, 1)
    return buf.text()


def _write_source_and_receiver(
    buf: SegmentBuffer, sub: Submission837, envelope: Envelope, rejected: Mapping[str, object], received: date
) -> None:
    """2000A information source (HL 1) and 2000B information receiver (HL 2), with the batch totals."""
    sender, receiver = envelope.sender_id, envelope.receiver_id
    day = envelope.created.strftime("%Y%m%d")
    # 2000A information source: the clearinghouse that received the 837 (its NM1*40).
    rcv = sub.receiver or Name("2", sender, id_qualifier="46", id=sender)
    buf.add("HL", "1", "", "20", "1")
    buf.add("NM1", "AY", "2", rcv.last, "", "", "", "", "46", rcv.id or sender)
    buf.add("TRN", "1", envelope.isa13)
    buf.add("DTP", "050", "D8", received.strftime("%Y%m%d"))
    buf.add("DTP", "009", "D8", day)
    # 2000B information receiver: the submitter (its NM1*41), with batch totals.
    claims = [c for c in sub.claims if c.billing is not None]
    acc = [c for c in claims if c.claim_id not in rejected]
    rej = [c for c in claims if c.claim_id in rejected]
    smt = sub.submitter or Name("2", receiver, id_qualifier="46", id=receiver)
    buf.add("HL", "2", "1", "21", "1")
    buf.add("NM1", "41", smt.entity_type or "2", smt.last, smt.first, smt.middle, "", "", "46", smt.id or receiver)
    assert sub.interchange is not None
    buf.add("TRN", "2", sub.reference or sub.interchange.control_number)
    _totals(buf, day, acc, rej, batch=True)


def _write_provider(
    buf: SegmentBuffer,
    provider: _ProviderClaims,
    hl: int,
    day: str,
    rejected: Mapping[str, Sequence[StatusCode]],
    pcn_for: Callable[[str], str],
) -> int:
    """2000C billing provider (HL 19) and a 2000D patient / 2200D claim per claim; the last HL number."""
    hl += 1
    provider_hl = hl
    p_acc = [c for c in provider.claims if c.claim_id not in rejected]
    p_rej = [c for c in provider.claims if c.claim_id in rejected]
    buf.add("HL", str(provider_hl), "2", "19", "1")
    name = provider.name
    buf.add("NM1", "85", name.entity_type or "2", name.last, name.first, name.middle, "", "", "XX", provider.npi)
    buf.add("TRN", "1", provider.npi)
    _totals(buf, day, p_acc, p_rej, batch=False)
    for claim in provider.claims:
        hl += 1
        buf.context = f"claim {claim.claim_id}"
        buf.add("HL", str(hl), str(provider_hl), "PT")
        patient = claim.patient_name
        buf.add("NM1", "QC", "1", patient.last, patient.first, patient.middle, "", "", "MI", claim.member_id)
        buf.add("TRN", "2", claim.claim_id)
        total = f"{_total(claim):.2f}"
        if claim.claim_id in rejected:
            codes = list(rejected[claim.claim_id])
            extra = [_composite(c) for c in codes[1:]]
            buf.add("STC", _composite(codes[0]), day, "U", total, "", "", "", "", "", *extra)
        else:
            buf.add("STC", ("A2", "20"), day, "WQ", total)
            buf.add("REF", "1K", pcn_for(claim.claim_id))
        first_dos, last_dos = _service_period(claim)
        if first_dos and first_dos != last_dos:
            buf.add("DTP", "472", "RD8", f"{first_dos}-{last_dos}")
        else:
            buf.add("DTP", "472", "D8", first_dos or day)
        buf.context = ""
    return hl


def _service_period(claim: Claim837) -> tuple[str, str]:
    """The first and last DTP*472 date of the claim's lines ("" when none)."""
    first = last = ""
    for line in claim.lines:
        if line.service_date:
            first = min(first or line.service_date, line.service_date)
            last = max(last or line.service_date_end, line.service_date_end)
    return first, last


def _composite(code: StatusCode) -> tuple[str, ...]:
    return (code.category, code.code, code.entity)


def _totals(buf: SegmentBuffer, day: str, acc: list[Claim837], rej: list[Claim837], *, batch: bool) -> None:
    """STC + QTY/AMT for the receiver (batch) or billing provider level."""
    total = sum((_total(c) for c in acc + rej), Decimal("0"))
    # A1:19 = entity acknowledges receipt; 2200C's STC02 (date) is not used in X214.
    buf.add("STC", ("A1", "19"), day if batch else "", "WQ", f"{total:.2f}")
    if acc:
        buf.add("QTY", "90" if batch else "QA", str(len(acc)))
    if rej:
        buf.add("QTY", "AA" if batch else "QC", str(len(rej)))
    if acc:
        buf.add("AMT", "YU", f"{sum((_total(c) for c in acc), Decimal('0')):.2f}")
    if rej:
        buf.add("AMT", "YY", f"{sum((_total(c) for c in rej), Decimal('0')):.2f}")
