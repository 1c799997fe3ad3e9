"""Reading 835 amounts strictly: an amount that is not an X12 number becomes a problem, never a crash.

An unreadable amount keeps its segment (dropping an SVC would let the rest of the claim balance
without it), reads as 0.00 or is left out, and is counted in ``unreadable_amounts`` so that the claim
or payment it belongs to is never reported balanced.
"""

from __future__ import annotations

from decimal import Decimal

from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.remittance835.models import Adjustment, ClaimPayment, Payment, ProviderAdjustment, ServiceLine


def read_number(value: str, sid: str, n: int) -> Decimal | None:
    """Element XXnn as a Decimal, None when empty; :class:`X12NumberError` unless strictly X12 R."""
    if not value:
        return None
    parsed = parse_r(value)  # Decimal() alone would take '8E2', '8_00', 'NaN', 'Infinity'
    if parsed is None:
        raise X12NumberError(f"{sid}{n:02d}", value)
    return parsed


def read_amount(value: str, sid: str, n: int, bad: list[str]) -> Decimal | None:
    """Like :func:`read_number`, but a bad number is described in ``bad`` and read as None (the segment is kept)."""
    try:
        return read_number(value, sid, n)
    except X12NumberError as err:
        bad.append(str(err))
        return None


_PLB_SLOTS = range(3, 15, 2)  # PLB03/05/07/09/11/13: reason:reference composites


def cas_adjustments(parts: list[str]) -> list[Adjustment] | None:
    """The adjustments of one CAS; None when an amount or quantity is missing or not a number (then
    :func:`cas_adjustments_checked` says which). The fast path: CAS is the most frequent segment with amounts."""
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


def cas_adjustments_checked(parts: list[str], bad_amounts: list[str], bad_other: list[str]) -> list[Adjustment]:
    """The adjustments of one CAS. An amount that is missing or not a number leaves its adjustment out
    and is described in ``bad_amounts`` (the claim cannot balance); a bad quantity in ``bad_other``."""
    group = parts[1] if len(parts) > 1 else ""
    n = len(parts)
    out = []
    for i in range(2, min(n, 20), 3):  # up to six reason/amount/quantity triples
        reason = parts[i]
        if reason:
            amount = read_amount(parts[i + 1] if i + 1 < n else "", "CAS", i + 1, bad_amounts)
            if amount is None:
                if i + 1 >= n or not parts[i + 1]:
                    bad_amounts.append(f"CAS{i + 1:02d} amount for reason {reason} is missing")
                continue
            qty = read_amount(parts[i + 2], "CAS", i + 2, bad_other) if i + 2 < n else None
            out.append(Adjustment(group, reason, amount, qty))
    return out


def unreadable_line(parts: list[str], position: int, claim: ClaimPayment, line: ServiceLine) -> None:
    """SVC02 or SVC03 missing or not a number: the line is kept (dropping it would let the claim look
    balanced without it) and neither it nor its claim can balance."""
    bad: list[str] = []
    read_amount(parts[2], "SVC", 2, bad)
    read_amount(parts[3], "SVC", 3, bad)
    if not parts[2]:
        bad.append("SVC02 line charge is missing")
    where = f"SVC at segment {position} (claim {claim.claim_id}, procedure {line.procedure_code})"
    line.unreadable_amounts += len(bad)
    claim.unreadable_amounts += len(bad)
    claim.unbalanced_count += len(bad)
    claim.problems.extend(f"{where}: {b}; the claim cannot be balanced." for b in bad)


def unreadable_quantity(parts: list[str], n: int, position: int, claim: ClaimPayment) -> None:
    """SVC05 / SVC07 units that are not a number: a problem, balancing unaffected."""
    claim.problems.append(
        f"SVC at segment {position} (claim {claim.claim_id}): {X12NumberError(f'SVC{n:02d}', parts[n])}."
    )


def provider_adjustments(parts: list[str], position: int, comp: str, payment: Payment) -> None:
    if len(parts) < 5:
        payment.problems.append(f"PLB at segment {position}: needs a provider id, a date and one adjustment.")
        return
    provider, fiscal = parts[1], parts[2]
    for i in _PLB_SLOTS:
        if i >= len(parts) or not parts[i]:
            continue
        reason, _, reference = parts[i].partition(comp)
        bad: list[str] = []
        amount = read_amount(parts[i + 1] if i + 1 < len(parts) else "", "PLB", i + 1, bad)
        if amount is None:
            what = bad[0] if bad else f"PLB{i + 1:02d} amount for reason {reason} is missing"
            payment.problems.append(f"PLB at segment {position}: {what}; the payment cannot be balanced.")
            payment.unreadable_amounts += 1
            payment.unbalanced_count += 1
            continue
        payment.provider_adjustments.append(ProviderAdjustment(provider, fiscal, reason, amount, reference, position))
