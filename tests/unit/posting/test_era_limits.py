"""Size limits on what an 835 puts into the store (billing.era_limits), on the in-memory fakes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from medbill.billing import era_ingestion
from medbill.billing.era_limits import ERA_ID_CHARS, bounded_id, clip, clip_problems
from medbill.x12.remittance835 import Adjustment, ClaimPayment, Reference, ServiceLine
from tests.posting_harness import Posting, era_text

D = Decimal


def test_a_long_era_id_becomes_a_bounded_unique_key() -> None:
    short = "PAYERA01-T1"
    assert bounded_id(short) == short
    a, b = bounded_id("P-" + "A" * 5000), bounded_id("P-" + "A" * 4999 + "B")
    assert len(a) == len(b) == ERA_ID_CHARS and a != b
    assert a.startswith("P-AAAA") and "~H" in a
    assert bounded_id("P-" + "A" * 5000) == a  # deterministic: a redelivery finds the same record


def test_problems_are_cut_and_counted() -> None:
    assert clip("x" * 10) == "x" * 10
    assert clip("x" * 1000) == "x" * 300 + "... (cut: 1000 characters)"
    kept = clip_problems(["p" * 1000] * 150, 100)
    assert len(kept) == 101 and kept[-1] == "... and 50 more problems: see the file's report"
    assert {len(k) for k in kept[:100]} == {len("x" * 300 + "... (cut: 1000 characters)")}


def _huge_claim() -> ClaimPayment:
    """Balanced, legal element by element, but 400 service lines of 6 adjustments each."""
    lines = [
        ServiceLine(
            "HC",
            "99213",
            D("10.00"),
            D("4.00"),
            references=[Reference("6R", f"L{n:04d}")],
            adjustments=[Adjustment("CO", "45", D("1.00"))] * 6,
        )
        for n in range(400)
    ]
    return ClaimPayment("HUGE01", "1", D("4000.00"), D("1600.00"), D("0"), "CI", "PCNHUGE", lines=lines)


def test_a_claim_payment_too_big_for_one_posting_message_quarantines_the_file(p: Posting) -> None:
    summary = p.receive("era/huge.835", era_text([_huge_claim()], [], "HUGE1"))
    assert summary.quarantined
    assert any(
        problem.startswith("claim payment (CLP) at segment ") and "KB as a posting message; at most 64 KB" in problem
        for problem in summary.problems
    )
    assert p.queue.messages == []


def test_the_file_report_keeps_the_first_problems_and_counts_them_all(
    p: Posting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(era_ingestion, "REPORT_PROBLEMS", 2)
    bad = [ClaimPayment(f"BAD{n}", "1", D("10.00"), D("9.00"), D("0"), "CI", f"P{n}") for n in range(5)]  # 1.00 short
    summary = p.receive("era/bad.835", era_text(bad, [], "BAD1"))
    report = json.loads(p.artifacts.read("era-reports/era/bad.835.json"))
    assert summary.quarantined and len(summary.problems) == report["problem_count"] >= 5
    assert len(report["problems"]) == 3
    assert (
        report["problems"][-1]
        == f"... and {report['problem_count'] - 2} more problems: fix the first ones and re-check"
    )
