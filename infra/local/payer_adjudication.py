"""The payer simulator's adjudication: deterministic, line by line, in Decimal.

  allowed   = billed x allowed_percent (rounded to the cent)           CO-45 = billed - allowed
  copay     = the payer's copay, once per claim, on the first matching E/M line         PR-3
  deductible= up to the payer's deductible, from what the copay left                      PR-1
  coinsurance = coinsurance_percent of what is left after copay and deductible            PR-2
  paid      = allowed - copay - deductible - coinsurance
  denied codes: paid 0, the whole charge under the rule's group + CARC, and LQ*HE*<RARC>.

A secondary or tertiary claim (2000B SBR01 S / T) is adjudicated after the earlier payers, line by
line from their 2430 adjudication: what they left the patient (their PR) is covered, less this
payer's own deductible (PR-1); what they paid and wrote off is OA-23 (impact of prior payer
adjudication); CLP02 is 2 / 3.

Claims are read by the one 837P reader (`medbill.x12.claim837.read_submission`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from infra.local.payer_rules import PayerRules
from medbill.x12.claim837 import Claim837, ServiceLine837, Submission837, read_submission
from medbill.x12.datatypes import parse_r

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def read_adjudicable(text: str) -> Submission837:
    """An 837P with what adjudication needs: every service line with an SV1 whose charge (SV102) and
    units (SV104, 1 when absent) are numbers. Raises ValueError otherwise (the file is not answered)."""
    submission = read_submission(text)
    for claim in submission.claims:
        claim.lines = [line for line in claim.lines if line.sv1_position]  # an LX without SV1 bills nothing
        for line in claim.lines:
            if line.charge is None or (line.units and parse_r(line.units) is None):
                raise ValueError(f"claim {claim.claim_id} line {line.line_number}: SV102 or SV104 is not a number")
    return submission


def read_837p(text: str) -> list[Claim837]:
    """The claims of an 837P, with what adjudication and the 835 need (see `read_adjudicable`)."""
    return read_adjudicable(text).claims


def charge(line: ServiceLine837) -> Decimal:
    """SV102, checked by `read_adjudicable`."""
    if line.charge is None:
        raise ValueError(f"line {line.line_number}: SV102 is not a number")
    return line.charge


def units(line: ServiceLine837) -> Decimal:
    """SV104 (checked by `read_adjudicable`), 1 when absent."""
    if not line.units:
        return Decimal(1)
    value = parse_r(line.units)
    if value is None:
        raise ValueError(f"line {line.line_number}: SV104 is not a number")
    return value


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class LineResult:
    line: ServiceLine837
    allowed: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]]  # (group, CARC, amount)
    remark: str | None = None

    @property
    def denied(self) -> bool:
        return self.paid == 0 and self.remark is not None


SEQUENCE_STATUS = {"P": "1", "S": "2", "T": "3"}  # SBR01 -> CLP02 (processed as primary / secondary / tertiary)


@dataclass
class ClaimResult:
    claim: Claim837
    rules: PayerRules
    lines: list[LineResult]

    @property
    def charge(self) -> Decimal:
        return sum((charge(r.line) for r in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((r.paid for r in self.lines), ZERO)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a for r in self.lines for g, _, a in r.adjustments if g == "PR"), ZERO)

    @property
    def status_code(self) -> str:
        if self.lines and all(r.denied for r in self.lines):
            return "4"
        return SEQUENCE_STATUS.get(self.claim.payer_responsibility, "1")

    @property
    def outcome(self) -> str:
        """paid / short_paid / denied, as the demo names them (short = the patient owes something)."""
        if self.status_code == "4":
            return "denied"
        if any(r.denied for r in self.lines) or self.patient_responsibility > 0:
            return "short_paid"
        return "paid"


def adjudicate(claim: Claim837, rules: PayerRules) -> ClaimResult:
    if claim.payer_responsibility in ("S", "T"):
        return adjudicate_after_prior_payers(claim, rules)
    results: list[LineResult] = []
    copay_left = rules.copay
    deductible_left = rules.deductible
    for line in claim.lines:
        billed = charge(line)
        denial = rules.denials.get(line.procedure_code)
        if denial is not None:
            results.append(LineResult(line, ZERO, ZERO, [(denial.group, denial.carc, billed)], denial.rarc or None))
            continue
        allowed = min(billed, _cents(billed * rules.allowed_percent / HUNDRED))
        adjustments: list[tuple[str, str, Decimal]] = []
        if billed - allowed > 0:
            adjustments.append(("CO", "45", billed - allowed))
        left = allowed
        copay = ZERO
        if copay_left > 0 and rules.copay_applies(line.procedure_code):
            copay = min(copay_left, left)
            copay_left -= copay
            left -= copay
        deductible = min(deductible_left, left)
        deductible_left -= deductible
        left -= deductible
        coinsurance = _cents(left * rules.coinsurance_percent / HUNDRED)
        left -= coinsurance
        for carc, amount in (("1", deductible), ("2", coinsurance), ("3", copay)):
            if amount > 0:
                adjustments.append(("PR", carc, amount))
        results.append(LineResult(line, allowed, left, adjustments))
    return ClaimResult(claim, rules, results)


def adjudicate_after_prior_payers(claim: Claim837, rules: PayerRules) -> ClaimResult:
    """A secondary / tertiary claim: per line, the last earlier payer's patient share (2430 CAS PR) is
    covered less this payer's deductible; everything the earlier payers paid or wrote off is OA-23.
    A line no earlier payer adjudicated (no 2430) is left to a person: the whole charge is OA-23."""
    results: list[LineResult] = []
    deductible_left = rules.deductible
    for line in claim.lines:
        billed = charge(line)
        left_by_prior = line.adjudications[-1].patient_responsibility if line.adjudications else ZERO
        deductible = min(deductible_left, left_by_prior)
        deductible_left -= deductible
        paid = left_by_prior - deductible
        adjustments: list[tuple[str, str, Decimal]] = []
        if billed - left_by_prior:
            adjustments.append(("OA", "23", billed - left_by_prior))
        if deductible > 0:
            adjustments.append(("PR", "1", deductible))
        results.append(LineResult(line, left_by_prior, paid, adjustments))
    return ClaimResult(claim, rules, results)
