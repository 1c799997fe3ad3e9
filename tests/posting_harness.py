"""The posting tests' world, on any store: claims shaped like an ERA's claims, a posting queue the
test drives, a workflow that records resumes, and helpers that drop an 835 and receive it.

Unit tests build it on tests/fakes.py; integration tests on moto (the DynamoDB and S3 adapters)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from medbill.billing.era import EraFileSummary, receive_era_file
from medbill.billing.posting import PostingResult, post_remittance
from medbill.models.claim import Claim, ClaimLine
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus
from medbill.ports import Artifacts, BillingStore, ClaimStore
from medbill.workflow.intake import new_claim
from medbill.x12.remittance835 import (
    Adjustment,
    ClaimPayment,
    Party,
    Payment,
    ProviderAdjustment,
    Reference,
    ServiceLine,
    write_835,
)
from tests.factories import make_encounter
from tests.fakes import CollectingQueue, FakeArtifacts, FakeStore, FakeWorkflow, ReleaseRequests

D = Decimal
ZERO = D("0.00")


@dataclass
class Posting:
    """One posting world: store, files, queue, workflow fake, release requests."""

    repo: BillingStore
    queue: CollectingQueue = field(default_factory=CollectingQueue)
    workflow: FakeWorkflow = field(default_factory=FakeWorkflow)
    artifacts: Artifacts = field(default_factory=FakeArtifacts)
    releases: Any = field(default_factory=ReleaseRequests)

    def receive(self, key: str, text: str, *, released: bool = False, upload: bool = True) -> EraFileSummary:
        if upload:
            self.artifacts.write(key, text.encode())
        return receive_era_file(self.repo, self.artifacts, self.queue, key, released=released)

    def post(self, remits: Iterable[ClaimRemittance]) -> list[PostingResult]:
        return [post_remittance(self.repo, self.workflow, r) for r in remits]

    def post_queued(self) -> list[PostingResult]:
        return self.post(self.queue.take())

    def ledger(self, claim_id: str) -> list[LedgerEntry]:
        return sorted(self.repo.ledger_entries(claim_id), key=lambda e: e.source)

    def claim(self, claim_id: str) -> Claim:
        return self.repo.get_claim(claim_id)


def in_memory_posting() -> Posting:
    return Posting(FakeStore())


def make_claim(
    repo: ClaimStore,
    claim_id: str,
    *,
    dos: date,
    lines: Sequence[tuple[str, Sequence[str], str]],
    control_numbers: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    status: ClaimStatus = ClaimStatus.AWAITING_REMITTANCE,
    payer_id: str = "PAYERA01",
) -> Claim:
    """A claim with our id `claim_id` (an ERA's CLP01), lines (code, modifiers, charge) and the
    total; created through the store as if the workflow had submitted it."""
    enc = make_encounter(
        encounter_id=f"ENC-{claim_id}".replace(" ", "_"),
        date_of_service=dos.isoformat(),
        coverage={"payer_id": payer_id, "payer_name": "TEST PAYER", "member_id": "M123456"},
    )
    base = new_claim(enc, "encounters/posting-test.json", 1)
    claim_lines = [
        ClaimLine.model_validate(
            {
                "procedure_code": code,
                "modifiers": list(mods),
                "units": (units[n - 1] if units else "1"),
                "diagnosis_pointers": [1],
                "charge": charge,
                "line_number": n,
                "line_control_number": (control_numbers[n - 1] if control_numbers else f"{claim_id}-{n:02d}"),
            }
        )
        for n, (code, mods, charge) in enumerate(lines, start=1)
    ]
    claim = base.model_copy(
        update={
            "claim_id": claim_id,
            "lines": claim_lines,
            "total_charge": sum((line.charge or ZERO for line in claim_lines), ZERO),
            "status": status,
        }
    )
    claim = Claim.model_validate(claim.model_dump())  # what the store reads back must be valid
    assert repo.create_claim(claim)
    return claim


def money(value: str | Decimal) -> Decimal:
    return D(value).quantize(D("0.01"))


def reversal_of(original: ClaimPayment) -> ClaimPayment:
    def neg(adjs: list[Adjustment]) -> list[Adjustment]:
        return [Adjustment(a.group, a.reason, -a.amount) for a in adjs]

    return ClaimPayment(
        claim_id=original.claim_id,
        status_code="22",
        charge=-original.charge,
        paid=-original.paid,
        patient_responsibility=-(original.patient_responsibility or ZERO),
        filing_indicator=original.filing_indicator,
        payer_claim_control_number=original.payer_claim_control_number,
        adjustments=neg(original.adjustments),
        lines=[
            ServiceLine(
                s.procedure_qualifier,
                s.procedure_code,
                -s.charge,
                -s.paid,
                modifiers=list(s.modifiers),
                units=D(-1),
                references=list(s.references),
                dates=dict(s.dates),
                adjustments=neg(s.adjustments),
            )
            for s in original.lines
        ],
    )


def era_text(claims: list[ClaimPayment], plbs: list[ProviderAdjustment], trace: str) -> str:
    total = sum((c.paid for c in claims), ZERO) - sum((p.amount for p in plbs), ZERO)
    payment = Payment(
        total_paid=abs(total),
        handling_code="I",
        credit_debit="D" if total < 0 else "C",
        payment_method="ACH" if total else "NON",
        payment_date="20261120",
        trace_number=trace,
        payer_identifier="1999999999",
        payer=Party("PR", name="PROPERTY PAYER", references=[Reference("2U", "PROPPAY")]),
        payee=Party("PE", name="TEST CLINIC", id_qualifier="XX", id="1234567893"),
        claims=claims,
        provider_adjustments=plbs,
    )
    return write_835(
        [payment],
        sender_id="PROPPAY",
        receiver_id="MEDBILL",
        interchange_control_number=1,
        created=datetime(2026, 11, 20, 9, 0),
    )
