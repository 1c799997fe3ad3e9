"""837P professional claims (005010X222A1): write our claims.

One file = one interchange (ISA13), one functional group (GS06) and one or more transactions
(at most `claims_per_transaction` claims each, the IG recommends <= 5000). All three control
numbers come from the caller's persistent counter (`ControlNumbers.from_counter`), so an ST02 is
unique across files, not just within one.
Inside a transaction the claims are grouped the way the IG nests them:

    2000A billing provider (one per distinct billing provider)
      2000B subscriber + payer (one per insured/payer; claims of a self-insured patient sit here)
        2000C patient (one per dependent patient, when the patient is not the subscriber)
          2300 claim -> 2400 service lines

Anything that cannot be written faithfully (a separator inside a value, a missing line charge,
a total that does not add up, a replacement without the payer's claim number) raises
`X12DataError` naming the claim id and the element, never the value (PHI).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from medbill.models.claim import Claim
from medbill.models.common import Address, Person
from medbill.models.encounter import RELATIONSHIP_CODES, BillingProvider, Provider
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

__all__ = [
    "IMPLEMENTATION_837P",
    "MAX_CLAIMS_PER_TRANSACTION",
    "ClearinghouseLike",
    "transactions_needed",
    "write_837p",
]

IMPLEMENTATION_837P = "005010X222A1"
MAX_CLAIMS_PER_TRANSACTION = 5000  # 837P IG front matter: no more than 5000 CLM per ST/SE
_FREQUENCIES_NEEDING_PAYER_CLAIM = frozenset({"7", "8"})  # replacement, void: REF*F8 required


class ClearinghouseLike(Protocol):
    """What the writer reads from `infra.config.ClearinghouseSettings` (the layer does not import infra)."""

    @property
    def sender_id(self) -> str: ...
    @property
    def receiver_id(self) -> str: ...
    @property
    def submitter_name(self) -> str: ...
    @property
    def submitter_contact(self) -> str: ...
    @property
    def submitter_phone(self) -> str: ...
    @property
    def receiver_name(self) -> str: ...
    @property
    def usage_indicator(self) -> str: ...

    # Optional (read with getattr, defaults in brackets): sender_qualifier / receiver_qualifier
    # (ISA05 / ISA07, ZZ), application_sender / application_receiver (GS02 / GS03, the ISA ids),
    # submitter_email (1000A PER05 EM, none).


def _opt(settings: ClearinghouseLike, name: str, default: str = "") -> str:
    return str(getattr(settings, name, "") or default)


def transactions_needed(claim_count: int, claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION) -> int:
    """How many transactions (ST02 numbers) `write_837p` writes for `claim_count` claims."""
    return max(1, -(-claim_count // claims_per_transaction))


# Line charges are X12 R numbers of up to 18 digits, at any scale: '99999999999999999' plus


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _quantity(value: Decimal) -> str:
    # 1.000 -> "1", 1.500 -> "1.5": X12 R values carry no trailing zeros or exponent.
    text = format(value.normalize(), "f")
    return text


def _d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def _fit(buf: SegmentBuffer, value: str | None, max_len: int, where: str) -> str:
    """Free text in X12's character set, refusing (not truncating: payers match on it) what would not fit."""
    if not value:
        return ""
    text = to_x12_text(value)
    if len(text) > max_len:
        raise buf.error(f"{where} is longer than {max_len} characters")
    return text


class _HierarchyWriter:
    """The HL counter and the NM1 / N3 / N4 / DMG shapes the 837P loops share, written into the one SegmentBuffer."""

    def __init__(self, buf: SegmentBuffer) -> None:
        self.buf = buf
        self.hl = 0

    def next_hl(self) -> int:
        self.hl += 1
        return self.hl

    def address(self, address: Address, where: str) -> None:
        self.buf.add(
            "N3",
            _fit(self.buf, address.line1, 55, f"{where} N301"),
            _fit(self.buf, address.line2, 55, f"{where} N302"),
        )
        self.buf.add("N4", _fit(self.buf, address.city, 30, f"{where} N401"), address.state, address.postal_code)

    def person_name(self, entity: str, person: Person, id_qual: str, id_value: str, where: str) -> None:
        self.buf.add(
            "NM1",
            entity,
            "1",
            _fit(self.buf, person.last_name, 60, f"{where} NM103"),
            _fit(self.buf, person.first_name, 35, f"{where} NM104"),
            _fit(self.buf, person.middle_name, 25, f"{where} NM105"),
            "",
            "",
            id_qual,
            id_value,
        )

    def provider_name(self, entity: str, provider: Provider, where: str) -> None:
        if provider.organization_name:
            name: tuple[str, ...] = (
                "2",
                _fit(self.buf, provider.organization_name, 60, f"{where} NM103"),
                "",
                "",
            )
        else:
            name = (
                "1",
                _fit(self.buf, provider.last_name, 60, f"{where} NM103"),
                _fit(self.buf, provider.first_name, 35, f"{where} NM104"),
                "",
            )
        self.buf.add("NM1", entity, *name, "", "", "XX", provider.npi)

    def demographics(self, person: Person) -> None:
        self.buf.add("DMG", "D8", _d8(person.date_of_birth), person.sex)


def _claim_total(claim: Claim) -> Decimal:
    where = f"claim {claim.claim_id}"
    if not claim.lines:
        raise X12DataError(f"{where} has no service lines")
    total = Decimal("0.00")
    for line in claim.lines:
        if line.charge is None:
            raise X12DataError(f"{where} line {line.line_number} has no charge (not priced yet)")
        total += line.charge
    if claim.total_charge is not None and claim.total_charge != total:
        raise X12DataError(
            f"{where}: total charge {_money(claim.total_charge)} is not the sum of its lines {_money(total)}"
        )
    return total


def _write_claim(w: _HierarchyWriter, claim: Claim) -> None:
    """Loop 2300 (claim) and its 2310B / 2400 loops."""
    buf = w.buf
    enc = claim.encounter
    where = f"claim {claim.claim_id}"
    total = _claim_total(claim)
    if len(claim.claim_id) > 20:
        raise X12DataError(f"{where}: CLM01 is longer than 20 characters")
    # CLM06..09: provider signature on file, assigned, benefits assigned, release of information.
    clm05 = (enc.place_of_service, "B", claim.frequency_code)
    buf.add("CLM", claim.claim_id, _money(total), "", "", clm05, "Y", "A", "Y", "Y")
    if claim.frequency_code in _FREQUENCIES_NEEDING_PAYER_CLAIM:
        if not claim.payer_claim_number:
            raise X12DataError(f"{where}: frequency {claim.frequency_code} needs the payer claim number (REF*F8)")
        buf.add("REF", "F8", claim.payer_claim_number)
    if not enc.diagnoses:
        raise X12DataError(f"{where} has no diagnosis")
    hi: list[tuple[str, str]] = [("ABK" if i == 0 else "ABF", code) for i, code in enumerate(enc.diagnoses)]
    buf.add("HI", *hi)
    rendering = enc.rendering_provider
    # 2310B is required only when the rendering NPI differs from the billing provider's.
    if rendering is not None and rendering.npi != enc.billing_provider.npi:
        w.provider_name("82", rendering, f"{where} 2310B")
        buf.add("PRV", "PE", "PXC", rendering.taxonomy)
    dos = _d8(enc.date_of_service)
    for n, line in enumerate(claim.lines, start=1):
        buf.context = f"{where} line {line.line_number}"
        if line.charge is None:  # checked in _claim_total; keeps the type checker informed
            raise X12DataError(f"{where} line {line.line_number} has no charge")
        buf.add("LX", str(n))
        buf.add(
            "SV1",
            ("HC", line.procedure_code, *line.modifiers),
            _money(line.charge),
            "UN",
            _quantity(line.units),
            "",
            "",
            [str(p) for p in line.diagnosis_pointers],
        )
        buf.add("DTP", "472", "D8", dos)
        buf.add("REF", "6R", line.line_control_number)
    buf.context = where


def _provider_key(provider: BillingProvider) -> str:
    return provider.model_dump_json()


def _subscriber_key(claim: Claim) -> tuple[Any, ...]:
    enc = claim.encounter
    cov = enc.coverage
    return (
        cov.payer_id,
        cov.payer_name,
        cov.member_id,
        cov.group_number,
        cov.claim_filing_indicator,
        enc.patient_is_subscriber,
        enc.insured.model_dump_json(),
    )


def _patient_key(claim: Claim) -> tuple[str, str]:
    enc = claim.encounter
    return (enc.subscriber.relationship, enc.patient.model_dump_json())


def _group(claims: Sequence[Claim], key: Callable[[Claim], Any]) -> list[list[Claim]]:
    """Claims grouped by key, groups in order of first appearance (a stable, predictable file)."""
    groups: dict[Any, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(key(claim), []).append(claim)
    return list(groups.values())


def _write_header(buf: SegmentBuffer, settings: ClearinghouseLike, reference: str, created: datetime) -> None:
    """BHT, 1000A submitter, 1000B receiver."""
    buf.add("BHT", "0019", "00", reference, created.strftime("%Y%m%d"), created.strftime("%H%M"), "CH")
    submitter = _fit(buf, settings.submitter_name, 60, "submitter NM103")
    buf.add("NM1", "41", "2", submitter, "", "", "", "", "46", settings.sender_id)
    contact = _fit(buf, settings.submitter_contact, 60, "submitter PER02")
    email = ("EM", _opt(settings, "submitter_email")) if _opt(settings, "submitter_email") else ()
    buf.add("PER", "IC", contact, "TE", settings.submitter_phone, *email)
    receiver = _fit(buf, settings.receiver_name, 60, "receiver NM103")
    buf.add("NM1", "40", "2", receiver, "", "", "", "", "46", settings.receiver_id)


def _write_billing_provider(w: _HierarchyWriter, claims: Sequence[Claim]) -> None:
    """Loop 2000A (HL 20) and the 2000B loops under it."""
    buf = w.buf
    bp = claims[0].encounter.billing_provider
    buf.context = f"claim {claims[0].claim_id} billing provider"
    hl_a = w.next_hl()
    buf.add("HL", str(hl_a), "", "20", "1")
    buf.add("PRV", "BI", "PXC", bp.taxonomy)
    w.provider_name("85", bp, "2010AA")
    w.address(bp.address, "2010AA")
    buf.add("REF", "EI", bp.tin)
    for subscriber_claims in _group(claims, _subscriber_key):
        _write_subscriber(w, subscriber_claims, hl_a)


def _write_subscriber(w: _HierarchyWriter, claims: Sequence[Claim], hl_a: int) -> None:
    """Loop 2000B (HL 22): subscriber 2010BA, payer 2010BB; then the claims of a self-insured patient
    or one 2000C loop per dependent patient."""
    buf = w.buf
    first = claims[0]
    enc = first.encounter
    cov = enc.coverage
    is_self = enc.patient_is_subscriber
    buf.context = f"claim {first.claim_id} subscriber"
    hl_b = w.next_hl()
    buf.add("HL", str(hl_b), str(hl_a), "22", "0" if is_self else "1")
    buf.add("SBR", "P", "18" if is_self else "", cov.group_number, "", "", "", "", "", cov.claim_filing_indicator)
    w.person_name("IL", enc.insured, "MI", cov.member_id, "2010BA")
    if is_self:
        # The subscriber's address and demographics are required when they are the patient.
        w.address(enc.patient.address, "2010BA")
        w.demographics(enc.patient)
    buf.add("NM1", "PR", "2", _fit(buf, cov.payer_name, 60, "2010BB NM103"), "", "", "", "", "PI", cov.payer_id)
    if is_self:
        _write_claims(w, claims)
        return
    for patient_claims in _group(claims, _patient_key):
        pat_enc = patient_claims[0].encounter
        buf.context = f"claim {patient_claims[0].claim_id} patient"
        hl_c = w.next_hl()
        buf.add("HL", str(hl_c), str(hl_b), "23", "0")
        buf.add("PAT", RELATIONSHIP_CODES[pat_enc.subscriber.relationship])
        w.person_name("QC", pat_enc.patient, "", "", "2010CA")
        w.address(pat_enc.patient.address, "2010CA")
        w.demographics(pat_enc.patient)
        _write_claims(w, patient_claims)


def _write_claims(w: _HierarchyWriter, claims: Sequence[Claim]) -> None:
    for claim in claims:
        w.buf.context = f"claim {claim.claim_id}"
        _write_claim(w, claim)


def _write_transaction(
    buf: SegmentBuffer,
    claims: Sequence[Claim],
    *,
    settings: ClearinghouseLike,
    st02: str,
    reference: str,
    created: datetime,
) -> None:
    buf.context = f"transaction {st02}"
    start = open_transaction(buf, "837", st02, IMPLEMENTATION_837P)
    _write_header(buf, settings, reference, created)
    w = _HierarchyWriter(buf)
    for provider_claims in _group(claims, lambda c: _provider_key(c.encounter.billing_provider)):
        _write_billing_provider(w, provider_claims)
    buf.context = f"transaction {st02}"
    close_transaction(buf, start, st02)


def _check_submission(claims: Sequence[Claim], settings: ClearinghouseLike, claims_per_transaction: int) -> None:
    if not claims:
        raise X12DataError("an 837P needs at least one claim")
    if not 1 <= claims_per_transaction <= MAX_CLAIMS_PER_TRANSACTION:
        raise ValueError(f"claims_per_transaction must be 1..{MAX_CLAIMS_PER_TRANSACTION}")
    seen: set[str] = set()
    for claim in claims:
        if claim.claim_id in seen:
            raise X12DataError(f"claim {claim.claim_id} appears twice in one 837P")
        seen.add(claim.claim_id)
    for name in ("sender_id", "receiver_id"):
        value = getattr(settings, name)
        if not 2 <= len(value) <= 15 or not is_clean(value, DEFAULT_DELIMITERS):
            raise X12DataError(f"clearinghouse {name} must be 2..15 plain characters (ISA06/ISA08)")
    if settings.usage_indicator not in ("P", "T"):
        raise X12DataError("clearinghouse usage_indicator (ISA15) must be P or T")


def write_837p(
    claims: Sequence[Claim],
    *,
    settings: ClearinghouseLike,
    control_numbers: ControlNumbers,
    created: datetime,
    claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION,
    line_breaks: bool = True,
) -> str:
    """One 837P interchange holding `claims`.

    `settings` is an `infra.config.ClearinghouseSettings`: sender/receiver ids and names,
    submitter contact, ISA15 usage indicator. `control_numbers` comes from
    `ControlNumbers.from_counter(counter, transactions=transactions_needed(len(claims), claims_per_transaction))`;
    one ST02 per `claims_per_transaction` claims, each from the counter.
    """
    _check_submission(claims, settings, claims_per_transaction)
    envelope = Envelope(
        sender_qualifier=_opt(settings, "sender_qualifier", "ZZ"),
        sender_id=settings.sender_id,
        receiver_qualifier=_opt(settings, "receiver_qualifier", "ZZ"),
        receiver_id=settings.receiver_id,
        control_number=control_numbers.interchange,
        usage=settings.usage_indicator,
        functional_id="HC",
        application_sender=_opt(settings, "application_sender", settings.sender_id),
        application_receiver=_opt(settings, "application_receiver", settings.receiver_id),
        group_control_number=control_numbers.group,
        version=IMPLEMENTATION_837P,
        created=created,
    )
    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    write_header(buf, envelope)
    isa13 = control_numbers.isa13
    chunks = [claims[i : i + claims_per_transaction] for i in range(0, len(claims), claims_per_transaction)]
    for st02, chunk in zip(control_numbers.st02s(len(chunks)), chunks, strict=True):
        _write_transaction(buf, chunk, settings=settings, st02=st02, reference=f"{isa13}{st02}", created=created)
    write_trailer(buf, envelope, len(chunks))
    return buf.text(line_breaks=line_breaks)
