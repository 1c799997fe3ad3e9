"""The 835 parser's state and its per-segment handlers, loop by loop (header, 1000A/B parties, 2000 LX,
2100 CLP claim, 2110 SVC line, PLB), in one pass holding one claim at a time.

`Parser835.handlers` maps a segment id to the handler for the loop being read: inside an 835
transaction every handled segment has its own; outside one (between transactions, or inside a
transaction that is not an 835) only the envelope matters and `unknown` takes every segment.
A handler that fills in the current loop returns None. One that closes a claim (CLP, LX, PLB, SE,
an envelope segment) is a generator of the events it closes: ("payment", Payment) once the header is
complete, ("claim", ClaimPayment) per claim, ("end", Payment) at SE, in file order. After a handler
that returns events (none, when an ST starts an 835), the reader re-reads `handlers` and `unknown`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.envelope import ENVELOPE_IDS, EnvelopeChecker
from medbill.x12.remittance835.amounts import (
    cas_adjustments,
    cas_adjustments_checked,
    provider_adjustments,
    read_amount,
    read_number,
    unreadable_line,
    unreadable_quantity,
)
from medbill.x12.remittance835.balancing import finish_claim, finish_payment
from medbill.x12.remittance835.models import (
    IMPLEMENTATION_GUIDE,
    ZERO,
    ClaimPayment,
    Contact,
    Party,
    Payment,
    PersonName,
    Reference,
    ServiceLine,
)
from medbill.x12.tokenizer import Delimiters

__all__ = ["Event", "Parser835"]

Event = tuple[str, Any]
Handler = Callable[[list[str], int], Iterable[Event] | None]
_SWITCHED: tuple[Event, ...] = ()  # no event, but the handlers changed

_CLAIM_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})


def _padded(parts: list[str], size: int) -> list[str]:
    return parts + [""] * (size - len(parts)) if len(parts) < size else parts


def _ignore(parts: list[str], position: int) -> None:
    """TS3, TS2, RDM, NTE and other situational segments are not needed for posting."""


class Parser835:
    """One pass over an 835: the payment, claim, line and party being read, and the envelope checks."""

    __slots__ = (
        "_inside",
        "_outside",
        "announced",
        "checker",
        "claim",
        "comp",
        "delimiters",
        "handlers",
        "line",
        "lx",
        "outside_problems",
        "party",
        "payment",
        "skip",
        "unknown",
    )

    def __init__(self, checker: EnvelopeChecker, outside_problems: list[str]) -> None:
        self.checker = checker
        self.outside_problems = outside_problems  # problems that belong to no 835 transaction
        self.delimiters = Delimiters()  # of the batch being read (an ISA is a batch of its own)
        self.comp = ":"
        self.payment: Payment | None = None
        self.announced = False  # ("payment", ...) handed out
        self.claim: ClaimPayment | None = None
        self.line: ServiceLine | None = None
        self.party: Party | None = None
        self.lx: str | None = None  # LX01 of the 2000 loop being read
        self.skip = False  # inside a transaction that is not an 835
        self._inside: dict[str, Handler] = {
            # loop 2110 and 2100 segments first: they are most of any 835
            "SVC": self.svc,
            "CAS": self.cas,
            "DTM": self.dtm,
            "REF": self.ref,
            "AMT": self.amt,
            "CLP": self.clp,
            "NM1": self.nm1,
            "LQ": self.lq,
            "QTY": self.qty,
            "LX": self.lx_header,
            "MOA": self.moa,
            "MIA": self.mia,
            "PLB": self.plb,
            "SE": self.se,
            "BPR": self.bpr,
            "TRN": self.trn,
            "N1": self.n1,
            "N3": self.n3,
            "N4": self.n4,
            "PER": self.per,
            "CUR": self.cur,
            **{sid: self.envelope_inside for sid in ENVELOPE_IDS - {"SE"}},
        }
        self._outside: dict[str, Handler] = {}
        self.handlers: dict[str, Handler] = self._outside
        self.unknown: Handler = self.outside_payment

    def problem(self, message: str) -> None:
        (self.payment.problems if self.payment is not None else self.outside_problems).append(message)

    # ---- outside an 835 transaction: only the envelope matters ----

    def outside_payment(self, parts: list[str], position: int) -> tuple[Event, ...] | None:
        sid = parts[0]
        if sid in ENVELOPE_IDS:
            self.checker.feed(parts, position, self.delimiters)
            if sid == "ISA":
                self.comp = self.delimiters.component
            elif sid == "ST":
                return self._start_transaction(parts, position)
            elif sid == "SE":
                self.skip = False
        elif not self.skip:
            self.checker.outside(sid, position)
        return None

    def _start_transaction(self, parts: list[str], position: int) -> tuple[Event, ...] | None:
        if len(parts) > 1 and parts[1] == "835":
            self.skip = False
            checker = self.checker
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
            self.payment = payment
            self.announced = False
            self.claim = self.line = self.party = None
            self.lx = None
            self.handlers, self.unknown = self._inside, _ignore
            return _SWITCHED
        else:
            self.skip = True
            set_id = parts[1] if len(parts) > 1 else ""
            self.outside_problems.append(
                f"ST at segment {position}: transaction set {set_id or '(empty)'} is not an 835; skipped."
            )
        return None

    # ---- what closes a claim, a payment or both ----

    def _close_claim(self) -> Iterator[Event]:
        """Hand out the claim being read (balanced first), or the payment header before the first claim."""
        payment = self.payment
        assert payment is not None
        claim = self.claim
        if claim is not None:
            finish_claim(claim, payment)
            self.claim = None
            yield "claim", claim
        elif not self.announced:
            self.announced = True
            yield "payment", payment

    def _end_payment(self) -> Iterator[Event]:
        payment = self.payment
        assert payment is not None
        finish_payment(payment)
        yield "end", payment
        self.payment = None
        self.handlers, self.unknown = self._outside, self.outside_payment

    def lx_header(self, parts: list[str], position: int) -> Iterator[Event]:
        """LX: a 2000 header number group starts."""
        yield from self._close_claim()
        self.line = None
        self.party = None
        self.lx = parts[1] if len(parts) > 1 else ""

    def plb(self, parts: list[str], position: int) -> Iterator[Event]:
        """PLB: provider adjustments, after the last claim."""
        yield from self._close_claim()
        self.line = None
        assert self.payment is not None
        provider_adjustments(parts, position, self.comp, self.payment)

    def se(self, parts: list[str], position: int) -> Iterator[Event]:
        yield from self._close_claim()
        self.line = None
        payment = self.payment
        assert payment is not None
        # SE count / control number problems belong to this transaction
        checker = self.checker
        known = len(checker.problems)
        checker.feed(parts, position, self.delimiters)
        payment.problems.extend(checker.problems[known:])
        del checker.problems[known:]
        yield from self._end_payment()

    def envelope_inside(self, parts: list[str], position: int) -> Iterator[Event]:
        """ISA, GS, ST, GE or IEA before this transaction's SE: it ends here (the checker reports the SE missing)."""
        self.checker.feed(parts, position, self.delimiters)
        if parts[0] == "ST":
            assert self.payment is not None
            self.payment.problems.append(
                f"ST at segment {position}: a new transaction started before the SE of the one at "
                f"segment {self.payment.position}; the new one is not read."
            )
            self.skip = True
        yield from self._close_claim()
        yield from self._end_payment()

    def end_of_input(self, position: int) -> Iterator[Event]:
        if self.payment is not None:
            yield from self._close_claim()
            yield from self._end_payment()
        self.checker.finish(position)
        self.outside_problems.extend(self.checker.problems)

    # ---- header: BPR, TRN, CUR; 1000A/B parties: N1, N3, N4, PER ----

    def bpr(self, parts: list[str], position: int) -> None:
        payment = self.payment
        assert payment is not None
        parts = _padded(parts, 17)
        payment.handling_code = parts[1]
        payment.bpr_position = position
        bad: list[str] = []
        total = read_amount(parts[2], "BPR", 2, bad)
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

    def trn(self, parts: list[str], position: int) -> None:
        payment = self.payment
        assert payment is not None
        parts = _padded(parts, 5)
        payment.trace_type, payment.trace_number = parts[1], parts[2]
        payment.payer_identifier, payment.originating_company_supplemental = parts[3], parts[4]

    def cur(self, parts: list[str], position: int) -> None:
        assert self.payment is not None
        self.payment.currency = parts[2] if len(parts) > 2 else ""

    def n1(self, parts: list[str], position: int) -> None:
        payment = self.payment
        assert payment is not None
        parts = _padded(parts, 5)
        party = self.party = Party(parts[1], parts[2], parts[3], parts[4])
        if parts[1] == "PR":
            payment.payer = party
        elif parts[1] == "PE":
            payment.payee = party

    def n3(self, parts: list[str], position: int) -> None:
        if self.party is not None:
            self.party.address = [a for a in parts[1:3] if a]

    def n4(self, parts: list[str], position: int) -> None:
        party = self.party
        if party is not None:
            parts = _padded(parts, 5)
            party.city, party.state, party.postal_code, party.country = parts[1:5]

    def per(self, parts: list[str], position: int) -> None:
        party = self.party
        if party is not None and self.claim is None:
            comms = [(parts[i], parts[i + 1]) for i in range(3, len(parts) - 1, 2) if parts[i]]
            party.contacts.append(Contact(parts[1], parts[2] if len(parts) > 2 else "", comms))

    # ---- 2100 claim: CLP, NM1, MIA, MOA ----

    def clp(self, parts: list[str], position: int) -> Iterator[Event]:
        yield from self._close_claim()
        self.line = self.party = None
        payment = self.payment
        assert payment is not None
        parts = _padded(parts, 13)
        charge = parse_r(parts[3]) if parts[3] else ZERO
        paid = parse_r(parts[4]) if parts[4] else ZERO
        responsibility = parse_r(parts[5]) if parts[5] else None
        bad: list[str] = []
        if charge is None or paid is None or (responsibility is None and parts[5]):
            read_amount(parts[3], "CLP", 3, bad)
            read_amount(parts[4], "CLP", 4, bad)
        unreadable = len(bad)
        if responsibility is None and parts[5]:
            read_amount(parts[5], "CLP", 5, bad)
        claim = self.claim = ClaimPayment(
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
            self.lx,
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
        self._check_claim_header(parts, position, claim)

    @staticmethod
    def _check_claim_header(parts: list[str], position: int, claim: ClaimPayment) -> None:
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

    def nm1(self, parts: list[str], position: int) -> None:
        claim = self.claim
        if claim is not None:
            parts = _padded(parts, 10)
            claim.names.append(
                PersonName(parts[1], parts[2], parts[3], parts[4], parts[5], parts[7], parts[8], parts[9])
            )

    def moa(self, parts: list[str], position: int) -> None:
        if self.claim is not None:
            self.claim.outpatient = parts[1:]

    def mia(self, parts: list[str], position: int) -> None:
        if self.claim is not None:
            self.claim.inpatient = parts[1:]

    # ---- 2110 service line: SVC, LQ; CAS, DTM, REF, AMT, QTY belong to the line, the claim or the header ----

    def svc(self, parts: list[str], position: int) -> None:
        claim = self.claim
        if claim is None:
            self.problem(f"SVC at segment {position}: service line outside a claim (no CLP).")
            self.line = None
            return
        if len(parts) < 8:
            parts = parts + [""] * (8 - len(parts))
        comp = self.comp
        proc = parts[1].split(comp)
        charge = parse_r(parts[2])
        paid = parse_r(parts[3]) if parts[3] else ZERO
        line = self.line = ServiceLine(
            proc[0],
            proc[1] if len(proc) > 1 else "",
            ZERO if charge is None else charge,
            ZERO if paid is None else paid,
        )
        line.position = position
        if charge is None or paid is None:
            unreadable_line(parts, position, claim, line)
        if len(proc) > 2:
            line.modifiers = [m for m in proc[2:6] if m]
            if len(proc) > 6:
                line.description = proc[6]
        if parts[4]:
            line.revenue_code = parts[4]
        if parts[5]:
            line.units = parse_r(parts[5])
            if line.units is None:
                unreadable_quantity(parts, 5, position, claim)
        if parts[6]:
            line.original_procedure = parts[6].split(comp)
        if parts[7]:
            line.original_units = parse_r(parts[7])
            if line.original_units is None:
                unreadable_quantity(parts, 7, position, claim)
        claim.lines.append(line)

    def lq(self, parts: list[str], position: int) -> None:
        if self.line is not None:
            self.line.remarks.append((parts[1], parts[2] if len(parts) > 2 else ""))

    def cas(self, parts: list[str], position: int) -> None:
        claim = self.claim
        target = self.line if self.line is not None else claim
        if target is None or claim is None:
            self.problem(f"CAS at segment {position}: adjustment outside a claim.")
        elif (adjustments := cas_adjustments(parts)) is not None:
            target.adjustments.extend(adjustments)
        else:
            bad_amounts: list[str] = []
            bad_other: list[str] = []
            target.adjustments.extend(cas_adjustments_checked(parts, bad_amounts, bad_other))
            if bad_amounts:
                target.unreadable_amounts += len(bad_amounts)
                if target is not claim:
                    claim.unreadable_amounts += len(bad_amounts)
                claim.unbalanced_count += len(bad_amounts)
                claim.problems.extend(
                    f"CAS at segment {position} (claim {claim.claim_id}): {b}; the claim cannot be balanced."
                    for b in bad_amounts
                )
            claim.problems.extend(f"CAS at segment {position} (claim {claim.claim_id}): {b}." for b in bad_other)

    def dtm(self, parts: list[str], position: int) -> None:
        if len(parts) < 3:
            self.problem(f"DTM at segment {position}: missing DTM01 or DTM02.")
            return
        line, claim = self.line, self.claim
        dates = line.dates if line is not None else claim.dates if claim is not None else None
        if dates is not None:
            dates[parts[1]] = parts[2]
        elif parts[1] == "405":
            assert self.payment is not None
            self.payment.production_date = parts[2]

    def ref(self, parts: list[str], position: int) -> None:
        ref = Reference(parts[1], parts[2] if len(parts) > 2 else "")
        if self.line is not None:
            self.line.references.append(ref)
        elif self.claim is not None:
            self.claim.references.append(ref)
        elif self.party is not None:
            self.party.references.append(ref)
        else:
            assert self.payment is not None
            self.payment.references.append(ref)

    def amt(self, parts: list[str], position: int) -> None:
        amount = parse_r(parts[2])
        if amount is None:
            raise X12NumberError("AMT02", parts[2])
        if self.line is not None:
            self.line.amounts[parts[1]] = amount
        elif self.claim is not None:
            self.claim.amounts[parts[1]] = amount

    def qty(self, parts: list[str], position: int) -> None:
        target = self.line if self.line is not None else self.claim
        if target is not None and len(parts) > 2:
            target.quantities[parts[1]] = read_number(parts[2], "QTY", 2) or ZERO
