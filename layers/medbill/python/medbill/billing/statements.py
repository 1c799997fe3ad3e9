"""Patient statements: what a guarantor owes once every payer has adjudicated, monthly, with the
30/60/90-day cadence (billing.statement_render writes the PDF and the print-vendor record).

The guarantor is the encounter's own when the clinic sent one (HL7 GT1, FHIR Account.guarantor),
else the subscriber when the patient is a dependent, else the patient. Statements are per guarantor
account: today the account is the patient id (a subscriber's dependents get one statement each until
registration gives guarantors an id of their own). A statement is one per account per cycle
(YYYY-MM): the store refuses a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from medbill.models.claim import Claim
from medbill.models.common import Address, Model, Money

ZERO = Decimal("0.00")
DUE_IN_DAYS = 25
# Notice by statement number in the account's current run of statements: 1 the first bill, then
# 30, 60 and 90 days past due; after the 90-day final notice no more statements go out and the
# balance goes to a person (write-off review, bad debt).
NOTICES = {1: "statement", 2: "30 days past due", 3: "60 days past due", 4: "90 days past due - final notice"}
FINAL = max(NOTICES)


class Guarantor(Model):
    """Who the statement is addressed to (PHI: only in the PDF and the print-vendor file)."""

    first_name: str = ""
    last_name: str
    address: Address


class StatementLine(Model):
    claim_id: str
    date_of_service: date
    procedure_codes: list[str]
    charge: Money
    insurance_paid: Money
    adjustments: Money  # payer adjustments and staff write-offs of the patient's share
    patient_paid: Money
    balance: Money


class Statement(Model):
    statement_id: str  # <account>-<cycle>
    account: str
    cycle: str  # YYYY-MM
    sequence: int
    notice: str
    statement_date: date
    due_date: date
    clinic_id: str
    billing_provider: str
    guarantor: Guarantor
    lines: list[StatementLine]
    total_due: Money


def guarantor_of(claim: Claim) -> Guarantor:
    enc = claim.encounter
    if enc.guarantor is not None:
        g = enc.guarantor
        return Guarantor(first_name=g.first_name or "", last_name=g.last_name, address=g.address)
    person = enc.subscriber.person if enc.subscriber.relationship != "self" and enc.subscriber.person else enc.patient
    return Guarantor(first_name=person.first_name, last_name=person.last_name, address=person.address)


def account_of(claim: Claim) -> str:
    return claim.patient_id or claim.claim_id


def billable(claim: Claim) -> bool:
    """Every payer has adjudicated and the patient owes something: follow-up routed it to the patient."""
    return claim.follow_up_action == "bill_patient" and claim.patient_balance > ZERO


def statement_line(claim: Claim) -> StatementLine:
    charge = claim.total_charge or ZERO
    return StatementLine(
        claim_id=claim.claim_id,
        date_of_service=claim.encounter.date_of_service,
        procedure_codes=[line.procedure_code for line in claim.lines],
        charge=charge,
        insurance_paid=claim.paid_amount,
        adjustments=claim.adjustment_amount + claim.patient_written_off_amount,
        patient_paid=claim.patient_paid_amount,
        balance=claim.patient_balance,
    )


def cycle_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def build_statement(account: str, claims: Sequence[Claim], today: date, sequence: int) -> Statement:
    """The statement for one account from its billable claims (oldest service first)."""
    ordered = sorted(claims, key=lambda c: (c.encounter.date_of_service, c.claim_id))
    first = ordered[0]
    provider = first.encounter.billing_provider
    name = provider.organization_name or f"{provider.first_name or ''} {provider.last_name or ''}".strip()
    lines = [statement_line(c) for c in ordered]
    cycle = cycle_of(today)
    return Statement(
        statement_id=f"{account}-{cycle}",
        account=account,
        cycle=cycle,
        sequence=sequence,
        notice=NOTICES[min(sequence, FINAL)],
        statement_date=today,
        due_date=today + timedelta(days=DUE_IN_DAYS),
        clinic_id=first.clinic_id,
        billing_provider=name,
        guarantor=guarantor_of(first),
        lines=lines,
        total_due=sum((line.balance for line in lines), ZERO),
    )


def next_sequence(previous: Sequence[object]) -> int:
    """Statement number for the account: one more than the statements it was sent before."""
    return len(previous) + 1
