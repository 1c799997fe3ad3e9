"""837P professional claims (005010X222A1): write our claims, summarize any 837P.

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
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal, localcontext
from typing import Any, Protocol

from medbill.models.claim import Claim
from medbill.models.common import Address, Person
from medbill.models.encounter import RELATIONSHIP_CODES, BillingProvider, Provider
from medbill.models.text import to_x12_text
from medbill.x12.datatypes import X12NumberError, n0_int, r_decimal
from medbill.x12.envelope import EnvelopeReader
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError, is_clean
from medbill.x12.tokenizer import Segment, X12SyntaxError

__all__ = [
    "IMPLEMENTATION_837P",
    "ClearinghouseLike",
    "ControlNumbers",
    "read_837p",
    "summarize_837p",
    "transactions_needed",
    "write_837p",
]

IMPLEMENTATION_837P = "005010X222A1"
MAX_CONTROL_NUMBER = 999_999_999  # ISA13 is 9 digits; GS06 allows the same range
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


@dataclass(frozen=True)
class ControlNumbers:
    """ISA13, GS06 and the ST02s of one file, drawn from a persistent counter.

    Build it with `from_counter` so every file draws fresh numbers (the lifecycle backs the counter
    with a DynamoDB atomic counter); a 999's AK1/AK2 and a 277CA then name the file and transaction
    without ambiguity. `transactions` holds one number per ST; when it is empty a one-transaction
    file uses `group` (one draw names the interchange, the group and the transaction).
    """

    interchange: int
    group: int
    transactions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (
            ("interchange", self.interchange),
            ("group", self.group),
            *(("transaction", n) for n in self.transactions),
        ):
            if not 1 <= value <= MAX_CONTROL_NUMBER:
                raise ValueError(f"{name} control number {value} is outside 1..{MAX_CONTROL_NUMBER}")
        if len(set(self.transactions)) != len(self.transactions):
            raise ValueError("transaction control numbers (ST02) must be unique")

    @classmethod
    def from_counter(cls, next_control_number: Callable[[], int], transactions: int = 1) -> ControlNumbers:
        """One draw serves ISA13, GS06 and the first ST02 (one group per interchange); every further
        transaction draws its own ST02. `transactions`: see `transactions_needed`."""
        if transactions < 1:
            raise ValueError("a file has at least one transaction")
        n = next_control_number()
        return cls(interchange=n, group=n, transactions=(n, *(next_control_number() for _ in range(transactions - 1))))

    @property
    def isa13(self) -> str:
        return f"{self.interchange:09d}"

    def st02s(self, count: int) -> list[str]:
        """The ST02 of each of `count` transactions (4 to 9 digits, as ST02 allows)."""
        numbers = self.transactions or ((self.group,) if count == 1 else ())
        if len(numbers) < count:
            raise ValueError(
                f"{count} transactions need {count} ST02 control numbers but {len(numbers) or 'none'} were given: "
                f"use ControlNumbers.from_counter(counter, transactions={count})"
            )
        return [f"{n:04d}" for n in numbers[:count]]


def transactions_needed(claim_count: int, claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION) -> int:
    """How many transactions (ST02 numbers) `write_837p` writes for `claim_count` claims."""
    return max(1, -(-claim_count // claims_per_transaction))


# Line charges are X12 R numbers of up to 18 digits, at any scale: '99999999999999999' plus
# '.00000000000000001' needs 34 significant digits, more than the default context's 28.
_EXACT = Context(prec=80)


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


class _Writer:
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


def _write_claim(w: _Writer, claim: Claim) -> None:
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


def _write_transaction(
    buf: SegmentBuffer,
    claims: Sequence[Claim],
    *,
    settings: ClearinghouseLike,
    st02: str,
    reference: str,
    created: datetime,
) -> None:
    start = len(buf)
    buf.context = f"transaction {st02}"
    buf.add("ST", "837", st02, IMPLEMENTATION_837P)
    buf.add("BHT", "0019", "00", reference, created.strftime("%Y%m%d"), created.strftime("%H%M"), "CH")
    # 1000A submitter, 1000B receiver.
    buf.add(
        "NM1",
        "41",
        "2",
        _fit(buf, settings.submitter_name, 60, "submitter NM103"),
        "",
        "",
        "",
        "",
        "46",
        settings.sender_id,
    )
    buf.add(
        "PER",
        "IC",
        _fit(buf, settings.submitter_contact, 60, "submitter PER02"),
        "TE",
        settings.submitter_phone,
    )
    buf.add(
        "NM1",
        "40",
        "2",
        _fit(buf, settings.receiver_name, 60, "receiver NM103"),
        "",
        "",
        "",
        "",
        "46",
        settings.receiver_id,
    )
    w = _Writer(buf)
    for provider_claims in _group(claims, lambda c: _provider_key(c.encounter.billing_provider)):
        bp = provider_claims[0].encounter.billing_provider
        buf.context = f"claim {provider_claims[0].claim_id} billing provider"
        hl_a = w.next_hl()
        buf.add("HL", str(hl_a), "", "20", "1")
        buf.add("PRV", "BI", "PXC", bp.taxonomy)
        w.provider_name("85", bp, "2010AA")
        w.address(bp.address, "2010AA")
        buf.add("REF", "EI", bp.tin)
        for subscriber_claims in _group(provider_claims, _subscriber_key):
            first = subscriber_claims[0]
            enc = first.encounter
            cov = enc.coverage
            is_self = enc.patient_is_subscriber
            buf.context = f"claim {first.claim_id} subscriber"
            hl_b = w.next_hl()
            buf.add("HL", str(hl_b), str(hl_a), "22", "0" if is_self else "1")
            buf.add(
                "SBR",
                "P",
                "18" if is_self else "",
                cov.group_number,
                "",
                "",
                "",
                "",
                "",
                cov.claim_filing_indicator,
            )
            w.person_name("IL", enc.insured, "MI", cov.member_id, "2010BA")
            if is_self:
                # The subscriber's address and demographics are required when they are the patient.
                w.address(enc.patient.address, "2010BA")
                w.demographics(enc.patient)
            buf.add(
                "NM1",
                "PR",
                "2",
                _fit(buf, cov.payer_name, 60, "2010BB NM103"),
                "",
                "",
                "",
                "",
                "PI",
                cov.payer_id,
            )
            if is_self:
                for claim in subscriber_claims:
                    buf.context = f"claim {claim.claim_id}"
                    _write_claim(w, claim)
                continue
            for patient_claims in _group(subscriber_claims, _patient_key):
                pat_enc = patient_claims[0].encounter
                buf.context = f"claim {patient_claims[0].claim_id} patient"
                hl_c = w.next_hl()
                buf.add("HL", str(hl_c), str(hl_b), "23", "0")
                buf.add("PAT", RELATIONSHIP_CODES[pat_enc.subscriber.relationship])
                w.person_name("QC", pat_enc.patient, "", "", "2010CA")
                w.address(pat_enc.patient.address, "2010CA")
                w.demographics(pat_enc.patient)
                for claim in patient_claims:
                    buf.context = f"claim {claim.claim_id}"
                    _write_claim(w, claim)
    buf.context = f"transaction {st02}"
    buf.add("SE", str(len(buf) - start + 1), st02)


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

    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    isa13 = control_numbers.isa13
    d = DEFAULT_DELIMITERS
    # The ISA is fixed width and carries the separators themselves, so it is written verbatim.
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        f"{settings.sender_id:<15}",
        "ZZ",
        f"{settings.receiver_id:<15}",
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        d.repetition or "^",
        "00501",
        isa13,
        "0",
        settings.usage_indicator,
        d.component,
    ]
    buf.add_raw(d.element.join(isa))
    gs06 = str(control_numbers.group)
    buf.add(
        "GS",
        "HC",
        settings.sender_id,
        settings.receiver_id,
        created.strftime("%Y%m%d"),
        created.strftime("%H%M"),
        gs06,
        "X",
        IMPLEMENTATION_837P,
    )
    chunks = [claims[i : i + claims_per_transaction] for i in range(0, len(claims), claims_per_transaction)]
    for st02, chunk in zip(control_numbers.st02s(len(chunks)), chunks, strict=True):
        _write_transaction(buf, chunk, settings=settings, st02=st02, reference=f"{isa13}{st02}", created=created)
    buf.add("GE", str(len(chunks)), gs06)
    buf.add("IEA", "1", isa13)
    return buf.text(line_breaks=line_breaks)


# --- reading ------------------------------------------------------------------------------------


class _ClaimCheck:
    """One claim being read: running line total and LX numbering, for the checks at its end."""

    __slots__ = ("diagnoses", "line_total", "lines", "lx_expected", "open_lx", "position", "summary", "total")

    def __init__(self, summary: dict[str, Any], position: int, total: Decimal | None) -> None:
        self.summary = summary
        self.position = position
        self.total = total  # CLM02; None when it is not a number
        self.line_total: Decimal | None = Decimal(0)  # None once a line charge is not a number
        self.lines = 0
        self.lx_expected = 1
        self.open_lx = 0  # position of an LX still waiting for its SV1
        self.diagnoses = 0


def _where(seg: Segment, claim: _ClaimCheck | None) -> str:
    return f"{seg.id} at segment {seg.position}" + (f" (claim {claim.summary['claim_id']})" if claim else "")


def read_837p(text: str) -> tuple[dict[str, Any], list[str], list[X12SyntaxError]]:
    """Read an 837P: (summary, problems, number errors).

    ``problems`` are structure and balancing problems (a claim outside a subscriber loop, a line
    without SV1, LX01 out of sequence, CLM02 not the sum of the SV102 line charges, ...);
    ``number errors`` are numeric elements (CLM02, LX01, SV102, SV104, SV107) that are not X12
    numbers, each naming its segment position and element. The summary holds ids, codes and
    amounts only (a number that could not be read is None).
    """
    reader = EnvelopeReader(text)
    summary: dict[str, Any] = {"transactions": [], "claims": []}
    problems: list[str] = []
    number_errors: list[X12SyntaxError] = []

    def bad_number(seg: Segment, claim: _ClaimCheck | None, err: X12NumberError) -> None:
        number_errors.append(X12SyntaxError(f"{_where(seg, claim)}: {err}.", seg.position))

    def finish(claim: _ClaimCheck | None) -> None:
        if claim is None:
            return
        end_line(claim)
        cid = claim.summary["claim_id"]
        if not claim.diagnoses:
            problems.append(f"CLM at segment {claim.position} (claim {cid}): no diagnosis (HI).")
        if not claim.lines:
            problems.append(f"CLM at segment {claim.position} (claim {cid}): no service line (LX/SV1).")
        elif claim.total is not None and claim.line_total is not None and claim.total != claim.line_total:
            problems.append(
                f"CLM at segment {claim.position} (claim {cid}): CLM02 total charge {_money(claim.total)} is not "
                f"the sum of its SV102 line charges {_money(claim.line_total)}."
            )

    def end_line(claim: _ClaimCheck) -> None:
        if claim.open_lx:
            problems.append(
                f"LX at segment {claim.open_lx} (claim {claim.summary['claim_id']}): service line without an SV1."
            )
            claim.open_lx = 0

    for transaction in reader.transactions():
        tx = transaction.segments
        st = tx[0]
        if transaction.set_id != "837":
            problems.append(f"ST at segment {st.position}: transaction set {transaction.set_id} is not an 837.")
            continue
        tx_claims: list[dict[str, Any]] = []
        billing_npi = ""
        payer_id = ""
        in_subscriber = False  # inside an HL*22 / HL*23 loop, where claims belong
        in_billing = False  # inside HL*20 (2000A), whose NM1*85 (2010AA) is the billing provider
        claim: _ClaimCheck | None = None
        line: dict[str, Any] | None = None
        for seg in tx:
            sid = seg.id
            if sid == "HL":
                finish(claim)
                level = seg.get(3)
                claim, line = None, None
                in_subscriber = level in ("22", "23")
                in_billing = level == "20"
                if level == "20":
                    billing_npi, payer_id = "", ""
            elif sid == "NM1":
                entity = seg.get(1)
                if entity == "85":
                    # Only 2010AA names the billing provider: an NM1*85 inside a claim is loop 2330G,
                    # another payer's billing provider, and must not leak into the next claim.
                    if in_billing:
                        billing_npi = seg.get(9)
                elif entity == "PR" and claim is None:
                    payer_id = seg.get(9)
                elif entity == "82" and claim is not None and line is None:
                    claim.summary["rendering_npi"] = seg.get(9)
            elif sid == "CLM":
                finish(claim)
                line = None
                summary_claim: dict[str, Any] = {
                    "claim_id": seg.get(1),
                    "total_charge": None,
                    "place_of_service": seg.component(5, 1),
                    "frequency_code": seg.component(5, 3),
                    "payer_id": payer_id,
                    "billing_npi": billing_npi,
                    "payer_claim_number": None,
                    "diagnosis_codes": [],
                    "lines": [],
                }
                claim = _ClaimCheck(summary_claim, seg.position, None)
                tx_claims.append(summary_claim)
                try:
                    claim.total = r_decimal(seg.get(2), "CLM02")
                    summary_claim["total_charge"] = _money(claim.total)
                except X12NumberError as err:
                    bad_number(seg, claim, err)
                where = _where(seg, claim)
                if not in_subscriber:
                    problems.append(f"{where}: claim outside a subscriber or patient loop (no HL*22 or HL*23).")
                if not billing_npi:
                    problems.append(f"{where}: no billing provider NPI (NM1*85 NM109) before the claim.")
                if not payer_id:
                    problems.append(f"{where}: no payer id (NM1*PR NM109) before the claim.")
            elif claim is not None and sid == "REF" and seg.get(1) == "F8" and line is None:
                claim.summary["payer_claim_number"] = seg.get(2)
            elif claim is not None and sid == "HI":
                for n in range(1, len(seg) + 1):
                    qual, code = seg.component(n, 1), seg.component(n, 2)
                    if qual in ("ABK", "ABF", "BK", "BF") and code:
                        claim.summary["diagnosis_codes"].append(code)
                claim.diagnoses = len(claim.summary["diagnosis_codes"])
            elif sid == "LX":
                if claim is None:
                    problems.append(f"LX at segment {seg.position}: service line outside a claim (no CLM before it).")
                    line = None
                    continue
                end_line(claim)
                number: int | None = None
                try:
                    number = n0_int(seg.get(1), "LX01")
                except X12NumberError as err:
                    bad_number(seg, claim, err)
                else:
                    if number != claim.lx_expected:
                        problems.append(f"{_where(seg, claim)}: LX01 is {number}, expected {claim.lx_expected}.")
                claim.lx_expected = (number or claim.lx_expected) + 1
                claim.open_lx = seg.position
                claim.lines += 1
                line = {"line_number": number}
                claim.summary["lines"].append(line)
            elif sid == "SV1":
                if claim is None or line is None or not claim.open_lx:
                    problems.append(f"{_where(seg, claim)}: SV1 without an LX before it.")
                    continue
                claim.open_lx = 0
                comps = seg.components(1)
                charge: Decimal | None = None
                try:
                    charge = r_decimal(seg.get(2), "SV102")
                except X12NumberError as err:
                    bad_number(seg, claim, err)
                if charge is None or claim.line_total is None:
                    claim.line_total = None
                else:
                    with localcontext(_EXACT):  # 18-digit amounts at different scales: no rounding
                        claim.line_total += charge
                units = seg.get(4)
                if units:
                    try:
                        r_decimal(units, "SV104")
                    except X12NumberError as err:
                        bad_number(seg, claim, err)
                pointers: list[int] = []
                for k, text_pointer in enumerate(seg.components(7), start=1):
                    if not text_pointer:
                        continue
                    try:
                        pointer = n0_int(text_pointer, f"SV107-{k}")
                    except X12NumberError as err:
                        bad_number(seg, claim, err)
                        continue
                    pointers.append(pointer)
                    if claim.diagnoses and not 1 <= pointer <= claim.diagnoses:
                        problems.append(
                            f"{_where(seg, claim)}: SV107-{k} diagnosis pointer {pointer} names no diagnosis "
                            f"(the claim has {claim.diagnoses})."
                        )
                line.update(
                    {
                        "procedure_code": comps[1] if len(comps) > 1 else "",
                        "modifiers": [m for m in comps[2:6] if m],
                        "charge": _money(charge) if charge is not None else None,
                        "units": units,
                        "diagnosis_pointers": pointers,
                        "line_control_number": None,
                    }
                )
            elif line is not None and sid == "REF" and seg.get(1) == "6R":
                line["line_control_number"] = seg.get(2)
        finish(claim)
        if not tx_claims:
            problems.append(f"ST at segment {st.position}: no claims in transaction {st.get(2) or '(no ST02)'}.")
        group = transaction.group
        summary["transactions"].append(
            {
                "interchange_control_number": transaction.interchange.control_number if transaction.interchange else "",
                "group_control_number": group.control_number if group else "",
                "control_number": st.get(2),
                "version": transaction.version,
                "claim_count": len(tx_claims),
            }
        )
        summary["claims"].extend(tx_claims)
    summary["envelope_problems"] = list(reader.problems)
    summary["problems"] = problems
    summary["claim_count"] = len(summary["claims"])
    totals = [c["total_charge"] for c in summary["claims"]]
    with localcontext(_EXACT):
        summary["total_charge"] = None if None in totals else _money(sum((Decimal(t) for t in totals), Decimal(0)))
    return summary, problems, number_errors


def summarize_837p(text: str) -> dict[str, Any]:
    """What an 837P says, as a plain JSON-able dict: envelopes, claims, lines, and the structure and
    balancing ``problems`` :func:`read_837p` found.

    Ids and codes only (claim ids, NPIs, payer ids, procedure and diagnosis codes, amounts as
    2-decimal strings); no names, dates of birth, member ids or addresses (PHI). A numeric element
    that is not a number leaves no summary to give: :class:`X12SyntaxError` names the first one.
    """
    summary, _, number_errors = read_837p(text)
    if number_errors:
        first = number_errors[0]
        more = len(number_errors) - 1
        if more:
            first = X12SyntaxError(f"{first} ({more} more: see validate)", first.position)
        raise first
    return summary
