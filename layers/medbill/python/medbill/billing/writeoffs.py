"""Staff write-offs and adjustments, patient payments and refunds: ledger entries of their own.

They never touch the payers' totals (billing.ledger.claim_totals): the claim keeps what the payers
said (paid, adjustments, patient responsibility) and, beside it, what staff and the patient did
(patient paid, written off against the patient's balance, written off against open payer balances).
So after every action: charge = paid + patient paid + adjustments + patient written off + patient
balance, to the cent, and payer-balance write-offs close open denials without moving money.

Every action names a request id: a retried API call finds its entry and changes nothing. A
write-off or adjustment over the payer's approval threshold waits for a second person's approval
(the manager role is enforced once staff roles exist; until then any other member of staff).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from medbill.billing.adjustment_rules import rule_for
from medbill.billing.claim_updates import with_lock_retry
from medbill.billing.payer_policy import claim_policy
from medbill.models.claim import Claim
from medbill.models.common import Model, Money, utcnow
from medbill.models.remittance import LedgerEntry, StaffBalance
from medbill.ports import AlreadyPosted, ClaimStore

ZERO = Decimal("0.00")
Category = Literal[
    "contractual",
    "non_covered",
    "bundled",
    "timely_filing",
    "small_balance",
    "bad_debt",
    "administrative",
    "charity",
    "courtesy",
    "prompt_pay_discount",
]
RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PositiveMoney = Annotated[Money, Field(gt=0)]


class StaffAdjustmentRequest(Model):
    request_id: RequestId  # idempotency: the same request id is the same action
    amount: PositiveMoney
    category: Category
    balance: StaffBalance  # whose balance it reduces: the patient's, or an open payer balance (a denial)


class PatientMoneyRequest(Model):
    request_id: RequestId
    amount: PositiveMoney


class StaffActionRefused(ValueError):
    """The action would break the claim's balance or an approval rule (ids and amounts only)."""


def _counts(entry: LedgerEntry, approved: set[str]) -> bool:
    return not entry.pending_approval or entry.source in approved


def staff_totals(entries: Sequence[LedgerEntry]) -> dict[str, Decimal]:
    """The claim's staff and patient money from its ledger."""
    approved = {e.approves for e in entries if e.kind == "staff_approval" and e.approves}
    out = {"patient_paid_amount": ZERO, "patient_written_off_amount": ZERO, "payer_written_off_amount": ZERO}
    for e in entries:
        if e.kind == "patient_payment":
            out["patient_paid_amount"] += e.amount
        elif e.kind == "patient_refund":
            out["patient_paid_amount"] -= e.amount
        elif e.kind == "staff_adjustment" and _counts(e, approved):
            key = "patient_written_off_amount" if e.balance == "patient" else "payer_written_off_amount"
            out[key] += e.amount
    return out


def open_payer_balance(claim: Claim) -> Decimal:
    """Payer adjustments someone still has to work (denials, underpayments: not the patient's share,
    not an expected contractual reduction), less what staff wrote off already."""
    work = sum(
        (a.amount for a in claim.adjustments if a.group != "PR" and not rule_for(a.group, a.reason).expected),
        ZERO,
    )
    return max(work, ZERO) - claim.payer_written_off_amount


def _view(claim: Claim, entry: LedgerEntry, *, repeated: bool) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "source": entry.source,
        "kind": entry.kind,
        "amount": f"{entry.amount:.2f}",
        "category": entry.category,
        "balance": entry.balance,
        "pending_approval": entry.pending_approval,
        "repeated": repeated,
        "patient_balance": f"{claim.patient_balance:.2f}",
        "open_payer_balance": f"{open_payer_balance(claim):.2f}",
    }


def _check_room(claim: Claim, balance: StaffBalance | None, amount: Decimal) -> None:
    room = claim.patient_balance if balance == "patient" else open_payer_balance(claim)
    if amount > room:
        raise StaffActionRefused(
            f"claim {claim.claim_id}: {amount:.2f} is more than the open {balance} balance {room:.2f}"
        )


def _post(repo: ClaimStore, claim_id: str, entry: LedgerEntry, check: Any, detail: dict[str, Any]) -> dict[str, Any]:
    """Post `entry` once (by its source), after `check(claim, entries)`, with the claim's staff
    totals recomputed in the same write."""

    def step(claim: Claim) -> dict[str, Any]:
        entries = repo.ledger_entries(claim.claim_id)
        done = next((e for e in entries if e.source == entry.source), None)
        if done is not None:
            if (done.kind, done.amount, done.category, done.balance) != (
                entry.kind,
                entry.amount,
                entry.category,
                entry.balance,
            ):
                raise StaffActionRefused(f"claim {claim.claim_id}: request {entry.source} was made with other values")
            return _view(claim, done, repeated=True)
        check(claim, entries)
        totals = staff_totals([*entries, entry])
        try:
            saved = repo.post_staff_entry(
                claim.model_copy(update=totals), entry, actor=entry.requested_by or "staff", detail=detail
            )
        except AlreadyPosted:
            return step(repo.get_claim(claim.claim_id))
        return _view(saved, entry, repeated=False)

    return with_lock_retry(repo, claim_id, step)


def _now() -> str:
    return utcnow().isoformat()


def adjust(repo: ClaimStore, claim_id: str, request: StaffAdjustmentRequest, actor: str) -> dict[str, Any]:
    """A staff write-off or adjustment against the patient's or an open payer balance."""
    claim = repo.get_claim(claim_id)
    pending = request.amount > claim_policy(claim).write_off_approval_threshold
    entry = LedgerEntry(
        source=f"STAFF#{request.request_id}",
        kind="staff_adjustment",
        era_id="staff",
        posted_at=_now(),
        amount=request.amount,
        balance=request.balance,
        category=request.category,
        requested_by=actor,
        pending_approval=pending,
    )

    def check(current: Claim, entries: list[LedgerEntry]) -> None:
        _check_room(current, request.balance, request.amount)

    detail = {
        "staff_action": "adjustment",
        "amount": f"{request.amount:.2f}",
        "category": request.category,
        "balance": request.balance,
        "pending_approval": pending,
    }
    return _post(repo, claim_id, entry, check, detail)


def approve(repo: ClaimStore, claim_id: str, request_id: str, actor: str) -> dict[str, Any]:
    """A second person approves a pending staff adjustment; it counts from then on."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", request_id):
        raise StaffActionRefused("request id must be 1-64 letters, digits, _ or -")
    source = f"STAFF#{request_id}"
    pending = next((e for e in repo.ledger_entries(claim_id) if e.source == source), None)
    if pending is None or not pending.pending_approval:
        raise StaffActionRefused(f"claim {claim_id}: no staff adjustment {request_id} waits for approval")
    if pending.requested_by == actor:
        raise StaffActionRefused(f"claim {claim_id}: the person who asked for {request_id} cannot approve it")
    entry = LedgerEntry(
        source=f"APPROVE#{request_id}",
        kind="staff_approval",
        era_id="staff",
        posted_at=_now(),
        amount=pending.amount,
        balance=pending.balance,
        category=pending.category,
        requested_by=actor,
        approves=source,
    )

    def check(current: Claim, entries: list[LedgerEntry]) -> None:
        _check_room(current, pending.balance, pending.amount)

    detail = {"staff_action": "approval", "approves": source, "amount": f"{pending.amount:.2f}"}
    return _post(repo, claim_id, entry, check, detail)


def patient_payment(repo: ClaimStore, claim_id: str, request: PatientMoneyRequest, actor: str) -> dict[str, Any]:
    """A patient payment: reduces the patient balance (more than owed leaves a credit to refund)."""
    entry = LedgerEntry(
        source=f"PATPAY#{request.request_id}",
        kind="patient_payment",
        era_id="patient",
        posted_at=_now(),
        amount=request.amount,
        balance="patient",
        requested_by=actor,
    )
    detail = {"staff_action": "patient_payment", "amount": f"{request.amount:.2f}"}
    return _post(repo, claim_id, entry, lambda claim, entries: None, detail)


def patient_refund(repo: ClaimStore, claim_id: str, request: PatientMoneyRequest, actor: str) -> dict[str, Any]:
    """A refund of a patient's credit (never more than the credit)."""
    entry = LedgerEntry(
        source=f"PATREF#{request.request_id}",
        kind="patient_refund",
        era_id="patient",
        posted_at=_now(),
        amount=request.amount,
        balance="patient",
        requested_by=actor,
    )

    def check(current: Claim, entries: list[LedgerEntry]) -> None:
        credit = -current.patient_balance
        if request.amount > credit:
            raise StaffActionRefused(
                f"claim {current.claim_id}: refund {request.amount:.2f} exceeds the credit {credit:.2f}"
            )

    detail = {"staff_action": "patient_refund", "amount": f"{request.amount:.2f}"}
    return _post(repo, claim_id, entry, check, detail)
