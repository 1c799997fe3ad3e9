"""Worklists by follow-up action and staff ledger entries: the same checks against the in-memory
fake and the DynamoDB adapter on moto (the by-worklist index), so the two cannot drift."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.remittance import LedgerEntry
from medbill.models.status import ClaimStatus as S
from medbill.ports import AlreadyPosted, BadPageToken, BillingStore
from medbill.workflow.intake import new_claim
from medbill.workflow.timely_filing_check import check_timely_filing
from tests.factories import make_encounter
from tests.fakes import FakeStore

D = Decimal
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> BillingStore:
    if request.param == "fake":
        return FakeStore()
    request.getfixturevalue("aws")
    return wiring.repository()


def _on_list(
    store: BillingStore,
    n: int,
    action: str,
    amount: str,
    days_ago: int,
    clinic: str = "clinic-northside",
    **extra: object,
) -> Claim:
    claim = new_claim(make_encounter(encounter_id=f"W{n}", clinic_id=clinic), "encounters/w.json", n)
    assert store.create_claim(claim)
    update = {
        "status": S.FOLLOW_UP,
        "total_charge": D("500.00"),
        "follow_up_action": action,
        "follow_up_amount": D(amount),
        "follow_up_since": T0 - timedelta(days=days_ago),
        **extra,
    }
    return store.save(store.get_claim(claim.claim_id).model_copy(update=update), actor="test")


def test_a_worklist_is_ordered_by_money_at_stake_then_age_and_paged(store: BillingStore) -> None:
    small = _on_list(store, 1, "appeal", "20.00", 30)
    big_new = _on_list(store, 2, "appeal", "300.00", 1)
    big_old = _on_list(store, 3, "appeal", "300.00", 9)
    _on_list(store, 4, "correct_and_resubmit", "999.00", 5)
    write_off = _on_list(store, 5, "write_off", "75.00", 2)
    first = store.worklist("appeal", limit=2)
    assert [c.claim_id for c in first.items] == [big_old.claim_id, big_new.claim_id] and first.next_token
    rest = store.worklist("appeal", limit=2, next_token=first.next_token)
    assert [c.claim_id for c in rest.items] == [small.claim_id] and rest.next_token is None
    assert [c.claim_id for c in store.worklist("write_off_review").items] == [write_off.claim_id]
    with pytest.raises(BadPageToken):
        store.worklist("write_off_review", next_token=first.next_token)
    # Leaving follow-up takes the claim off its list.
    store.save(store.get_claim(small.claim_id).model_copy(update={"status": S.CLOSED}), actor="test")
    assert [c.claim_id for c in store.worklist("appeal").items] == [big_old.claim_id, big_new.claim_id]


def test_a_clinics_part_of_a_worklist_is_its_own_keyed_listing(store: BillingStore) -> None:
    a_small = _on_list(store, 1, "appeal", "20.00", 3, clinic="clinic-a")
    b_big = _on_list(store, 2, "appeal", "300.00", 1, clinic="clinic-b")
    a_big = _on_list(store, 3, "appeal", "200.00", 2, clinic="clinic-a")
    assert [c.claim_id for c in store.worklist("appeal").items] == [b_big.claim_id, a_big.claim_id, a_small.claim_id]
    first = store.worklist("appeal", clinic_id="clinic-a", limit=1)
    assert [c.claim_id for c in first.items] == [a_big.claim_id] and first.next_token
    rest = store.worklist("appeal", clinic_id="clinic-a", limit=1, next_token=first.next_token)
    assert [c.claim_id for c in rest.items] == [a_small.claim_id]
    assert [c.claim_id for c in store.worklist("appeal", clinic_id="clinic-b").items] == [b_big.claim_id]
    assert store.worklist("appeal", clinic_id="clinic-c").items == []
    with pytest.raises(BadPageToken):
        store.worklist("appeal", clinic_id="clinic-b", next_token=first.next_token)  # clinic A's token
    with pytest.raises(BadPageToken):
        store.worklist("appeal", next_token=first.next_token)  # the office list's is another listing


def test_daily_check_puts_claims_near_the_filing_deadline_on_the_timely_filing_list(store: BillingStore) -> None:
    # Medicare: 12 months from the date of service; the check runs 20 days before the deadline.
    enc = make_encounter(
        encounter_id="TF1",
        date_of_service="2025-12-01",
        coverage={"payer_id": "MCARE01", "payer_name": "MEDICARE", "member_id": "M1", "claim_filing_indicator": "MB"},
    )
    held = new_claim(enc, "encounters/tf.json", 1)
    store.create_claim(held)
    store.save(store.get_claim(held.claim_id).model_copy(update={"status": S.CODING_HOLD}), actor="test")
    far = _on_list(store, 7, "appeal", "50.00", 3)  # filed: never on the timely filing list
    today = date(2026, 11, 11)
    assert check_timely_filing(store, today)["flagged"] == 1
    assert check_timely_filing(store, today)["flagged"] == 0  # idempotent: nothing changes twice
    (flagged,) = store.worklist("timely_filing").items
    assert (flagged.claim_id, flagged.timely_filing_alert) == (held.claim_id, date(2026, 12, 1))
    assert far.claim_id not in {c.claim_id for c in store.worklist("timely_filing").items}


def test_staff_entries_post_once_per_source(store: BillingStore) -> None:
    claim = new_claim(make_encounter(encounter_id="S1"), "encounters/s.json", 1)
    store.create_claim(claim)
    entry = LedgerEntry.model_validate(
        {
            "source": "PATPAY#p1",
            "kind": "patient_payment",
            "era_id": "patient",
            "posted_at": "2026-11-01",
            "amount": "5",
        }
    )
    saved = store.post_staff_entry(
        store.get_claim(claim.claim_id).model_copy(update={"patient_paid_amount": D("5.00")}),
        entry,
        actor="desk",
        detail={"staff_action": "patient_payment"},
    )
    assert saved.patient_paid_amount == D("5.00") and store.ledger_entries(claim.claim_id) == [entry]
    with pytest.raises(AlreadyPosted):
        store.post_staff_entry(store.get_claim(claim.claim_id), entry, actor="desk", detail={})


def test_one_statement_record_per_account_and_cycle(store: BillingStore) -> None:
    record = {"statement_id": "PAT1-2026-11", "cycle": "2026-11", "total_due": "24.00"}
    assert store.create_statement("PAT1", "2026-11", record)
    assert not store.create_statement("PAT1", "2026-11", {**record, "total_due": "99.00"})
    assert store.create_statement("PAT1", "2026-12", {**record, "cycle": "2026-12"})
    assert [r["cycle"] for r in store.statements_for("PAT1")] == ["2026-11", "2026-12"]
    assert store.statements_for("PAT1")[0]["total_due"] == "24.00" and store.statements_for("PAT2") == []


def test_a_changed_resend_puts_the_claim_on_resent_changed_before_any_other_list(store: BillingStore) -> None:
    appeal = _on_list(store, 1, "appeal", "300.00", 3)
    _on_list(store, 2, "appeal", "20.00", 3)
    appeal.resent_changes, appeal.resent_changed_at = ["patient.date_of_birth"], T0
    store.save(appeal, actor="intake")
    assert [c.claim_id for c in store.worklist("resent_changed").items] == [appeal.claim_id]
    assert [c.encounter_id for c in store.worklist("appeal").items] == ["W2"]
    assert store.worklist("resent_changed", clinic_id="clinic-lakeview").items == []
    cleared = store.get_claim(appeal.claim_id)
    cleared.resent_changes, cleared.resent_changed_at = [], None
    store.save(cleared, actor="staff:ann:s-1")
    assert store.worklist("resent_changed").items == []
    assert [c.encounter_id for c in store.worklist("appeal").items] == ["W1", "W2"]
