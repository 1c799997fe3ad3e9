"""The store contract: the same checks against the in-memory fake (tests/fakes.py) and the DynamoDB
adapter on moto, so the fake the domain tests run on behaves as the adapter does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from medbill.billing.claim_updates import save_claim
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus as S
from medbill.models.status import InvalidTransition
from medbill.ports import (
    AlreadyPosted,
    BadPageToken,
    BillingStore,
    ClaimNotFound,
    ConcurrentUpdate,
    Consume,
    EraResult,
    HeldReversal,
    StaleItem,
    UnmatchedRemittance,
)
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter
from tests.fakes import FakeStore

D = Decimal


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> BillingStore:
    if request.param == "fake":
        return FakeStore()
    request.getfixturevalue("aws")  # a fresh moto account
    return wiring.repository()


def _claim(store: BillingStore, n: int = 1, clinic: str = "clinic-a") -> Claim:
    claim = new_claim(make_encounter(encounter_id=f"E{n}", clinic_id=clinic), "encounters/c.json", n)
    assert store.create_claim(claim)
    return claim


def _entry(source: str, paid: str = "80.00", kind: str = "payment") -> LedgerEntry:
    return LedgerEntry.model_validate(
        {"source": source, "kind": kind, "era_id": "P-T", "posted_at": "2026-10-05T00:00:00", "paid": paid}
    )


def _remit(clp01: str, position: int = 7, status_code: str = "22", era_id: str = "P-T") -> ClaimRemittance:
    return ClaimRemittance.model_validate(
        {
            "era_id": era_id,
            "file_id": "F1",
            "source_key": "era/a.835",
            "payer_id": "PAYER",
            "trace_number": "T",
            "position": position,
            "claim_id": clp01,
            "status_code": status_code,
            "charge": "-150.00",
            "paid": "-120.00",
            "payer_claim_number": "PCN1",
        }
    )


def _result(position: int, result: str = "posted", era_id: str = "P-T") -> EraResult:
    return EraResult(era_id, position, {"claim_id": "C", "result": result, "paid": "80.00", "outcome": None})


def test_claims_are_created_once_read_back_and_written_on_their_version(store: BillingStore) -> None:
    claim = _claim(store)
    assert store.create_claim(claim) is False  # idempotent
    assert store.get_claim(claim.claim_id) == claim and store.claim_exists(claim.claim_id)
    assert not store.claim_exists("NOPE")
    with pytest.raises(ClaimNotFound):
        store.get_claim("NOPE")
    first, second = store.get_claim(claim.claim_id), store.get_claim(claim.claim_id)
    saved = store.save(first, actor="t", new_status=S.REGISTERED, detail={"n": D("1.50")})
    assert (saved.version, saved.status) == (1, S.REGISTERED)
    with pytest.raises(ConcurrentUpdate):
        store.save(second, actor="t")
    events = store.events(claim.claim_id)
    assert [(e.old_status, e.new_status, e.version) for e in events] == [
        (None, "RECEIVED", 0),
        ("RECEIVED", "REGISTERED", 1),
    ]
    assert events[1].detail == {"n": "1.50"}  # JSON-ready, as the timeline shows it


def test_the_transition_is_the_domains_to_check_before_the_store(store: BillingStore) -> None:
    claim = _claim(store)
    with pytest.raises(InvalidTransition):
        save_claim(store, store.get_claim(claim.claim_id), actor="t", new_status=S.PAID)
    assert store.get_claim(claim.claim_id).version == 0


def test_a_ledger_entry_posts_once_with_its_result_all_or_nothing(store: BillingStore) -> None:
    claim = _claim(store)
    entry = _entry("P-T#0000001#1#")
    store.post_ledger_entry(
        store.get_claim(claim.claim_id), entry, actor="t", detail={}, result=_result(1), new_status=S.REGISTERED
    )
    with pytest.raises(AlreadyPosted):
        store.post_ledger_entry(store.get_claim(claim.claim_id), entry, actor="t", detail={}, result=_result(2))
    assert store.get_claim(claim.claim_id).version == 1  # the failed write left nothing
    assert store.era_result("P-T", 2) is None
    assert [e.source for e in store.ledger_entries(claim.claim_id)] == [entry.source]
    assert store.era_result("P-T", 1) == {"position": 1, "claim_id": "C", "result": "posted", "paid": "80.00"}
    # A "posted" result is final: neither a standalone record nor another posting replaces it.
    assert store.record_era_result(_result(1, "already_posted")) is False
    with pytest.raises(StaleItem):
        store.post_ledger_entry(store.get_claim(claim.claim_id), _entry("B"), actor="t", detail={}, result=_result(1))
    assert store.record_era_result(_result(3, "held")) is True
    assert store.record_era_result(_result(3, "posted")) is True  # held, then posted: allowed


def test_an_entry_is_reversed_once(store: BillingStore) -> None:
    claim = _claim(store)
    original = _entry("ORIG")
    store.post_ledger_entry(store.get_claim(claim.claim_id), original, actor="t", detail={}, result=_result(1))
    marked = original.model_copy(update={"reversed_by": "REV1"})
    reversal = _entry("REV1", "-80.00", "reversal").model_copy(update={"reverses": "ORIG"})
    store.post_ledger_entry(
        store.get_claim(claim.claim_id), reversal, actor="t", detail={}, result=_result(2), reversed_entry=marked
    )
    again = _entry("REV2", "-80.00", "reversal")
    with pytest.raises(StaleItem):
        store.post_ledger_entry(
            store.get_claim(claim.claim_id),
            again,
            actor="t",
            detail={},
            result=_result(3),
            reversed_entry=original.model_copy(update={"reversed_by": "REV2"}),
        )
    by_source = {e.source: e for e in store.ledger_entries(claim.claim_id)}
    assert list(by_source) == ["ORIG", "REV1"] and by_source["ORIG"].reversed_by == "REV1"


def test_held_reversals_are_kept_once_and_consumed_once(store: BillingStore) -> None:
    claim = _claim(store)
    reversal = _remit(claim.claim_id)
    store.hold_reversal(store.get_claim(claim.claim_id), reversal, actor="t", detail={}, result=_result(7, "held"))
    with pytest.raises(StaleItem):  # held already
        store.hold_reversal(store.get_claim(claim.claim_id), reversal, actor="t", detail={}, result=_result(8, "held"))
    held = HeldReversal(claim.claim_id, reversal)
    assert store.held_reversals(claim.claim_id) == [held]
    state = store.posting_state(claim.claim_id)
    assert (state.entries, state.held) == ([], [held])
    store.post_ledger_entry(
        store.get_claim(claim.claim_id), _entry("R"), actor="t", detail={}, result=_result(9), consume=Consume(held)
    )
    assert store.held_reversals(claim.claim_id) == []
    with pytest.raises(StaleItem):  # consumed by someone else first
        store.post_ledger_entry(
            store.get_claim(claim.claim_id),
            _entry("S"),
            actor="t",
            detail={},
            result=_result(10),
            consume=Consume(held),
        )
    # Not required to exist: the unmatched item of a re-sent payment goes if it is there.
    gone = Consume(UnmatchedRemittance(_remit("NOPE")), must_exist=False)
    store.record_not_posted(store.get_claim(claim.claim_id), actor="t", detail={}, result=_result(11), consume=gone)
    assert store.get_claim(claim.claim_id).version == 3


def test_unmatched_remittance_waits_in_its_queue(store: BillingStore) -> None:
    remit = _remit("UNKNOWN1", position=3, status_code="1")
    assert store.record_unmatched_remittance(remit, unmatched_id="P-T~3", result=_result(3, "unmatched"))
    assert not store.record_unmatched_remittance(remit, unmatched_id="P-T~3", result=_result(3, "unmatched"))
    assert store.unmatched_remittance("UNKNOWN1", "P-T", 3) == remit
    assert store.unmatched_remittance("UNKNOWN1", "P-T", 4) is None
    assert store.unmatched_remittances_for("UNKNOWN1") == [remit]
    items, token = store.list_unmatched_remittance()
    assert token is None
    assert [(i["unmatched_id"], i["clp01"], i["paid"], i["status"]) for i in items] == [
        ("P-T~3", "UNKNOWN1", "-120.00", "UNMATCHED_REMITTANCE")
    ]
    assert store.era_result_counts("P-T") == (1, 1)
    store.discard_work_item(UnmatchedRemittance(remit))
    store.discard_work_item(UnmatchedRemittance(remit))  # gone already is fine
    assert store.unmatched_remittances_for("UNKNOWN1") == []


def test_provider_adjustments_are_recorded_once(store: BillingStore) -> None:
    claim = _claim(store)
    plb = _entry("P-T#PLB#WO#X#1", "-5.00", "provider_adjustment")
    assert store.post_provider_adjustment(claim.claim_id, plb) is True
    assert store.post_provider_adjustment(claim.claim_id, plb) is False
    assert store.get_claim(claim.claim_id).version == 0  # the claim item is not touched
    fields: dict[str, Any] = {"reason": "WO", "reference": "X", "amount": "5.00", "claim_id": None}
    assert store.record_provider_adjustment("P-T", 1, fields) is True
    assert store.record_provider_adjustment("P-T", 1, fields) is False
    assert store.provider_adjustments("P-T") == [{"reason": "WO", "reference": "X", "amount": "5.00"}]


def _header(file_id: str, at: str, status: str = "POSTING") -> dict[str, Any]:
    return {
        "file_id": file_id,
        "source_key": f"era/{file_id}",
        "era_status": status,
        "received_at": at,
        "claim_count": 2,
    }


def test_era_records_are_created_once_and_change_only_as_expected(store: BillingStore) -> None:
    assert store.create_era("E1", _header("F1", "2026-10-01T00:00:00", "QUARANTINED")) is True
    assert store.create_era("E1", _header("F2", "2026-10-02T00:00:00")) is False
    header = store.get_era("E1")
    assert header is not None and (header["era_id"], header["file_id"], header["claim_count"]) == ("E1", "F1", 2)
    assert store.get_era("E9") is None
    assert store.rewrite_era("E1", _header("F2", "2026-10-01T00:00:00")) is False  # another file's record
    assert store.rewrite_era("E1", {**_header("F1", "2026-10-01T00:00:00", "QUARANTINED"), "claim_count": 3})
    store.add_era_duplicate("E1", "era/copy")
    store.add_era_duplicate("E1", "era/copy")
    assert set(store.get_era("E1")["duplicate_keys"]) == {"era/copy"}  # type: ignore[index]
    assert store.era_ids_for_file("F1") == ["E1"]
    assert store.update_era_status("E1", "RELEASED", expected="POSTING") is False
    assert store.update_era_status("E1", "RELEASED", expected="QUARANTINED") is True
    assert store.requarantine_era("E1", "F2", ["changed"]) is False  # another file
    assert store.requarantine_era("E1", "F1", ["changed"]) is True
    assert store.requarantine_era("E1", "F1", ["changed"]) is False  # not RELEASED any more
    after = store.get_era("E1")
    assert after is not None and (after["era_status"], after["problems"]) == ("QUARANTINED", ["changed"])


def test_era_listings_come_in_order_and_page_with_their_own_tokens(store: BillingStore) -> None:
    for n in range(3):
        store.create_era(f"E{n}", _header(f"F{n}", f"2026-10-0{n + 1}T00:00:00"))
    first, token = store.list_eras(limit=2)
    assert [h["era_id"] for h in first] == ["E2", "E1"] and token
    rest, last = store.list_eras(limit=2, next_token=token)
    assert [h["era_id"] for h in rest] == ["E0"] and last is None
    with pytest.raises(BadPageToken):
        store.list_eras(next_token="not-a-token")
    for position in (30, 10, 20):
        store.record_era_result(_result(position, "posted", "E0"))
    assert [r["position"] for r in store.era_results("E0")] == [10, 20, 30]
    assert store.era_result_counts("E0") == (3, 0)
    store.record_era_sent("E0", [(10, "A"), (20, "B")])
    store.record_era_sent("E0", [(10, "A"), (20, "B")])  # a redelivered fan-out writes the same item
    store.record_era_sent("E0", [(30, "C")])
    assert store.era_sent("E0") == [(10, "A"), (20, "B"), (30, "C")]
    token = store.era_claims_token("E0", 20)
    assert store.era_claims_after("E0", token) == 20
    with pytest.raises(BadPageToken):
        store.era_claims_after("E1", token)  # another ERA's token


def test_claim_listings_page_and_refuse_another_listings_token(store: BillingStore) -> None:
    for n in range(5):
        _claim(store, n, "clinic-a" if n % 2 == 0 else "clinic-b")
    page = store.list_claims(status="RECEIVED", limit=2)
    seen = [c.claim_id for c in page.items]
    while page.next_token:
        page = store.list_claims(status="RECEIVED", limit=2, next_token=page.next_token)
        seen += [c.claim_id for c in page.items]
    assert len(seen) == len(set(seen)) == 5
    clinic = store.list_claims(clinic_id="clinic-a", limit=2)
    assert {c.clinic_id for c in clinic.items} == {"clinic-a"} and clinic.next_token
    with pytest.raises(BadPageToken):
        store.list_claims(status="RECEIVED", next_token=clinic.next_token)
    assert len(store.list_claims(limit=50).items) == 5


def test_patients_and_counters(store: BillingStore) -> None:
    assert store.patient_id_for_match_key("h1") is None
    assert store.claim_patient_key("h1", "PAT1") is True
    assert store.claim_patient_key("h1", "PAT2") is False  # the first registration won
    assert store.patient_id_for_match_key("h1") == "PAT1"
    assert store.upsert_patient("PAT1", {"clinic_id": "c"}) is True
    assert store.upsert_patient("PAT1", {"clinic_id": "c"}) is False
    assert [store.next_counter("x12"), store.next_counter("x12"), store.next_counter("other")] == [1, 2, 1]


def test_an_interchange_names_the_claims_it_carried(store: BillingStore) -> None:
    assert store.claims_for_interchange(7) == []
    store.record_interchange(7, "CLMB")
    store.record_interchange(7, "CLMA")
    store.record_interchange(7, "CLMA")  # a retried submission records it once
    store.record_interchange(70, "CLMC")
    assert store.claims_for_interchange(7) == ["CLMA", "CLMB"]
    assert store.claims_for_interchange(70) == ["CLMC"]
