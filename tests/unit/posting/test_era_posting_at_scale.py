"""An ERA of thousands of claim payments from the file to every claim's ledger (issue 12), on the
in-memory fakes, with the fan-out in chunks of 400 so the continuation runs many times: the same
run (testkit/era_posting_run.py) that bench/bench_era_posting.py makes with 1,000,000 claims (a
92 MB file, under the 100 MB ERA limit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from medbill.billing import era_fanout
from medbill.models.remittance import ClaimRemittance
from testkit import era_posting_run
from testkit.fakes import CollectingQueue

N = 2503  # 7 chunks of 400 (the last of 103), then the provider-adjustment step
BPR02 = "211492.53"  # 2,503 x 80.00 + the cents: 2 x 4,995.00 (i % 1000 over 0-1999) + 1,262.53 (0-502)
SMALL = 903  # 3 chunks: enough to forget claims between them


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(era_fanout, "CHUNK_CLAIMS", 400)


def test_every_claim_payment_posts_once_and_the_era_reconciles_to_the_cent(tmp_path: Path) -> None:
    result, repo = era_posting_run.run(N, tmp_path, redeliver_every=50)
    assert f"{result.bpr02:.2f}" == BPR02
    assert result.steps == 8  # the check with chunk 1, chunks 2-7, the provider adjustments
    assert (result.posted, result.other_results, result.ledger_entries, result.claims_checked) == (N, {}, N, N)
    assert (result.duplicate_positions, result.mismatch_count, result.mismatches) == (0, 0, [])
    # 8 of each full chunk of 400 (messages 0, 50, .. 350) and 3 of the last 103: each came back
    # already_posted with the claim, its ledger and the ERA's result unchanged.
    assert result.redelivered == result.redelivered_already_posted == 6 * 8 + 3
    rec = result.reconciliation
    assert (rec["era_status"], rec["reconciled"], rec["difference"]) == ("POSTED", True, "0.00")
    assert (rec["posted_count"], rec["claims_recorded"], rec["already_posted_count"]) == (N, N, 0)
    assert rec["posted_total"] == rec["total_paid"] == BPR02
    assert result.complete
    # The store itself (every claim kept): one ledger entry per claim, each claim payment once.
    claims = [era_posting_run.claim_id(i) for i in range(N)]
    entries = [e for c in claims for e in repo.ledger_entries(c)]
    assert len(entries) == N and len({e.source for e in entries}) == N and len({e.position for e in entries}) == N
    assert sum((repo.get_claim(c).paid_amount for c in claims), Decimal("0.00")) == Decimal(BPR02)
    results = repo.era_results(result.era_id)
    assert [r["result"] for r in results] == ["posted"] * N
    assert {r["clp01"] for r in results} == set(claims)


def test_forgetting_checked_claims_keeps_the_results_the_reconciliation_reads(tmp_path: Path) -> None:
    """The benchmark's memory bound: claims go once their chunk is checked; the ERA still reconciles."""
    result, repo = era_posting_run.run(SMALL, tmp_path, redeliver_every=50, keep_claims=False)
    assert result.complete and result.claims_checked == SMALL
    assert not any(repo.claim_exists(era_posting_run.claim_id(i)) for i in (0, 400, SMALL - 1))
    assert len(repo.era_results(result.era_id)) == SMALL


@dataclass
class _LosesOne(CollectingQueue):
    """A posting queue whose first send loses its 8th message (sent, as far as the sender knows)."""

    lost: list[int] = field(default_factory=list)

    def send(self, remittances: Sequence[ClaimRemittance]) -> int:
        if self.sends == 0:
            self.lost.append(remittances[7].position)
            remittances = [r for n, r in enumerate(remittances) if n != 7]
        return super().send(remittances)


def test_a_lost_message_leaves_the_era_unreconciled(tmp_path: Path) -> None:
    """The run can fail: a claim payment that never posts is pending and the ERA does not reconcile."""
    queue = _LosesOne()
    result, _ = era_posting_run.run(SMALL, tmp_path, redeliver_every=50, queue=queue)
    rec = result.reconciliation
    assert not result.complete
    assert (result.posted, result.claims_checked, result.mismatch_count) == (SMALL - 1, SMALL - 1, 1)
    assert (rec["reconciled"], rec["era_status"], rec["claims_pending"]) == (False, "POSTING", 1)
    assert rec["pending_positions"] == queue.lost
