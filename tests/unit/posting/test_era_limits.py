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


def _paid_claim(n: int) -> ClaimPayment:
    line = ServiceLine("HC", "99213", D("100.00"), D("80.00"), adjustments=[Adjustment("CO", "45", D("20.00"))])
    return ClaimPayment(f"C{n:08d}", "1", D("100.00"), D("80.00"), D("0"), "CI", f"PCN{n}", lines=[line])


def test_a_file_over_the_size_limit_is_quarantined_unread(p: Posting, monkeypatch: pytest.MonkeyPatch) -> None:
    """One invocation checks a file whole (decision 39): over MAX_ERA_BYTES it is refused before it is
    read (one chunk, for its id), with a report naming the limit; a redelivery finds the same record."""
    text = era_text([_paid_claim(n) for n in range(40)], [], "BIG1")
    size = len(text.encode())
    monkeypatch.setattr(era_ingestion, "MAX_ERA_BYTES", size - 1)
    p.artifacts.chunk_size = 1024  # type: ignore[attr-defined]
    p.artifacts.write("era/big.835", text.encode())
    summary = era_ingestion.receive_era_file(p.repo, p.artifacts, p.queue, "era/big.835")
    too_big = (
        f"the file is {size:,} bytes, over the ERA limit of {size - 1:,} bytes (MAX_ERA_BYTES: one invocation "
        "checks a file whole); ask the payer or clearinghouse to send it as smaller 835 files"
    )
    assert (summary.quarantined, summary.file_error, summary.claims_queued) == (True, too_big, 0)
    assert p.artifacts.bytes_read == 1024 and p.artifacts.heads == 1  # type: ignore[attr-defined]
    [era_id] = summary.era_ids
    record = p.repo.get_era(era_id)
    assert record is not None
    assert (record["era_status"], record["unreadable"], record["problems"]) == ("QUARANTINED", True, [too_big])
    report = json.loads(p.artifacts.read(summary.report_key))
    assert (report["file_error"], report["status"]) == (too_big, "QUARANTINED")
    assert p.queue.messages == []
    # Again (SQS at least once), the size from the notification this time: no HEAD, the same record.
    again = era_ingestion.receive_era_file(p.repo, p.artifacts, p.queue, "era/big.835", size=size)
    assert again.era_ids == [era_id] and again.file_id == summary.file_id
    assert p.artifacts.heads == 1  # type: ignore[attr-defined]


def test_a_file_at_the_size_limit_is_checked_and_posted(p: Posting, monkeypatch: pytest.MonkeyPatch) -> None:
    text = era_text([_paid_claim(n) for n in range(40)], [], "BIG2")
    monkeypatch.setattr(era_ingestion, "MAX_ERA_BYTES", len(text.encode()))
    summary = p.receive("era/at-limit.835", text)
    assert (summary.quarantined, summary.file_error, summary.claims_queued) == (False, None, 40)
