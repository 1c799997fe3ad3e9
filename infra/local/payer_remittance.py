"""The payer simulator's 835: one file per payer, one transaction (ST) per payee (billing NPI).

Every CLP balances (CLP03 - CLP04 = its CAS), every SVC too (SVC02 - SVC03 = its CAS), and
BPR02 = sum of CLP04 (no PLB). REF*6R is echoed on each SVC so posting can match lines.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from infra.local.payer_adjudication import ZERO, ClaimResult, charge, units
from medbill.x12.remittance835 import (
    Adjustment,
    ClaimPayment,
    Contact,
    Party,
    Payment,
    PersonName,
    Reference,
    ServiceLine,
    write_835,
)


def payer_claim_number(payer_id: str, claim_id: str) -> str:
    """The payer's claim control number (CLP07, REF*1K in the 277CA): stable per payer and claim."""
    return "SIM" + hashlib.sha256(f"{payer_id}/{claim_id}".encode()).hexdigest()[:14].upper()


def _claim_payment(result: ClaimResult) -> ClaimPayment:
    claim = result.claim
    lines = []
    for r in result.lines:
        svc = ServiceLine(
            "HC",
            r.line.procedure_code,
            charge(r.line),
            r.paid,
            modifiers=list(r.line.modifiers),
            units=units(r.line),
            dates={"472": r.line.service_date} if r.line.service_date else {},
            adjustments=[Adjustment(g, carc, amount) for g, carc, amount in r.adjustments],
            references=[Reference("6R", r.line.control_number)] if r.line.control_number else [],
            amounts={"B6": r.allowed} if not r.denied else {},
            remarks=[("HE", r.remark)] if r.remark else [],
        )
        lines.append(svc)
    patient = claim.patient_name
    return ClaimPayment(
        claim.claim_id,
        result.status_code,
        result.charge,
        result.paid,
        result.patient_responsibility,
        result.rules.filing_indicator,
        payer_claim_number(claim.payer_id, claim.claim_id),
        claim.place_of_service,
        claim.frequency_code or "1",
        header_number="1",
        names=[
            PersonName(
                "QC",
                "1",
                patient.last,
                patient.first,
                id_qualifier="MI" if claim.member_id else "",
                id=claim.member_id,
            )
        ],
        lines=lines,
    )


def _payment(
    results: list[ClaimResult], npi: str, n: int, interchange_control_number: int, created: datetime
) -> Payment:
    """One transaction: the claims of one payee."""
    rules = results[0].rules
    total = sum((c.paid for c in results), ZERO)
    billing = results[0].claim.billing
    billing_name = billing.name.last if billing is not None else ""
    billing_tin = billing.tin if billing is not None else ""
    return Payment(
        total,
        handling_code="I" if total > 0 else "H",  # H: remittance advice only, no money moves
        credit_debit="C",
        payment_method="CHK" if total > 0 else "NON",
        payment_date=created.strftime("%Y%m%d"),
        trace_number=f"{interchange_control_number:09d}{n:03d}",
        payer_identifier="1" + rules.tin,
        production_date=created.strftime("%Y%m%d"),
        payer=Party(
            "PR",
            rules.name,
            "XV",
            rules.payer_id,
            address=["PO BOX 1000"],
            city="SPRINGFIELD",
            state="IL",
            postal_code="62701",
            contacts=[Contact("BL", "EDI SUPPORT", [("TE", "8005550199")])],
        ),
        payee=Party(
            "PE",
            billing_name or "BILLING PROVIDER",
            "XX",
            npi,
            references=[Reference("TJ", billing_tin)] if billing_tin else [],
        ),
        claims=[_claim_payment(c) for c in results],
        control_number=f"{n:04d}",
    )


def build_835(
    results: list[ClaimResult],
    *,
    interchange_control_number: int,
    created: datetime,
    sender_id: str,
    receiver_id: str,
    usage: str,
) -> str:
    """One 835 file for one payer: one transaction (ST) per payee (billing NPI)."""
    by_payee: dict[str, list[ClaimResult]] = {}
    for r in results:
        by_payee.setdefault(r.claim.billing_npi, []).append(r)
    payments = [
        _payment(claims, npi, n, interchange_control_number, created)
        for n, (npi, claims) in enumerate(sorted(by_payee.items()), start=1)
    ]
    return write_835(
        payments,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        application_sender=results[0].rules.payer_id,
        created=created,
        usage=usage,
        line_breaks=True,
    )
