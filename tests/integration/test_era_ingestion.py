"""ERA (835) ingestion audit findings: each test failed before its fix (the last PLB one guards it).

Claim payments that cannot become posting messages, copies and races for one payment, PLB links by
CLP07, claim payments with no result (pending) and a file that changed after its release."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.adapters.dynamodb.repository import ClaimRepository
from medbill.billing.era import receive_era_file
from medbill.entry import wiring
from testkit.era_builder import era_for
from tests.integration.posting.conftest import CollectingQueue, FakeWorkflow, Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


@pytest.fixture
def p(aws: LocalResources) -> Posting:
    return Posting(wiring.repository(), CollectingQueue(), FakeWorkflow())


ODD = {
    # kind: (field named in the problem, the value that must not be quoted)
    "cas_group": ("claim-level CAS adjustment 1: CAS01 group code", "ZQ"),
    "long_carc": ("claim-level CAS adjustment 1: reason code: String should have at most 5 characters", "A1234X"),
    "empty_procedure": ("SVC01-2 procedure code: String should have at least 1 character", "input_value"),
    "three_decimals": ("CLP04 paid: Decimal input should have no more than 2 decimal places", "80.005"),
    "whole_digits": ("CLP04 paid: Decimal input should have no more than 10 digits", "12345678901"),
}


class _ReadBeforeTheOtherCommitted(ClaimRepository):
    """The first read of the plain ERA id misses a record another delivery has just created."""

    def __init__(self, table: str, era_id: str) -> None:
        super().__init__(table)
        self.hide = era_id

    def get_era(self, era_id: str) -> dict[str, Any] | None:
        if era_id == self.hide:
            self.hide = ""
            return None
        return super().get_era(era_id)


def test_two_files_for_one_payment_at_once_do_not_both_take_its_id(p: Posting, aws: LocalResources) -> None:
    claim = make_claim(p.repo, "RACE01", dos=DOS, lines=LINES)
    a = p.receive("era/race-a.835", era_for([(claim, "paid")], payer_id="PAYERA01", trace="RACE1"))
    [era_id] = a.era_ids
    changed = era_for([(claim, "short_paid")], payer_id="PAYERA01", trace="RACE1")
    wiring.artifacts().write("era/race-b.835", changed.encode())
    racing = _ReadBeforeTheOtherCommitted(aws.claims_table, era_id)

    b = receive_era_file(racing, wiring.artifacts(), p.queue, "era/race-b.835")  # type: ignore[arg-type]

    assert b.era_ids == [f"{era_id}~{b.file_id}"] and b.quarantined and b.claims_queued == 0
    assert any("already received in another file (era/race-a.835)" in x for x in b.problems)
    first = p.repo.get_era(era_id)
    assert first is not None and (first["source_key"], first["file_id"]) == ("era/race-a.835", a.file_id)
    assert first["era_status"] == "POSTING"
