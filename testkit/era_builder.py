"""Build 835 remittances for our own claims in tests: paid, short-paid or denied, balanced to the cent."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from medbill.models.claim import Claim
from medbill.x12.remittance835 import Adjustment, ClaimPayment, Party, Payment, Reference, ServiceLine, write_835

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def claim_payment(claim: Claim, outcome: str, *, allowed_pct: Decimal = Decimal("0.80")) -> ClaimPayment:
    lines: list[ServiceLine] = []
    for line in claim.lines:
        charge = line.charge or Decimal(0)
        svc = ServiceLine(
            procedure_qualifier="HC",
            procedure_code=line.procedure_code,
            modifiers=list(line.modifiers),
            charge=charge,
            paid=Decimal("0.00"),
            units=line.units,
            references=[Reference("6R", line.line_control_number)],
            dates={"472": claim.encounter.date_of_service.strftime("%Y%m%d")},
        )
        if outcome == "denied":
            svc.adjustments = [Adjustment("CO", "50", charge)]
        else:
            allowed = _cents(charge * allowed_pct)
            svc.amounts = {"B6": allowed}
            svc.adjustments = [Adjustment("CO", "45", charge - allowed)]
            paid = allowed
            if outcome == "short_paid":
                coinsurance = _cents(allowed * Decimal("0.20"))
                svc.adjustments.append(Adjustment("PR", "2", coinsurance))
                paid = allowed - coinsurance
            svc.paid = paid
        lines.append(svc)
    paid_total = sum((s.paid for s in lines), Decimal("0.00"))
    pr = sum((a.amount for s in lines for a in s.adjustments if a.group == "PR"), Decimal("0.00"))
    return ClaimPayment(
        claim_id=claim.claim_id,
        status_code="4" if outcome == "denied" else "1",
        charge=claim.total_charge or Decimal(0),
        paid=paid_total,
        patient_responsibility=pr,
        filing_indicator="CI",
        payer_claim_control_number=f"PCN{claim.claim_id[-8:]}",
        lines=lines,
    )


def era_for(
    claims_and_outcomes: list[tuple[Claim, str]],
    *,
    payer_id: str,
    trace: str,
    icn: int = 1,
    extra_claims: list[ClaimPayment] | None = None,
    payment_date: str = "20261125",
) -> str:
    claims = [claim_payment(c, o) for c, o in claims_and_outcomes] + list(extra_claims or [])
    total = sum((c.paid for c in claims), Decimal("0.00"))
    payment = Payment(
        total_paid=total,
        handling_code="I",
        credit_debit="C",
        payment_method="ACH" if total else "NON",
        payment_date=payment_date,  # BPR16
        trace_number=trace,
        payer_identifier="1" + payer_id[:9].ljust(9, "0"),
        payer=Party("PR", name="TEST PAYER", references=[Reference("2U", payer_id)]),
        payee=Party("PE", name="TEST CLINIC", id_qualifier="XX", id="1234567893"),
        claims=claims,
    )
    return write_835(
        [payment],
        sender_id=payer_id,
        receiver_id="MEDBILL",
        interchange_control_number=icn,
        created=datetime(2026, 11, 25, 9, 30),
    )
