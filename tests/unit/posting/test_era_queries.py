"""The ERA reconciliation and release rules on the in-memory store, compared whole: every field of
the summary, the pages of claims, and each way a release can go (mutation testing, era_queries)."""

from __future__ import annotations

from typing import Any

import pytest

from medbill.billing.era_queries import EraNotFound, EraNotReleasable, list_eras, reconciliation, release_era
from medbill.billing.era_records import era_status
from medbill.ports import EraResult
from tests.fakes import FakeStore, ReleaseRequests

ERA = "1PAYERA010-T1"
HEADER = {
    "pk": "ERA#x",  # DynamoDB keys never reach a person
    "sk": "HEADER",
    "received_at": "2026-11-20T09:00:00+00:00",
    "file_id": "F1",
    "source_key": "era/t1.835",
    "trace_number": "T1",
    "total_paid": "150.00",
    "claim_count": 5,
}


def _result(position: int, result: str, paid: str, clp01: str = "C") -> EraResult:
    return EraResult(ERA, position, {"claim_id": clp01, "clp01": clp01, "result": result, "paid": paid})


def _store(status: str = "POSTING", **header: Any) -> FakeStore:
    store = FakeStore()
    assert store.create_era(ERA, {**HEADER, "era_status": status, **header})
    store.record_era_sent(ERA, [(1, "C1"), (2, "C2"), (3, "C3"), (4, "C4"), (5, "C5")])
    return store


def _row(position: int, result: str, paid: str) -> dict[str, Any]:
    return {"position": position, "claim_id": "C", "clp01": "C", "result": result, "paid": paid}


def test_reconciliation_of_a_posting_era_is_exact() -> None:
    store = _store()
    for r in (
        _result(1, "posted", "100.00"),
        _result(2, "posted", "30.00"),
        _result(3, "not_posted", "7.00"),
        _result(4, "not_posted", "3.00"),
    ):
        store.record_era_result(r)
    store.record_provider_adjustment(ERA, 1, {"reason": "WO", "amount": "-20.00"})
    rec = reconciliation(store, ERA)
    assert rec == {
        **{k: v for k, v in HEADER.items() if k not in ("pk", "sk")},
        "era_id": ERA,
        "era_status": "POSTING",
        "claims_recorded": 4,
        "claims_pending": 1,
        "pending_positions": [5],
        "posted_count": 2,
        "already_posted_count": 0,
        "already_posted_total": "0.00",
        "held_count": 0,
        "unmatched_count": 0,
        "not_posted_count": 2,
        "not_posted_total": "10.00",
        "posted_total": "130.00",
        "held_total": "0.00",
        "unmatched_total": "0.00",
        "plb_total": "-20.00",
        "difference": "0.00",
        "reconciled": False,
        "claims": [
            _row(1, "posted", "100.00"),
            _row(2, "posted", "30.00"),
            _row(3, "not_posted", "7.00"),
            _row(4, "not_posted", "3.00"),
            {"position": 5, "clp01": "C5", "result": "pending"},
        ],
        "next_token": None,
        "provider_adjustments": [{"reason": "WO", "amount": "-20.00"}],
    }


def test_a_fully_recorded_era_reconciles_and_counts_every_result_kind() -> None:
    store = _store()
    for r in (
        _result(1, "posted", "60.00"),
        _result(2, "already_posted", "40.00"),
        _result(3, "held", "-10.00"),
        _result(4, "unmatched", "50.00"),
        _result(5, "posted", "10.00"),
    ):
        store.record_era_result(r)
    rec = reconciliation(store, ERA)
    assert rec is not None
    shown = ("_count", "_total")
    summary = {
        k: v for k, v in rec.items() if (k.endswith(shown) and k != "claim_count") or k in ("difference", "reconciled")
    }
    assert summary == {
        "posted_count": 2,
        "already_posted_count": 1,
        "already_posted_total": "40.00",
        "held_count": 1,
        "unmatched_count": 1,
        "not_posted_count": 0,
        "not_posted_total": "0.00",
        "posted_total": "70.00",
        "held_total": "-10.00",
        "unmatched_total": "50.00",
        "plb_total": "0.00",
        "difference": "0.00",
        "reconciled": True,
    }
    assert (rec["era_status"], rec["claims_pending"], rec["pending_positions"]) == ("POSTED_WITH_UNMATCHED", 0, [])


def test_a_quarantined_era_has_nothing_pending_and_does_not_reconcile() -> None:
    store = _store("QUARANTINED")
    rec = reconciliation(store, ERA)
    assert rec is not None
    assert (rec["era_status"], rec["claims_recorded"], rec["claims_pending"], rec["pending_positions"]) == (
        "QUARANTINED",
        0,
        0,
        [],
    )
    assert (rec["claims"], rec["difference"], rec["reconciled"]) == ([], "150.00", False)


def test_a_header_without_totals_counts_as_zero() -> None:
    store = FakeStore()
    store.create_era(ERA, {"received_at": "2026-11-20T09:00:00+00:00", "file_id": "F1", "era_status": "POSTED"})
    rec = reconciliation(store, ERA)
    assert rec is not None
    assert (rec["difference"], rec["reconciled"], rec["claims_recorded"]) == ("0.00", True, 0)
    assert reconciliation(store, "NO-SUCH-ERA") is None


def test_claims_are_paged_by_position_with_a_token() -> None:
    store = _store()
    for position in (1, 2, 3):
        store.record_era_result(_result(position, "posted", "10.00"))
    first = reconciliation(store, ERA, limit=2)
    assert first is not None
    assert [c["position"] for c in first["claims"]] == [1, 2]
    assert first["next_token"] == store.era_claims_token(ERA, 2)
    second = reconciliation(store, ERA, limit=2, next_token=first["next_token"])
    assert second is not None
    assert [c["position"] for c in second["claims"]] == [3, 4]
    third = reconciliation(store, ERA, limit=2, next_token=second["next_token"])
    assert third is not None
    assert ([c["position"] for c in third["claims"]], third["next_token"]) == ([5], None)
    exact = reconciliation(store, ERA, limit=5)
    assert exact is not None and len(exact["claims"]) == 5 and exact["next_token"] is None
    # The summary covers every claim payment on every page.
    assert first["posted_total"] == second["posted_total"] == third["posted_total"] == "30.00"


def test_release_sends_the_file_once() -> None:
    store, queue = _store("QUARANTINED"), ReleaseRequests()
    assert release_era(store, queue, ERA, "biller") == {
        "era_id": ERA,
        "era_status": "RELEASED",
        "source_key": "era/t1.835",
    }
    assert queue.requests == [{"source_key": "era/t1.835", "file_id": "F1", "released_by": "biller"}]
    with pytest.raises(EraNotReleasable) as err:
        release_era(store, queue, ERA, "another biller")
    assert str(err.value) == f"ERA {ERA} is RELEASED, not QUARANTINED"
    assert len(queue.requests) == 1


def test_release_of_an_era_that_is_posting_says_its_status() -> None:
    store = _store()
    store.record_era_result(_result(1, "posted", "10.00"))
    with pytest.raises(EraNotReleasable) as err:
        release_era(store, ReleaseRequests(), ERA, "biller")
    assert str(err.value) == f"ERA {ERA} is POSTING, not QUARANTINED"


def test_release_of_an_unknown_or_unreadable_era() -> None:
    with pytest.raises(EraNotFound) as missing:
        release_era(FakeStore(), ReleaseRequests(), "NOPE", "biller")
    assert str(missing.value) == "ERA NOPE not found"
    store = _store("QUARANTINED", unreadable=True)
    with pytest.raises(EraNotReleasable) as err:
        release_era(store, ReleaseRequests(), ERA, "biller")
    assert str(err.value) == "ERA file era/t1.835 is not a readable 835; ask the payer to resend it"
    assert (store.get_era(ERA) or {})["era_status"] == "QUARANTINED"


def test_a_release_that_cannot_be_sent_stays_quarantined() -> None:
    store, queue = _store("QUARANTINED"), ReleaseRequests(fail=True)
    with pytest.raises(Exception, match="REMITTANCE_QUEUE_URL is not configured"):
        release_era(store, queue, ERA, "biller")
    assert (store.get_era(ERA) or {})["era_status"] == "QUARANTINED"
    queue.fail = False
    assert release_era(store, queue, ERA, "biller")["era_status"] == "RELEASED"


def test_the_era_list_shows_each_status_and_the_claims_done_newest_first() -> None:
    store = _store()  # POSTING, 5 claim payments, received 09:00
    store.record_era_result(_result(1, "posted", "10.00"))
    store.record_era_result(_result(2, "unmatched", "20.00"))
    later = {**HEADER, "received_at": "2026-11-21T09:00:00+00:00", "file_id": "F2", "era_status": "QUARANTINED"}
    assert store.create_era("1PAYERB020-T2", later)
    store.add_era_duplicate("1PAYERB020-T2", "era/copy-b.835")
    store.add_era_duplicate("1PAYERB020-T2", "era/copy-a.835")
    done = {**HEADER, "received_at": "2026-11-19T09:00:00+00:00", "file_id": "F3", "era_status": "POSTED"}
    assert store.create_era("1PAYERC030-T3", done)
    rows, token = list_eras(store)
    assert token is None
    assert [(r["era_id"], r["era_status"], r["claims_done"]) for r in rows] == [
        ("1PAYERB020-T2", "QUARANTINED", 0),
        (ERA, "POSTING", 2),
        ("1PAYERC030-T3", "POSTED", 0),
    ]
    assert rows[0]["duplicate_keys"] == ["era/copy-a.835", "era/copy-b.835"]
    assert all("pk" not in r and "sk" not in r for r in rows)
    for n in (3, 4, 5):
        store.record_era_result(_result(n, "posted", "1.00"))
    first, token = list_eras(store, limit=2)
    assert [(r["era_id"], r["era_status"], r["claims_done"]) for r in first] == [
        ("1PAYERB020-T2", "QUARANTINED", 0),
        (ERA, "POSTED_WITH_UNMATCHED", 5),
    ]
    rest, end = list_eras(store, limit=2, next_token=token)
    assert ([r["era_id"] for r in rest], end) == (["1PAYERC030-T3"], None)


def test_a_page_ends_at_its_last_position() -> None:
    store = _store()
    page = reconciliation(store, ERA, limit=3)
    assert page is not None
    assert ([c["position"] for c in page["claims"]], page["next_token"]) == ([1, 2, 3], store.era_claims_token(ERA, 3))


@pytest.mark.parametrize(
    ("header", "recorded", "unmatched", "shown"),
    [
        ({"era_status": "POSTING"}, 0, 0, "POSTED"),  # no claim count: nothing to wait for
        ({}, 0, 0, "POSTED"),
        ({"era_status": "POSTING", "claim_count": 2}, 1, 0, "POSTING"),
        ({"era_status": "POSTING", "claim_count": 2}, 2, 0, "POSTED"),
        ({"era_status": "POSTING", "claim_count": 2}, 2, 1, "POSTED_WITH_UNMATCHED"),
        ({"era_status": "QUARANTINED", "claim_count": 2}, 2, 1, "QUARANTINED"),
        ({"era_status": "RELEASED", "claim_count": 2}, 0, 0, "RELEASED"),
    ],
)
def test_era_status_as_a_person_sees_it(header: dict[str, Any], recorded: int, unmatched: int, shown: str) -> None:
    assert era_status(header, recorded, unmatched) == shown


def test_release_of_a_fully_posted_era_says_posted() -> None:
    store = _store()
    for n in range(1, 6):
        store.record_era_result(_result(n, "posted", "30.00"))
    with pytest.raises(EraNotReleasable) as err:
        release_era(store, ReleaseRequests(), ERA, "biller")
    assert str(err.value) == f"ERA {ERA} is POSTED, not QUARANTINED"


class _ReleasedMeanwhile(FakeStore):
    """Another person releases the ERA between this release's read and its conditional update."""

    def update_era_status(self, era_id: str, status: str, expected: str | None = None) -> bool:
        if status == "RELEASED" and expected == "QUARANTINED" and not getattr(self, "raced", False):
            self.raced = True
            super().update_era_status(era_id, "RELEASED", expected="QUARANTINED")
        return super().update_era_status(era_id, status, expected)


def test_a_release_that_lost_the_race_says_the_status_now() -> None:
    store = _ReleasedMeanwhile()
    assert store.create_era(ERA, {**HEADER, "era_status": "QUARANTINED"})
    with pytest.raises(EraNotReleasable) as err:
        release_era(store, ReleaseRequests(), ERA, "biller")
    assert str(err.value) == f"ERA {ERA} is RELEASED, not QUARANTINED"
