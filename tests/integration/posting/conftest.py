"""Posting fixtures: claims shaped like an ERA's claims, a posting queue the test drives, a fake
workflow gateway, and helpers that drop an 835 into the bucket and receive it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from moto import mock_aws

from infra.local.provision import LocalResources, provision
from infra.local.runtime import MOTO_CONFIG
from medbill.adapters.dynamodb.repository import ClaimRepository
from medbill.billing.era import EraFileSummary, receive_era_file
from medbill.billing.posting import PostingResult, post_remittance
from medbill.entry import wiring
from medbill.models.claim import Claim, ClaimLine
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

D = Decimal
ZERO = D("0.00")


class FakeWorkflow:
    """WorkflowGateway stand-in: records every resume (claims created here carry no token)."""

    def __init__(self) -> None:
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        with self._lock:
            self.resumed.append((task_token, output))
        return True

    def start_claim(self, claim_id: str, clinic_id: str) -> bool:  # pragma: no cover - not used by posting
        raise AssertionError("posting never starts executions")


@dataclass
class CollectingQueue:
    """PostingQueue stand-in that keeps the messages, so the test posts them when and how it likes."""

    messages: list[ClaimRemittance] = field(default_factory=list)
    sends: int = 0

    def send(self, remittances: Sequence[ClaimRemittance]) -> int:
        self.sends += 1
        # Round-trip through JSON exactly as SQS would carry the message.
        self.messages.extend(ClaimRemittance.model_validate_json(r.model_dump_json()) for r in remittances)
        return len(remittances)

    def take(self) -> list[ClaimRemittance]:
        out, self.messages = self.messages, []
        return out


@dataclass
class Posting:
    """One moto account's posting world: repository, store, queue, workflow fake."""

    repo: ClaimRepository
    queue: CollectingQueue
    workflow: FakeWorkflow

    def receive(self, key: str, text: str, *, released: bool = False, upload: bool = True) -> EraFileSummary:
        if upload:
            wiring.artifacts().write(key, text.encode())
        return receive_era_file(self.repo, wiring.artifacts(), self.queue, key, released=released)  # type: ignore[arg-type]

    def post(self, remits: Iterable[ClaimRemittance]) -> list[PostingResult]:
        return [post_remittance(self.repo, self.workflow, r) for r in remits]  # type: ignore[arg-type]

    def post_queued(self) -> list[PostingResult]:
        return self.post(self.queue.take())

    def ledger(self, claim_id: str) -> list[LedgerEntry]:
        return sorted(self.repo.ledger_entries(claim_id), key=lambda e: e.source)

    def claim(self, claim_id: str) -> Claim:
        return self.repo.get_claim(claim_id)


def make_claim(
    repo: ClaimRepository,
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
    total; created through the repository as if the workflow had submitted it."""
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
    claim = Claim.model_validate(claim.model_dump())  # what the repository reads back must be valid
    assert repo.create_claim(claim)
    return claim


@pytest.fixture
def posting(aws: LocalResources) -> Posting:
    return Posting(wiring.repository(), CollectingQueue(), FakeWorkflow())


@pytest.fixture(scope="module")
def shared_aws() -> Iterator[LocalResources]:
    """One moto account for a whole module (property tests use fresh ids per example)."""
    with mock_aws(config=MOTO_CONFIG):
        resources = provision()
        wiring.reset()
        yield resources
        wiring.reset()


@pytest.fixture(scope="module")
def shared_posting(shared_aws: LocalResources) -> Posting:
    return Posting(wiring.repository(), CollectingQueue(), FakeWorkflow())


def money(value: str | Decimal) -> Decimal:
    return D(value).quantize(D("0.01"))
