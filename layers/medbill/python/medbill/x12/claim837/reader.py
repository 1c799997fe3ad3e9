"""The one 837P reader: every claim with the loops it sits in, and the structure checks, in one pass.

`read_submission(text)` is used by `medbill-x12 summary/validate` (through `claim837.summary`), by the
277CA writer (what to acknowledge) and by the payer simulator (what to adjudicate).

Checked while reading, each problem naming its segment position (in file order): a claim outside
an HL 22/23 loop, without a billing provider NPI (2010AA: the NM1*85 of HL 20, never one inside a
claim such as 2330G) or a payer id; a claim without HI or service lines; LX01 out of sequence; an LX
without SV1; a diagnosis pointer naming no diagnosis; CLM02 not the sum of SV102 (exact, no
rounding). CLM02, LX01, SV102, SV104 and SV107 that are not X12 numbers are `number_errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Context, Decimal, localcontext

from medbill.x12.claim837.models import (
    BillingProvider837,
    Claim837,
    LineAdjudication837,
    Name,
    OtherPayer837,
    ServiceLine837,
    Submission837,
    Transaction837,
)
from medbill.x12.datatypes import X12NumberError, n0_int, r_decimal
from medbill.x12.envelope import EnvelopeReader, Transaction
from medbill.x12.tokenizer import Segment, X12SyntaxError

__all__ = ["EXACT", "money", "read_submission"]

# Line charges are X12 R numbers of up to 18 digits, at any scale: '99999999999999999' plus
# '.00000000000000001' needs 34 significant digits, more than the default context's 28.
EXACT = Context(prec=80)


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def _name(seg: Segment) -> Name:
    return Name(seg.get(2), seg.get(3), seg.get(4), seg.get(5), seg.get(8), seg.get(9))


class _ClaimCheck:
    """The claim being read: running line total and LX numbering, for the checks at its end."""

    __slots__ = ("claim", "line_total", "lx_expected", "open_lx")

    def __init__(self, claim: Claim837) -> None:
        self.claim = claim
        self.line_total: Decimal | None = Decimal(0)  # None once a line charge is not a number
        self.lx_expected = 1
        self.open_lx = 0  # position of an LX still waiting for its SV1


class _TransactionReader:
    """One 837 transaction, segment by segment: the HL loop being read and the claim and line in it."""

    __slots__ = (
        "billing",
        "check",
        "claims",
        "handlers",
        "in_billing",
        "in_subscriber",
        "line",
        "other",
        "patient",
        "payer_id",
        "responsibility",
        "sub",
        "subscriber",
        "svd",
    )

    def __init__(self, submission: Submission837) -> None:
        self.sub = submission
        self.claims: list[Claim837] = []
        self.billing: BillingProvider837 | None = None  # 2000A being read
        self.payer_id = ""
        self.subscriber: Name | None = None
        self.patient: Name | None = None
        self.in_subscriber = False  # inside an HL*22 / HL*23 loop, where claims belong
        self.in_billing = False  # inside HL*20 (2000A), whose NM1*85 (2010AA) is the billing provider
        self.check: _ClaimCheck | None = None
        self.line: ServiceLine837 | None = None
        self.responsibility = "P"  # 2000B SBR01
        self.other: OtherPayer837 | None = None  # the 2320 loop being read (another payer)
        self.svd: LineAdjudication837 | None = None  # the 2430 loop being read
        self.handlers: dict[str, Callable[[Segment], None]] = {
            "HL": self.hl,
            "NM1": self.nm1,
            "BHT": self.bht,
            "REF": self.ref,
            "CLM": self.clm,
            "HI": self.hi,
            "LX": self.lx,
            "SV1": self.sv1,
            "DTP": self.dtp,
            "SBR": self.sbr,
            "AMT": self.amt,
            "SVD": self.svd_segment,
            "CAS": self.cas,
        }

    def read(self, segments: list[Segment]) -> None:
        handlers = self.handlers
        for seg in segments:
            handler = handlers.get(seg.id)
            if handler is not None:
                handler(seg)
        self.finish_claim()

    # ---- checks ----

    def where(self, seg: Segment) -> str:
        claim = self.check.claim if self.check is not None else None
        return f"{seg.id} at segment {seg.position}" + (f" (claim {claim.claim_id})" if claim else "")

    def bad_number(self, seg: Segment, err: X12NumberError) -> None:
        self.sub.number_errors.append(X12SyntaxError(f"{self.where(seg)}: {err}.", seg.position))

    def end_line(self, check: _ClaimCheck) -> None:
        if check.open_lx:
            self.sub.problems.append(
                f"LX at segment {check.open_lx} (claim {check.claim.claim_id}): service line without an SV1."
            )
            check.open_lx = 0

    def finish_claim(self) -> None:
        check = self.check
        if check is None:
            return
        self.end_line(check)
        claim = check.claim
        where = f"CLM at segment {claim.position} (claim {claim.claim_id})"
        problems = self.sub.problems
        if not claim.diagnosis_codes:
            problems.append(f"{where}: no diagnosis (HI).")
        if not claim.lines:
            problems.append(f"{where}: no service line (LX/SV1).")
        elif claim.total is not None and check.line_total is not None and claim.total != check.line_total:
            problems.append(
                f"{where}: CLM02 total charge {money(claim.total)} is not "
                f"the sum of its SV102 line charges {money(check.line_total)}."
            )

    # ---- header and HL loops: BHT, HL, NM1, REF ----

    def bht(self, seg: Segment) -> None:
        if not self.sub.reference:
            self.sub.reference = seg.get(3)

    def hl(self, seg: Segment) -> None:
        self.finish_claim()
        level = seg.get(3)
        self.check, self.line, self.other, self.svd = None, None, None, None
        self.in_subscriber = level in ("22", "23")
        self.in_billing = level == "20"
        if level == "20":
            self.billing, self.payer_id = None, ""
        elif level == "22":
            self.subscriber = self.patient = None

    def nm1(self, seg: Segment) -> None:
        entity = seg.get(1)
        in_claim = self.check is not None
        if entity == "85":
            # Only 2010AA names the billing provider: an NM1*85 inside a claim is loop 2330G,
            # another payer's billing provider, and must not leak into the next claim.
            # A new object, never a change: claims already read keep the provider they were read with.
            if self.in_billing:
                self.billing = BillingProvider837(_name(seg), self.billing.tin if self.billing else "")
        elif entity == "PR" and not in_claim:
            self.payer_id = seg.get(9)
        elif entity == "PR" and self.other is not None and self.line is None:
            self.other.payer_id = seg.get(9)
        elif entity == "82" and self.check is not None and self.line is None:
            self.check.claim.rendering_npi = seg.get(9)
        elif entity == "IL" and not in_claim:
            self.subscriber = _name(seg)
        elif entity == "QC" and not in_claim:
            self.patient = _name(seg)
        elif entity == "41" and self.sub.submitter is None:
            self.sub.submitter = _name(seg)
        elif entity == "40" and self.sub.receiver is None:
            self.sub.receiver = _name(seg)

    def ref(self, seg: Segment) -> None:
        qualifier = seg.get(1)
        if self.line is not None:
            if qualifier == "6R":
                self.line.control_number = seg.get(2)
        elif self.other is not None:
            if qualifier == "F8":  # 2330B: the other payer's claim number, not this claim's
                self.other.payer_claim_number = seg.get(2)
        elif self.check is not None:
            if qualifier == "F8":
                self.check.claim.payer_claim_number = seg.get(2)
        elif qualifier == "EI" and self.in_billing and self.billing is not None:
            self.billing = BillingProvider837(self.billing.name, seg.get(2))

    # ---- 2300 claim: CLM, HI ----

    def clm(self, seg: Segment) -> None:
        self.finish_claim()
        self.line = None
        claim = Claim837(
            claim_id=seg.get(1),
            position=seg.position,
            total=None,
            place_of_service=seg.component(5, 1),
            frequency_code=seg.component(5, 3),
            payer_id=self.payer_id,
            billing=self.billing,
            subscriber=self.subscriber,
            patient=self.patient,
            payer_responsibility=self.responsibility,
        )
        self.other = self.svd = None
        self.check = _ClaimCheck(claim)
        self.claims.append(claim)
        try:
            claim.total = r_decimal(seg.get(2), "CLM02")
        except X12NumberError as err:
            self.bad_number(seg, err)
        where = self.where(seg)
        problems = self.sub.problems
        if not self.in_subscriber:
            problems.append(f"{where}: claim outside a subscriber or patient loop (no HL*22 or HL*23).")
        if not claim.billing_npi:
            problems.append(f"{where}: no billing provider NPI (NM1*85 NM109) before the claim.")
        if not self.payer_id:
            problems.append(f"{where}: no payer id (NM1*PR NM109) before the claim.")

    def hi(self, seg: Segment) -> None:
        if self.check is None:
            return
        codes = self.check.claim.diagnosis_codes
        for n in range(1, len(seg) + 1):
            qual, code = seg.component(n, 1), seg.component(n, 2)
            if qual in ("ABK", "ABF", "BK", "BF") and code:
                codes.append(code)

    # ---- 2400 service line: LX, SV1, DTP*472 (REF*6R above) ----

    def lx(self, seg: Segment) -> None:
        check = self.check
        if check is None:
            self.sub.problems.append(f"LX at segment {seg.position}: service line outside a claim (no CLM before it).")
            self.line = None
            return
        self.end_line(check)
        self.other = self.svd = None
        number: int | None = None
        try:
            number = n0_int(seg.get(1), "LX01")
        except X12NumberError as err:
            self.bad_number(seg, err)
        else:
            if number != check.lx_expected:
                self.sub.problems.append(f"{self.where(seg)}: LX01 is {number}, expected {check.lx_expected}.")
        check.lx_expected = (number or check.lx_expected) + 1
        check.open_lx = seg.position
        self.line = ServiceLine837(number, seg.position)
        check.claim.lines.append(self.line)

    def sv1(self, seg: Segment) -> None:
        check, line = self.check, self.line
        if check is None or line is None or not check.open_lx:
            self.sub.problems.append(f"{self.where(seg)}: SV1 without an LX before it.")
            return
        check.open_lx = 0
        comps = seg.components(1)
        line.sv1_position = seg.position
        line.procedure_code = comps[1] if len(comps) > 1 else ""
        line.modifiers = [m for m in comps[2:6] if m]
        line.control_number = None
        try:
            line.charge = r_decimal(seg.get(2), "SV102")
        except X12NumberError as err:
            self.bad_number(seg, err)
        if line.charge is None or check.line_total is None:
            check.line_total = None
        else:
            with localcontext(EXACT):  # 18-digit amounts at different scales: no rounding
                check.line_total += line.charge
        line.units = seg.get(4)
        if line.units:
            try:
                r_decimal(line.units, "SV104")
            except X12NumberError as err:
                self.bad_number(seg, err)
        # SV107: each pointer a whole number naming one of the claim's diagnoses (read so far)
        diagnoses = len(check.claim.diagnosis_codes)
        pointers = line.diagnosis_pointers
        for k, text_pointer in enumerate(seg.components(7), start=1):
            if not text_pointer:
                continue
            try:
                pointer = n0_int(text_pointer, f"SV107-{k}")
            except X12NumberError as err:
                self.bad_number(seg, err)
                continue
            pointers.append(pointer)
            if diagnoses and not 1 <= pointer <= diagnoses:
                self.sub.problems.append(
                    f"{self.where(seg)}: SV107-{k} diagnosis pointer {pointer} names no diagnosis "
                    f"(the claim has {diagnoses})."
                )

    # ---- coordination of benefits: SBR (2000B / 2320), AMT (2320), SVD and CAS (2430) ----

    def sbr(self, seg: Segment) -> None:
        if self.check is None:
            self.responsibility = seg.get(1)
        elif self.line is None:
            self.other = OtherPayer837(seg.get(1))
            self.check.claim.other_payers.append(self.other)

    def amt(self, seg: Segment) -> None:
        other = self.other
        if other is None or self.line is not None or seg.get(1) not in ("D", "EAF"):
            return
        try:
            value = r_decimal(seg.get(2), "AMT02")
        except X12NumberError as err:
            self.bad_number(seg, err)
            return
        if seg.get(1) == "D":
            other.paid = value
        else:
            other.patient_liability = value

    def svd_segment(self, seg: Segment) -> None:
        if self.line is None:
            return
        paid = None
        try:
            paid = r_decimal(seg.get(2), "SVD02")
        except X12NumberError as err:
            self.bad_number(seg, err)
        self.svd = LineAdjudication837(seg.get(1), paid)
        self.line.adjudications.append(self.svd)

    def cas(self, seg: Segment) -> None:
        if self.svd is None or seg.get(1) != "PR":
            return
        for n in range(3, 19, 3):  # CAS03, 06, ... 18: the amounts
            if not seg.get(n):
                continue
            try:
                amount = r_decimal(seg.get(n), f"CAS{n:02d}")
            except X12NumberError as err:
                self.bad_number(seg, err)
                continue
            self.svd.patient_responsibility += amount

    def dtp(self, seg: Segment) -> None:
        if self.line is not None and seg.get(1) == "472":
            dates = seg.get(3).split("-")
            self.line.service_date, self.line.service_date_end = dates[0], dates[-1]


def _read_transaction(submission: Submission837, transaction: Transaction) -> None:
    reading = _TransactionReader(submission)
    reading.read(transaction.segments)
    submission.claims.extend(reading.claims)
    st = transaction.segments[0]
    if not reading.claims:
        submission.problems.append(f"ST at segment {st.position}: no claims in transaction {st.get(2) or '(no ST02)'}.")
    group = transaction.group
    submission.transactions.append(
        Transaction837(
            interchange_control_number=transaction.interchange.control_number if transaction.interchange else "",
            group_control_number=group.control_number if group else "",
            control_number=st.get(2),
            version=transaction.version,
            claim_count=len(reading.claims),
        )
    )


def read_submission(text: str) -> Submission837:
    """Every claim of every 837 transaction in `text`, with the problems and number errors found."""
    reader = EnvelopeReader(text)
    submission = Submission837()
    for transaction in reader.transactions():
        if transaction.set_id != "837":
            st = transaction.segments[0]
            submission.problems.append(
                f"ST at segment {st.position}: transaction set {transaction.set_id} is not an 837."
            )
            continue
        if submission.interchange is None:
            submission.interchange = transaction.interchange
        _read_transaction(submission, transaction)
    submission.envelope_problems = list(reader.problems)
    return submission
