"""835 balancing, reported and never raised (a billing office must see an unbalanced ERA, not a crash).

- claim: CLP03 - CLP04 = sum(claim CAS) + sum(line CAS)
- line: SVC02 - SVC03 = sum(line CAS)
- transaction: BPR02 = sum(CLP04) - sum(PLB amounts) (a positive PLB reduces the payment; BPR03 D
  means the provider owes, so the total counts negative)

Problems name segment positions, claim ids (CLP01, our claim id), codes and amounts only.
"""

from __future__ import annotations

from medbill.x12.remittance835.models import ZERO, ClaimPayment, Payment, money


def finish_claim(claim: ClaimPayment, payment: Payment) -> None:
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


def finish_payment(payment: Payment) -> None:
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
