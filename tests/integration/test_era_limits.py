"""Hostile 835 elements against DynamoDB's limits (issue 12): a 450 KB element anywhere in the
payment header, an envelope control number or a claim payment never makes an item pass 400 KB (or
a key pass its limit). On main each raised an uncaught ValidationException and the file went to
the DLQ with no report; now the file is quarantined with a report and problems that name the
element and its length, never its content."""

from __future__ import annotations

import json
from datetime import date

import pytest

from infra.local.provision import LocalResources
from medbill.billing.era import reconciliation, release_era
from medbill.entry import wiring
from testkit.era_builder import era_for
from tests.integration.posting.conftest import CollectingQueue, FakeWorkflow, Posting, make_claim

DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]
BIG = "Q" * 450_000
ITEM_LIMIT = 400 * 1024


@pytest.fixture
def p(aws: LocalResources) -> Posting:
    return Posting(wiring.repository(), CollectingQueue(), FakeWorkflow())


def _hostile(p: Posting, where: str) -> str:
    claim = make_claim(p.repo, "BIG01", dos=DOS, lines=LINES)
    text = era_for([(claim, "paid")], payer_id="PAYERA01", trace="T1")
    swaps = {
        "payer_name": ("N1*PR*TEST PAYER", f"N1*PR*{BIG}"),
        "trace_number": ("TRN*1*T1*", f"TRN*1*{BIG}*"),
        "st02": ("ST*835*0001", f"ST*835*{BIG}"),
        "clp07": ("PCNBIG01", BIG),
    }
    old, new = swaps[where]
    assert old in text
    return text.replace(old, new)


EXPECTED = {
    "payer_name": "N102 payer name is 450000 characters long; X12 allows at most 60",
    "trace_number": "TRN02 trace number is 450000 characters long; X12 allows at most 50",
    "st02": "SE02",  # the envelope check names the SE/ST mismatch; its text is cut
    "clp07": "CLP07 payer claim number: String should have at most 50 characters",
}


@pytest.mark.parametrize("where", sorted(EXPECTED))
def test_a_450_kb_element_quarantines_the_file_with_a_report_and_no_item_over_400_kb(
    p: Posting, aws: LocalResources, where: str
) -> None:
    summary = p.receive("era/big.835", _hostile(p, where))
    assert summary.quarantined and summary.file_error is None
    [era_id] = summary.era_ids
    assert len(era_id) <= 80
    header = p.repo.get_era(era_id)
    assert header is not None and header["era_status"] == "QUARANTINED"
    assert any(EXPECTED[where] in problem for problem in header["problems"])
    assert all(len(problem) <= 340 for problem in header["problems"])
    assert len(json.dumps(header)) < 40_000
    for value in header.values():
        assert BIG[:1000] not in str(value)
    report = json.loads(p.artifacts.read("era-reports/era/big.835.json"))
    assert report["status"] == "QUARANTINED" and len(json.dumps(report)) < 40_000
    assert p.queue.messages == []


def test_a_released_file_with_a_450_kb_clp07_records_that_claim_not_posted(p: Posting, aws: LocalResources) -> None:
    summary = p.receive("era/big.835", _hostile(p, "clp07"))
    [era_id] = summary.era_ids
    release_era(p.repo, p.releases, era_id, "staff:test")
    released = p.receive("era/big.835", _hostile_text_again(p), released=True, upload=False)
    assert released.claims_queued == 0
    rec = reconciliation(p.repo, era_id)
    assert rec is not None
    [row] = rec["claims"]
    assert row["result"] == "not_posted" and row["clp01"] == "BIG01"
    assert len(row["payer_claim_number"]) == 50
    assert rec["not_posted_total"] == "120.00" and rec["reconciled"] is False
    assert len(json.dumps(row)) < ITEM_LIMIT // 100


def _hostile_text_again(p: Posting) -> str:
    return p.artifacts.read("era/big.835").decode()
