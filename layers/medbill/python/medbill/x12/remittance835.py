"""X12 835 (005010X221A1) health care claim payment/advice: models, streaming reader, balancing, writer.

Reading streams claim by claim::

    reader = RemittanceReader(open(path))
    for payment in reader.payments():          # header (BPR, TRN, payer, payee) is filled in
        for claim in payment.iter_claims():    # each claim payment as soon as it is complete
            ...
        payment.balanced, payment.problems     # final once its claims are exhausted
    reader.problems                            # envelope problems outside any transaction

Only one claim (plus running totals) is held in memory at a time, so memory does not grow with
the file. :func:`parse_835` materializes everything for small files.

Balancing is *reported*, never raised (a billing office must see an unbalanced ERA, not a crash):

- claim: CLP03 - CLP04 = sum(claim CAS) + sum(line CAS)
- line: SVC02 - SVC03 = sum(line CAS)
- transaction: BPR02 = sum(CLP04) - sum(PLB amounts) (PLB positive reduces the payment; BPR03 D
  means the provider owes, so the total counts negative)

Problems name segment positions, claim ids (CLP01, our claim id), codes and amounts only; the
models keep patient names for posting but their ``repr`` hides them and nothing here logs them.

Money is :class:`decimal.Decimal` everywhere. Dates are kept as the X12 ``CCYYMMDD`` strings so a
payer's odd date (the sample with BPR16 = 20002316) is kept as sent rather than lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import chain
from typing import Any, TextIO

from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.envelope import EnvelopeChecker, FunctionalGroup, Interchange
from medbill.x12.tokenizer import Delimiters, iter_raw_batches

__all__ = [
    "IMPLEMENTATION_GUIDE",
    "Adjustment",
    "ClaimPayment",
    "Contact",
    "Party",
    "Payment",
    "PersonName",
    "ProviderAdjustment",
    "Reference",
    "RemittanceReader",
    "ServiceLine",
    "parse_835",
    "read_835",
    "write_835",
]

IMPLEMENTATION_GUIDE = "005010X221A1"
ZERO = Decimal("0")
_CLAIM_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})


def money(value: Decimal) -> str:
    """Two-decimal text for reports and JSON."""
    return f"{value:.2f}"


# --------------------------------------------------------------------------------------------------
# models


@dataclass(slots=True)
class Reference:
    qualifier: str  # REF01
    value: str  # REF02


@dataclass(slots=True)
class Contact:
    function: str  # PER01: CX business, BL technical, IC web site
    name: str = ""  # PER02
    communications: list[tuple[str, str]] = field(default_factory=list)  # (qualifier, number) pairs


@dataclass(slots=True)
class Party:
    """An N1 loop (1000A payer N1*PR, 1000B payee N1*PE)."""

    entity: str  # N101
    name: str = ""  # N102
    id_qualifier: str = ""  # N103: XX NPI, FI TIN, XV plan id, ...
    id: str = ""  # N104
    address: list[str] = field(default_factory=list)  # N301, N302
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    references: list[Reference] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    @property
    def npi(self) -> str | None:
        return self.id if self.id_qualifier == "XX" else None

    @property
    def tin(self) -> str | None:
        """Federal tax id: N104 when N103 = FI, else REF*TJ."""
        return self.id if self.id_qualifier == "FI" else self.reference("TJ")


@dataclass(slots=True)
class PersonName:
    """NM1 in loop 2100: QC patient, IL insured, 74 corrected insured, 82 rendering provider, ..."""

    entity: str  # NM101
    entity_type: str = "1"  # NM102: 1 person, 2 non-person
    last: str = field(default="", repr=False)  # names are PHI: hidden from repr
    first: str = field(default="", repr=False)
    middle: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    id_qualifier: str = ""  # NM108: MI member id, HN, XX NPI, ...
    id: str = field(default="", repr=False)  # NM109 (member id is PHI)


@dataclass(slots=True)
class Adjustment:
    """One CAS reason/amount/quantity triple with its group (CO, PR, OA, PI, CR)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(slots=True)
class ServiceLine:
    """Loop 2110: SVC with its DTM, CAS, REF, AMT, QTY, LQ."""

    procedure_qualifier: str  # SVC01-1: HC, AD, ER, IV, N4, NU, WK, ...
    procedure_code: str  # SVC01-2
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    modifiers: list[str] = field(default_factory=list)  # SVC01-3..6
    description: str = ""  # SVC01-7
    revenue_code: str = ""  # SVC04
    units: Decimal | None = None  # SVC05 (absent means 1)
    original_procedure: list[str] = field(default_factory=list)  # SVC06 components, when bundled/changed
    original_units: Decimal | None = None  # SVC07
    dates: dict[str, str] = field(default_factory=dict)  # DTM qualifier -> CCYYMMDD (472, 150, 151)
    adjustments: list[Adjustment] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)  # REF*6R line control number, 6B, ...
    amounts: dict[str, Decimal] = field(default_factory=dict)  # AMT qualifier -> amount (B6 allowed)
    quantities: dict[str, Decimal] = field(default_factory=dict)
    remarks: list[tuple[str, str]] = field(default_factory=list)  # LQ (HE|RX, code)
    position: int = field(default=0, compare=False)
    unreadable_amounts: int = field(default=0, compare=False)  # SVC02/SVC03/CAS amounts that are not numbers

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    @property
    def control_number(self) -> str | None:
        """REF*6R: our line item control number (from 837 REF*6R)."""
        return self.reference("6R")

    @property
    def allowed(self) -> Decimal | None:
        return self.amounts.get("B6")

    @property
    def service_date(self) -> str | None:
        return self.dates.get("472") or self.dates.get("150")


@dataclass(slots=True)
class ClaimPayment:
    """Loop 2100 (CLP) with its service lines."""

    claim_id: str  # CLP01 patient control number = our claim id
    status_code: str  # CLP02: 1,2,3,4,19,20,21,22,23,25
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None = None  # CLP05
    filing_indicator: str = ""  # CLP06: MC, MB, 12, 13, 16, ...
    payer_claim_control_number: str = ""  # CLP07
    facility_code: str = ""  # CLP08 (place of service for professional claims)
    frequency_code: str = ""  # CLP09
    drg_code: str = ""  # CLP11
    header_number: str | None = None  # LX01 of the 2000 loop the claim is in
    adjustments: list[Adjustment] = field(default_factory=list)
    names: list[PersonName] = field(default_factory=list)
    inpatient: list[str] = field(default_factory=list)  # MIA elements, as sent
    outpatient: list[str] = field(default_factory=list)  # MOA elements, as sent
    references: list[Reference] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)  # 232/233 statement, 050 received, 036, ...
    amounts: dict[str, Decimal] = field(default_factory=dict)  # AMT AU covered, DY, F5 patient paid, ...
    quantities: dict[str, Decimal] = field(default_factory=dict)
    lines: list[ServiceLine] = field(default_factory=list)
    position: int = field(default=0, compare=False)
    problems: list[str] = field(default_factory=list, compare=False)
    unbalanced_count: int = field(default=0, compare=False)
    # CLP03/CLP04, SVC02/SVC03 or CAS amounts (its lines' included) that are not numbers: read as
    # 0.00 or left out, so the claim is never reported balanced.
    unreadable_amounts: int = field(default=0, compare=False)

    @property
    def balanced(self) -> bool:
        """CLP03 - CLP04 equals the claim and line adjustments, every line balances, every amount was read."""
        return self.unbalanced_count == 0

    def name(self, entity: str) -> PersonName | None:
        return next((n for n in self.names if n.entity == entity), None)

    @property
    def patient(self) -> PersonName | None:
        return self.name("QC")

    @property
    def insured(self) -> PersonName | None:
        return self.name("IL")

    @property
    def corrected_insured(self) -> PersonName | None:
        return self.name("74")

    @property
    def rendering_provider(self) -> PersonName | None:
        return self.name("82")

    @property
    def remark_codes(self) -> list[str]:
        """Claim-level RARCs from MIA05, MIA20-23 and MOA03-07."""
        mia = [self.inpatient[i] for i in (4, 19, 20, 21, 22) if i < len(self.inpatient)]
        moa = self.outpatient[2:7]
        return [c for c in (*mia, *moa) if c]

    @property
    def all_adjustments(self) -> list[Adjustment]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"


@dataclass(slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair. Positive amounts reduce the payment (e.g. WO overpayment recovery)."""

    provider_id: str  # PLB01
    fiscal_period_date: str  # PLB02 CCYYMMDD
    reason: str  # PLB03-1: WO, L6, FB, 72, CS, J1, CV, ...
    amount: Decimal
    reference: str = ""  # PLB03-2
    position: int = field(default=0, compare=False)


@dataclass(slots=True)
class Payment:
    """One 835 transaction (ST..SE): the payment header, its claims and the provider adjustments.

    While streaming, ``claims`` stays empty and :meth:`iter_claims` hands claims out as they are
    read; ``provider_adjustments``, ``problems`` and ``balanced`` are final once iteration is done.
    """

    total_paid: Decimal  # BPR02
    handling_code: str = "I"  # BPR01: I remittance+payment, H notification only, C payment+advice, ...
    credit_debit: str = "C"  # BPR03
    payment_method: str = "CHK"  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_format: str = ""  # BPR05: CCP, CTX
    bank_details: list[str] = field(default_factory=list)  # BPR06..BPR15, as sent
    payment_date: str = ""  # BPR16 CCYYMMDD
    trace_type: str = "1"  # TRN01
    trace_number: str = ""  # TRN02 check or EFT trace number
    payer_identifier: str = ""  # TRN03
    originating_company_supplemental: str = ""  # TRN04
    currency: str = ""  # CUR02
    production_date: str = ""  # DTM*405
    references: list[Reference] = field(default_factory=list)  # header REF (EV receiver, F2 version)
    payer: Party = field(default_factory=lambda: Party("PR"))
    payee: Party = field(default_factory=lambda: Party("PE"))
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    control_number: str = ""  # ST02
    version: str = field(default=IMPLEMENTATION_GUIDE, compare=False)  # GS08 / ST03
    claim_count: int = field(default=0, compare=False)
    claims_paid_total: Decimal = field(default=ZERO, compare=False)  # running sum(CLP04)
    position: int = field(default=0, compare=False)  # of ST
    bpr_position: int = field(default=0, compare=False)
    problems: list[str] = field(default_factory=list, compare=False)
    unbalanced_count: int = field(default=0, compare=False)  # balancing problems among ``problems``
    unreadable_amounts: int = field(default=0, compare=False)  # BPR02, CLP04 or PLB amounts that are not numbers
    interchange: Interchange | None = field(default=None, compare=False, repr=False)
    group: FunctionalGroup | None = field(default=None, compare=False, repr=False)
    _stream: Iterator[tuple[str, Any]] | None = field(default=None, compare=False, repr=False)

    @property
    def balanced(self) -> bool:
        """Every claim, line and the transaction total balance (structure problems aside)."""
        return self.unbalanced_count == 0

    @property
    def valid(self) -> bool:
        """Balanced and no structure problem either."""
        return not self.problems

    @property
    def provider_adjustment_total(self) -> Decimal:
        return sum((a.amount for a in self.provider_adjustments), ZERO)

    @property
    def signed_total(self) -> Decimal:
        return -self.total_paid if self.credit_debit == "D" else self.total_paid

    def iter_claims(self) -> Iterator[ClaimPayment]:
        """Claims of this payment: streamed from the file while reading, else from ``claims``."""
        stream = self._stream
        if stream is None:
            yield from self.claims
            return
        for kind, obj in stream:
            if kind == "claim":
                yield obj
            else:  # "end": trailer read, totals and problems are final
                self._stream = None
                return
        self._stream = None

    def drain(self) -> None:
        """Read (and drop) the claims not yet consumed so the totals and problems are final."""
        for _ in self.iter_claims():
            pass


# --------------------------------------------------------------------------------------------------
# reading


def _num(value: str, sid: str, n: int) -> Decimal | None:
    """Element XXnn as a Decimal, None when empty; :class:`X12NumberError` unless strictly X12 R."""
    if not value:
        return None
    number = parse_r(value)  # Decimal() alone would take '8E2', '8_00', 'NaN', 'Infinity'
    if number is None:
        raise X12NumberError(f"{sid}{n:02d}", value)
    return number


def _amount(value: str, sid: str, n: int, bad: list[str]) -> Decimal | None:
    """Like :func:`_num`, but a bad number is described in ``bad`` and read as None (the segment is kept)."""
    try:
        return _num(value, sid, n)
    except X12NumberError as err:
        bad.append(str(err))
        return None


class RemittanceReader:
    """Streaming 835 reader over a string, a text file or an iterable of text chunks.

    ``problems`` collects envelope problems that belong to no transaction (GE/IEA counts, segments
    outside ST..SE, non-835 transactions); it is complete once :meth:`payments` is exhausted.
    """

    def __init__(self, source: str | TextIO | Iterable[str]) -> None:
        self._source = source
        self.checker = EnvelopeChecker()
        self.problems: list[str] = []
        self.segment_count = 0

    def payments(self) -> Iterator[Payment]:
        events = _events(self._source, self)
        for kind, obj in events:
            if kind == "payment":
                obj._stream = events
                yield obj
                obj.drain()  # the consumer may not have read the claims: skip past them


def read_835(source: str | TextIO | Iterable[str]) -> Iterator[Payment]:
    """Stream the payments (transactions) of an 835; see :class:`RemittanceReader`."""
    return RemittanceReader(source).payments()


def parse_835(source: str | TextIO | Iterable[str]) -> list[Payment]:
    """Read a (small) 835 completely: every payment with its ``claims`` list filled in.

    Envelope problems outside any transaction are appended to the last payment's problems (or
    raised as an empty result: an 835 with no ST has nothing to post).
    """
    reader = RemittanceReader(source)
    out: list[Payment] = []
    for payment in reader.payments():
        payment.claims = list(payment.iter_claims())
        out.append(payment)
    if out and reader.problems:
        out[-1].problems.extend(reader.problems)
    return out


_PLB_SLOTS = range(3, 15, 2)  # PLB03/05/07/09/11/13: reason:reference composites


def _cas(parts: list[str]) -> list[Adjustment] | None:
    """The adjustments of one CAS; None when an amount or quantity is missing or not a number (then
    :func:`_cas_checked` says which). The fast path: CAS is the most frequent segment with amounts."""
    group = parts[1] if len(parts) > 1 else ""
    n = len(parts)
    out = []
    for i in range(2, min(n, 20), 3):  # up to six reason/amount/quantity triples
        reason = parts[i]
        if reason:
            amount = parse_r(parts[i + 1]) if i + 1 < n else None
            qty = None
            if i + 2 < n and parts[i + 2]:
                qty = parse_r(parts[i + 2])
                if qty is None:
                    return None
            if amount is None:
                return None
            out.append(Adjustment(group, reason, amount, qty))
    return out


def _cas_checked(parts: list[str], bad_amounts: list[str], bad_other: list[str]) -> list[Adjustment]:
    """The adjustments of one CAS. An amount that is missing or not a number leaves its adjustment out
    and is described in ``bad_amounts`` (the claim cannot balance); a bad quantity in ``bad_other``."""
    group = parts[1] if len(parts) > 1 else ""
    n = len(parts)
    out = []
    for i in range(2, min(n, 20), 3):  # up to six reason/amount/quantity triples
        reason = parts[i]
        if reason:
            amount = _amount(parts[i + 1] if i + 1 < n else "", "CAS", i + 1, bad_amounts)
            if amount is None:
                if i + 1 >= n or not parts[i + 1]:
                    bad_amounts.append(f"CAS{i + 1:02d} amount for reason {reason} is missing")
                continue
            qty = _amount(parts[i + 2], "CAS", i + 2, bad_other) if i + 2 < n else None
            out.append(Adjustment(group, reason, amount, qty))
    return out


def _events(source: str | TextIO | Iterable[str], reader: RemittanceReader) -> Iterator[tuple[str, Any]]:
    """The parser: yields ("payment", Payment) when a header is complete, ("claim", ClaimPayment)
    when a claim is complete and ("end", Payment) at SE. One pass, one claim held at a time."""
    checker = reader.checker
    payment: Payment | None = None
    announced = False
    claim: ClaimPayment | None = None
    line: ServiceLine | None = None
    party: Party | None = None
    lx: str | None = None
    skip = False  # inside a non-835 transaction
    position = 0
    comp = ":"

    current = [Delimiters()]  # delimiters of the batch being read (an ISA is a batch of its own)

    def batches() -> Iterator[list[list[str]]]:
        for batch, batch_delims in iter_raw_batches(source):
            current[0] = batch_delims
            yield batch

    # chain + enumerate run in C: no Python-level generator step per segment
    for position, parts in enumerate(chain.from_iterable(batches()), 1):
        sid = parts[0]
        try:
            if payment is None or skip:
                # outside an 835 transaction: only the envelope matters
                if sid in ("ISA", "GS", "ST", "SE", "GE", "IEA"):
                    checker.feed(parts, position, current[0])
                    if sid == "ISA":
                        comp = current[0].component
                    elif sid == "ST":
                        if len(parts) > 1 and parts[1] == "835":
                            skip = False
                            payment = Payment(ZERO, control_number=parts[2] if len(parts) > 2 else "")
                            payment.position = position
                            payment.interchange = checker.interchanges[-1] if checker.interchanges else None
                            payment.group = checker._gs
                            gs_version = checker._gs.version if checker._gs else ""
                            payment.version = (parts[3] if len(parts) > 3 and parts[3] else "") or gs_version
                            if payment.version != IMPLEMENTATION_GUIDE:
                                payment.problems.append(
                                    f"ST at segment {position}: implementation guide "
                                    f"{payment.version or '(none)'} is not {IMPLEMENTATION_GUIDE}."
                                )
                            announced = False
                            claim = line = party = None
                            lx = None
                        else:
                            skip = True
                            set_id = parts[1] if len(parts) > 1 else ""
                            reader.problems.append(
                                f"ST at segment {position}: transaction set {set_id or '(empty)'} is not an "
                                "835; skipped."
                            )
                    elif sid == "SE":
                        skip = False
                elif not skip:
                    checker.outside(sid, position)
                continue

            # ---- inside an 835 transaction: most frequent segments first ----
            if sid == "SVC":
                if claim is None:
                    payment.problems.append(f"SVC at segment {position}: service line outside a claim (no CLP).")
                    line = None
                    continue
                if len(parts) < 8:
                    parts = parts + [""] * (8 - len(parts))
                proc = parts[1].split(comp)
                charge = parse_r(parts[2])
                paid = parse_r(parts[3]) if parts[3] else ZERO
                line = ServiceLine(
                    proc[0],
                    proc[1] if len(proc) > 1 else "",
                    ZERO if charge is None else charge,
                    ZERO if paid is None else paid,
                )
                line.position = position
                if charge is None or paid is None:
                    _unreadable_line(parts, position, claim, line)
                if len(proc) > 2:
                    line.modifiers = [m for m in proc[2:6] if m]
                    if len(proc) > 6:
                        line.description = proc[6]
                if parts[4]:
                    line.revenue_code = parts[4]
                if parts[5]:
                    line.units = parse_r(parts[5])
                    if line.units is None:
                        _unreadable_quantity(parts, 5, position, claim)
                if parts[6]:
                    line.original_procedure = parts[6].split(comp)
                if parts[7]:
                    line.original_units = parse_r(parts[7])
                    if line.original_units is None:
                        _unreadable_quantity(parts, 7, position, claim)
                claim.lines.append(line)
            elif sid == "CAS":
                target = line if line is not None else claim
                if target is None or claim is None:
                    payment.problems.append(f"CAS at segment {position}: adjustment outside a claim.")
                elif (adjustments := _cas(parts)) is not None:
                    target.adjustments.extend(adjustments)
                else:
                    bad_amounts: list[str] = []
                    bad_other: list[str] = []
                    target.adjustments.extend(_cas_checked(parts, bad_amounts, bad_other))
                    if bad_amounts:
                        target.unreadable_amounts += len(bad_amounts)
                        if target is not claim:
                            claim.unreadable_amounts += len(bad_amounts)
                        claim.unbalanced_count += len(bad_amounts)
                        claim.problems.extend(
                            f"CAS at segment {position} (claim {claim.claim_id}): {b}; the claim cannot be balanced."
                            for b in bad_amounts
                        )
                    claim.problems.extend(
                        f"CAS at segment {position} (claim {claim.claim_id}): {b}." for b in bad_other
                    )
            elif sid == "DTM":
                if len(parts) < 3:
                    payment.problems.append(f"DTM at segment {position}: missing DTM01 or DTM02.")
                    continue
                target_dates = line.dates if line is not None else claim.dates if claim is not None else None
                if target_dates is not None:
                    target_dates[parts[1]] = parts[2]
                elif parts[1] == "405":
                    payment.production_date = parts[2]
            elif sid == "REF":
                ref = Reference(parts[1], parts[2] if len(parts) > 2 else "")
                if line is not None:
                    line.references.append(ref)
                elif claim is not None:
                    claim.references.append(ref)
                elif party is not None:
                    party.references.append(ref)
                else:
                    payment.references.append(ref)
            elif sid == "AMT":
                amt = parse_r(parts[2])
                if amt is None:
                    raise X12NumberError("AMT02", parts[2])
                if line is not None:
                    line.amounts[parts[1]] = amt
                elif claim is not None:
                    claim.amounts[parts[1]] = amt
            elif sid == "CLP":
                if claim is not None:
                    _finish_claim(claim, payment)
                    yield "claim", claim
                elif not announced:
                    announced = True
                    yield "payment", payment
                claim = line = party = None
                if len(parts) < 13:
                    parts = parts + [""] * (13 - len(parts))
                charge = parse_r(parts[3]) if parts[3] else ZERO
                paid = parse_r(parts[4]) if parts[4] else ZERO
                responsibility = parse_r(parts[5]) if parts[5] else None
                bad: list[str] = []
                if charge is None or paid is None or (responsibility is None and parts[5]):
                    _amount(parts[3], "CLP", 3, bad)
                    _amount(parts[4], "CLP", 4, bad)
                unreadable = len(bad)
                if responsibility is None and parts[5]:
                    _amount(parts[5], "CLP", 5, bad)
                claim = ClaimPayment(
                    parts[1],
                    parts[2],
                    ZERO if charge is None else charge,
                    ZERO if paid is None else paid,
                    responsibility,
                    parts[6],
                    parts[7],
                    parts[8],
                    parts[9],
                    parts[11],
                    lx,
                )
                claim.position = position
                if bad:
                    # Kept with the amount read as 0.00: its lines and adjustments still belong to it.
                    where = f"CLP at segment {position} (claim {claim.claim_id})"
                    claim.problems.extend(
                        f"{where}: {b}; the claim cannot be balanced." if k < unreadable else f"{where}: {b}."
                        for k, b in enumerate(bad)
                    )
                    # CLP05 is outside the balancing but still money: posting must not read it as 0.00.
                    claim.unreadable_amounts += len(bad)
                    claim.unbalanced_count += unreadable
                    if paid is None and parts[4]:
                        payment.unreadable_amounts += 1  # CLP04 unknown: BPR02 cannot be checked either
                if not parts[3] or not parts[4]:
                    # keep the claim (its id and status still matter) but say what is missing
                    claim.problems.append(
                        f"CLP at segment {position} (claim {claim.claim_id}): CLP03 charge and CLP04 paid "
                        "are mandatory; missing ones are read as 0.00."
                    )
                if claim.status_code not in _CLAIM_STATUSES:
                    claim.problems.append(
                        f"CLP at segment {position} (claim {claim.claim_id}): CLP02 status "
                        f"{claim.status_code or '(empty)'} is not a valid claim status code."
                    )
            elif sid == "NM1":
                if claim is not None:
                    if len(parts) < 10:
                        parts = parts + [""] * (10 - len(parts))
                    claim.names.append(
                        PersonName(parts[1], parts[2], parts[3], parts[4], parts[5], parts[7], parts[8], parts[9])
                    )
            elif sid == "LQ":
                if line is not None:
                    line.remarks.append((parts[1], parts[2] if len(parts) > 2 else ""))
            elif sid == "QTY":
                target_q = line if line is not None else claim
                if target_q is not None and len(parts) > 2:
                    target_q.quantities[parts[1]] = _num(parts[2], "QTY", 2) or ZERO
            elif sid == "LX":
                if claim is not None:
                    _finish_claim(claim, payment)
                    yield "claim", claim
                    claim = None
                elif not announced:
                    announced = True
                    yield "payment", payment
                line = None
                party = None
                lx = parts[1] if len(parts) > 1 else ""
            elif sid == "MOA":
                if claim is not None:
                    claim.outpatient = parts[1:]
            elif sid == "MIA":
                if claim is not None:
                    claim.inpatient = parts[1:]
            elif sid == "PLB":
                if claim is not None:
                    _finish_claim(claim, payment)
                    yield "claim", claim
                    claim = None
                    line = None
                elif not announced:
                    announced = True
                    yield "payment", payment
                _plb(parts, position, comp, payment)
            elif sid == "SE":
                if claim is not None:
                    _finish_claim(claim, payment)
                    yield "claim", claim
                    claim = None
                    line = None
                elif not announced:
                    announced = True
                    yield "payment", payment
                # SE count / control number problems belong to this transaction
                known = len(checker.problems)
                checker.feed(parts, position, current[0])
                payment.problems.extend(checker.problems[known:])
                del checker.problems[known:]
                _finish_payment(payment)
                yield "end", payment
                payment = None
            elif sid == "BPR":
                if len(parts) < 17:
                    parts = parts + [""] * (17 - len(parts))
                payment.handling_code = parts[1]
                payment.bpr_position = position
                bad = []
                total = _amount(parts[2], "BPR", 2, bad)
                if total is not None:
                    payment.total_paid = total
                else:
                    reason = bad[0] if bad else "BPR02 total paid is missing"
                    payment.problems.append(f"BPR at segment {position}: {reason}; the payment cannot be balanced.")
                    payment.unreadable_amounts += 1
                    payment.unbalanced_count += 1
                payment.credit_debit = parts[3]
                payment.payment_method = parts[4]
                payment.payment_format = parts[5]
                payment.bank_details = parts[6:16]
                while payment.bank_details and not payment.bank_details[-1]:
                    payment.bank_details.pop()
                payment.payment_date = parts[16]
            elif sid == "TRN":
                if len(parts) < 5:
                    parts = parts + [""] * (5 - len(parts))
                payment.trace_type, payment.trace_number = parts[1], parts[2]
                payment.payer_identifier, payment.originating_company_supplemental = parts[3], parts[4]
            elif sid == "N1":
                if len(parts) < 5:
                    parts = parts + [""] * (5 - len(parts))
                party = Party(parts[1], parts[2], parts[3], parts[4])
                if parts[1] == "PR":
                    payment.payer = party
                elif parts[1] == "PE":
                    payment.payee = party
            elif sid == "N3":
                if party is not None:
                    party.address = [a for a in parts[1:3] if a]
            elif sid == "N4":
                if party is not None:
                    if len(parts) < 5:
                        parts = parts + [""] * (5 - len(parts))
                    party.city, party.state, party.postal_code, party.country = parts[1:5]
            elif sid == "PER":
                if party is not None and claim is None:
                    comms = [(parts[i], parts[i + 1]) for i in range(3, len(parts) - 1, 2) if parts[i]]
                    party.contacts.append(Contact(parts[1], parts[2] if len(parts) > 2 else "", comms))
            elif sid == "CUR":
                payment.currency = parts[2] if len(parts) > 2 else ""
            elif sid in ("ISA", "GS", "ST", "GE", "IEA"):
                checker.feed(parts, position, current[0])  # reports the missing SE
                if sid == "ST":
                    payment.problems.append(
                        f"ST at segment {position}: a new transaction started before the SE of the one at "
                        f"segment {payment.position}; the new one is not read."
                    )
                    skip = True
                if claim is not None:
                    _finish_claim(claim, payment)
                    yield "claim", claim
                    claim = None
                elif not announced:
                    announced = True
                    yield "payment", payment
                _finish_payment(payment)
                yield "end", payment
                payment = None
            # TS3, TS2, RDM, NTE and other situational segments are not needed for posting.
        except X12NumberError as err:  # AMT, QTY: not used for balancing, the segment is left out
            (payment.problems if payment is not None else reader.problems).append(
                f"{sid} at segment {position}: {err}."
            )
        except IndexError:
            msg = f"{sid} at segment {position}: a mandatory element is missing."
            (payment.problems if payment is not None else reader.problems).append(msg)

    reader.segment_count = position
    if payment is not None:
        if claim is not None:
            _finish_claim(claim, payment)
            yield "claim", claim
        elif not announced:
            yield "payment", payment
        _finish_payment(payment)
        yield "end", payment
    checker.finish(position)
    reader.problems.extend(checker.problems)


def _unreadable_line(parts: list[str], position: int, claim: ClaimPayment, line: ServiceLine) -> None:
    """SVC02 or SVC03 missing or not a number: the line is kept (dropping it would let the claim look
    balanced without it) and neither it nor its claim can balance."""
    bad: list[str] = []
    _amount(parts[2], "SVC", 2, bad)
    _amount(parts[3], "SVC", 3, bad)
    if not parts[2]:
        bad.append("SVC02 line charge is missing")
    where = f"SVC at segment {position} (claim {claim.claim_id}, procedure {line.procedure_code})"
    line.unreadable_amounts += len(bad)
    claim.unreadable_amounts += len(bad)
    claim.unbalanced_count += len(bad)
    claim.problems.extend(f"{where}: {b}; the claim cannot be balanced." for b in bad)


def _unreadable_quantity(parts: list[str], n: int, position: int, claim: ClaimPayment) -> None:
    """SVC05 / SVC07 units that are not a number: a problem, balancing unaffected."""
    claim.problems.append(
        f"SVC at segment {position} (claim {claim.claim_id}): {X12NumberError(f'SVC{n:02d}', parts[n])}."
    )


def _plb(parts: list[str], position: int, comp: str, payment: Payment) -> None:
    if len(parts) < 5:
        payment.problems.append(f"PLB at segment {position}: needs a provider id, a date and one adjustment.")
        return
    provider, fiscal = parts[1], parts[2]
    for i in _PLB_SLOTS:
        if i >= len(parts) or not parts[i]:
            continue
        reason, _, reference = parts[i].partition(comp)
        bad: list[str] = []
        amount = _amount(parts[i + 1] if i + 1 < len(parts) else "", "PLB", i + 1, bad)
        if amount is None:
            what = bad[0] if bad else f"PLB{i + 1:02d} amount for reason {reason} is missing"
            payment.problems.append(f"PLB at segment {position}: {what}; the payment cannot be balanced.")
            payment.unreadable_amounts += 1
            payment.unbalanced_count += 1
            continue
        payment.provider_adjustments.append(ProviderAdjustment(provider, fiscal, reason, amount, reference, position))


def _finish_claim(claim: ClaimPayment, payment: Payment) -> None:
    """Balance one claim and its lines; add its CLP04 to the running payment total."""
    adjusted = ZERO
    for a in claim.adjustments:
        adjusted += a.amount
    for line in claim.lines:
        line_adj = ZERO
        for a in line.adjustments:
            line_adj += a.amount
        adjusted += line_adj
        if line.unreadable_amounts:
            continue  # already a problem; its arithmetic would only add noise
        if line.charge - line.paid != line_adj:
            claim.unbalanced_count += 1
            claim.problems.append(
                f"SVC at segment {line.position} (claim {claim.claim_id}, procedure {line.procedure_code}): "
                f"charge {money(line.charge)} - paid {money(line.paid)} = {money(line.charge - line.paid)} "
                f"but line adjustments sum to {money(line_adj)}"
            )
    diff = claim.charge - claim.paid
    if diff != adjusted and not claim.unreadable_amounts:
        claim.unbalanced_count += 1
        claim.problems.append(
            f"CLP at segment {claim.position} (claim {claim.claim_id}): charge {money(claim.charge)} - paid "
            f"{money(claim.paid)} = {money(diff)} but adjustments sum to {money(adjusted)}"
        )
    payment.claim_count += 1
    payment.claims_paid_total += claim.paid
    if claim.problems:
        payment.problems.extend(claim.problems)
        payment.unbalanced_count += claim.unbalanced_count


def _finish_payment(payment: Payment) -> None:
    if payment.unreadable_amounts:
        return  # BPR02, a CLP04 or a PLB amount was not a number: reported, and not balanced
    plb = payment.provider_adjustment_total
    expected = payment.claims_paid_total - plb
    if payment.signed_total != expected:
        payment.unbalanced_count += 1
        where = (
            f"BPR at segment {payment.bpr_position}" if payment.bpr_position else f"ST at segment {payment.position}"
        )
        payment.problems.append(
            f"{where} (trace {payment.trace_number or '(none)'}): total paid {money(payment.signed_total)} "
            f"but claims paid {money(payment.claims_paid_total)} - provider adjustments {money(plb)} "
            f"= {money(expected)}"
        )


# --------------------------------------------------------------------------------------------------
# writing


def _fmt(value: Decimal) -> str:
    """X12 'R' (decimal) text: no exponent, no superfluous sign."""
    text = format(value, "f")
    return "0" if text in ("-0", "-0.00", "0.00", "-0.0") and value == 0 else text


DEFAULT_DELIMITERS = Delimiters("*", "^", ":", "~")

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


class _Writer:
    """Collects segment texts; refuses values holding a delimiter (X12 has no escaping)."""

    def __init__(self, delimiters: Delimiters) -> None:
        self.d = delimiters
        self.reserved = frozenset(c for c in delimiters if c)
        self.out: list[str] = []

    def seg(self, seg_id: str, *elements: str | list[str]) -> None:
        """Elements are XX01.. in order; a list is a composite (trailing empty components dropped)."""
        reserved = self.reserved
        els: list[str] = []
        for i, e in enumerate(elements, 1):
            if isinstance(e, list):
                comps = list(e)
                while comps and comps[-1] == "":
                    comps.pop()
                for c in comps:
                    if reserved.intersection(c):
                        raise ValueError(f"{seg_id}{i:02d}: a component contains a delimiter; it cannot be written.")
                els.append(self.d.component.join(comps))
            else:
                if reserved.intersection(e):
                    raise ValueError(f"{seg_id}{i:02d} contains a delimiter character; it cannot be written.")
                els.append(e)
        while els and els[-1] == "":
            els.pop()
        self.out.append(self.d.element.join([seg_id, *els]) + self.d.segment)


def _write_cas(w: _Writer, adjustments: list[Adjustment]) -> None:
    # Consecutive adjustments of one group share a CAS, at most six triples each.
    i = 0
    while i < len(adjustments):
        group = adjustments[i].group
        triples: list[str] = []
        while i < len(adjustments) and adjustments[i].group == group and len(triples) < 18:
            a = adjustments[i]
            triples += [a.reason, _fmt(a.amount), _fmt(a.quantity) if a.quantity is not None else ""]
            i += 1
        w.seg("CAS", group, *triples)


def _write_payment(w: _Writer, p: Payment, st_control: str) -> int:
    start = len(w.out)
    # ST03 stays empty: GS08 names the guide, and pyx12's 835 map marks ST03 "not used".
    w.seg("ST", "835", st_control)
    bank = (p.bank_details + [""] * 10)[:10]
    w.seg(
        "BPR",
        p.handling_code,
        _fmt(p.total_paid),
        p.credit_debit,
        p.payment_method,
        p.payment_format,
        *bank,
        p.payment_date,
    )
    w.seg("TRN", p.trace_type, p.trace_number, p.payer_identifier, p.originating_company_supplemental)
    if p.currency:
        w.seg("CUR", "PR", p.currency)
    for r in p.references:
        w.seg("REF", r.qualifier, r.value)
    if p.production_date:
        w.seg("DTM", "405", p.production_date)
    for party in (p.payer, p.payee):
        w.seg("N1", party.entity, party.name, party.id_qualifier, party.id)
        if party.address:
            w.seg("N3", *party.address[:2])
        if party.city or party.state or party.postal_code:
            w.seg("N4", party.city, party.state, party.postal_code, party.country)
        for r in party.references:
            w.seg("REF", r.qualifier, r.value)
        for c in party.contacts:
            w.seg("PER", c.function, c.name, *(x for pair in c.communications[:3] for x in pair))
    last_lx: str | None = None
    for n, claim in enumerate(p.claims):
        lx = claim.header_number if claim.header_number is not None else "1"
        if n == 0 or lx != last_lx:
            w.seg("LX", lx)
            last_lx = lx
        w.seg(
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
            w.seg(
                "NM1",
                nm.entity,
                nm.entity_type,
                nm.last,
                nm.first,
                nm.middle,
                "",
                nm.suffix,
                nm.id_qualifier,
                nm.id,
            )
        if claim.inpatient:
            w.seg("MIA", *claim.inpatient)
        if claim.outpatient:
            w.seg("MOA", *claim.outpatient)
        for r in sorted(claim.references, key=lambda r: _CLAIM_REF_ORDER.get(r.qualifier, 1)):
            w.seg("REF", r.qualifier, r.value)
        for q, d in sorted(claim.dates.items(), key=lambda kv: _CLAIM_DTM_ORDER.get(kv[0], 9)):
            w.seg("DTM", q, d)
        for q, a in claim.amounts.items():
            w.seg("AMT", q, _fmt(a))
        for q, a in claim.quantities.items():
            w.seg("QTY", q, _fmt(a))
        for line in claim.lines:
            mods = (line.modifiers + [""] * 4)[:4]
            w.seg(
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
                w.seg("DTM", q, d)
            _write_cas(w, line.adjustments)
            for r in sorted(line.references, key=lambda r: _LINE_REF_ORDER.get(r.qualifier, 0)):
                w.seg("REF", r.qualifier, r.value)
            for q, a in line.amounts.items():
                w.seg("AMT", q, _fmt(a))
            for q, a in line.quantities.items():
                w.seg("QTY", q, _fmt(a))
            for code_list, code in line.remarks:
                w.seg("LQ", code_list, code)
    # PLB: consecutive adjustments for one provider and fiscal date share a segment, six pairs each.
    adj = p.provider_adjustments
    i = 0
    while i < len(adj):
        key = (adj[i].provider_id, adj[i].fiscal_period_date)
        pairs: list[str | list[str]] = []
        while i < len(adj) and (adj[i].provider_id, adj[i].fiscal_period_date) == key and len(pairs) < 12:
            pa = adj[i]
            pairs += [[pa.reason, pa.reference], _fmt(pa.amount)]
            i += 1
        w.seg("PLB", key[0], key[1], *pairs)
    count = len(w.out) - start + 1
    w.seg("SE", str(count), st_control)
    return count


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

    ``payments`` use the models above with ``claims`` filled in. ST02 is the payment's
    ``control_number`` when set, else a sequence number. ``line_breaks`` puts a newline after
    each segment terminator (readable; still valid X12).
    """
    if not 0 <= interchange_control_number <= 999_999_999:
        raise ValueError("interchange_control_number must fit ISA13 (9 digits)")
    if delimiters.repetition is None:
        raise ValueError("an 00501 interchange needs a repetition separator (ISA11)")
    for name, value, width in (
        ("sender_id", sender_id, 15),
        ("receiver_id", receiver_id, 15),
        ("sender_qualifier", sender_qualifier, 2),
        ("receiver_qualifier", receiver_qualifier, 2),
    ):
        if len(value) > width:  # refused, not cut: a truncated id routes the file to someone else
            raise ValueError(f"{name} is longer than its {width}-character ISA field")
    when = created or datetime(2000, 1, 1)
    gcn = group_control_number if group_control_number is not None else interchange_control_number
    w = _Writer(delimiters)
    e = delimiters.element
    isa = e.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            f"{sender_qualifier:<2}"[:2],
            f"{sender_id:<15}"[:15],
            f"{receiver_qualifier:<2}"[:2],
            f"{receiver_id:<15}"[:15],
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            delimiters.repetition,
            "00501",
            f"{interchange_control_number:09d}",
            "0",
            usage,
            delimiters.component,
        ]
    )
    w.out.append(isa + delimiters.segment)
    w.seg(
        "GS",
        "HP",
        application_sender or sender_id,
        application_receiver or receiver_id,
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        str(gcn),
        "X",
        IMPLEMENTATION_GUIDE,
    )
    n = 0
    for n, p in enumerate(payments, 1):
        _write_payment(w, p, p.control_number or f"{n:04d}")
    w.seg("GE", str(n), str(gcn))
    w.seg("IEA", "1", f"{interchange_control_number:09d}")
    sep = "\n" if line_breaks else ""
    return sep.join(w.out) + sep
