"""The DynamoDB repository against moto: conditional creates, optimistic locking, ledger idempotency, the
key layout as built. Every store method is also checked beside the fake in test_store_contract.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.local.provision import LocalResources
from medbill.billing.claim_updates import save_claim
from medbill.entry import wiring
from medbill.models.remittance import LedgerEntry
from medbill.models.status import ClaimStatus, InvalidTransition
from medbill.ports import AlreadyPosted, ConcurrentUpdate, EraResult
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter


def test_create_claim_once_and_read_back(aws: LocalResources) -> None:
    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    assert repo.create_claim(claim) is True
    assert repo.create_claim(claim) is False  # redelivery creates nothing twice
    stored = repo.get_claim(claim.claim_id)
    assert stored == claim
    assert [e.new_status for e in repo.events(claim.claim_id)] == ["RECEIVED"]
    assert stored.lines[0].line_control_number == f"{claim.claim_id}-01"


def test_status_change_is_conditional_on_version(aws: LocalResources) -> None:
    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    first = repo.get_claim(claim.claim_id)
    second = repo.get_claim(claim.claim_id)
    repo.save(first, actor="t", new_status=ClaimStatus.REGISTERED)
    with pytest.raises(ConcurrentUpdate):  # second reader lost the race: no lost update
        repo.save(second, actor="t", new_status=ClaimStatus.REGISTERED)
    assert repo.get_claim(claim.claim_id).version == 1


def test_transition_rules_are_enforced(aws: LocalResources) -> None:
    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    with pytest.raises(InvalidTransition):  # checked by the domain, before the store is called
        save_claim(repo, repo.get_claim(claim.claim_id), actor="t", new_status=ClaimStatus.PAID)
    assert repo.get_claim(claim.claim_id).version == 0


def test_ledger_source_posts_once(aws: LocalResources) -> None:
    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    entry = LedgerEntry(source="P-T#0000001#1#", kind="payment", era_id="P-T", posted_at="t", paid=Decimal("80.00"))
    result = EraResult("P-T", 1, {"result": "posted", "paid": "80.00"})
    repo.post_ledger_entry(repo.get_claim(claim.claim_id), entry, actor="t", detail={}, result=result)
    with pytest.raises(AlreadyPosted):
        repo.post_ledger_entry(repo.get_claim(claim.claim_id), entry, actor="t", detail={}, result=result)
    ledger = repo.ledger(claim.claim_id)
    assert [(e["kind"], e["paid"]) for e in ledger] == [("payment", "80.00")]


def test_list_claims_by_status_and_clinic_paginates(aws: LocalResources) -> None:
    repo = wiring.repository()
    for n in range(5):
        clinic = "clinic-a" if n % 2 == 0 else "clinic-b"
        repo.create_claim(new_claim(make_encounter(encounter_id=f"E{n}", clinic_id=clinic), "encounters/x", n + 1))
    page = repo.list_claims(status="RECEIVED", limit=2)
    seen = [c.claim_id for c in page.items]
    while page.next_token:
        page = repo.list_claims(status="RECEIVED", limit=2, next_token=page.next_token)
        seen += [c.claim_id for c in page.items]
    assert len(seen) == len(set(seen)) == 5
    clinic_a = repo.list_claims(clinic_id="clinic-a", limit=50).items
    assert {c.clinic_id for c in clinic_a} == {"clinic-a"} and len(clinic_a) == 3
    assert len(repo.list_claims(limit=50).items) == 5


def test_counter_is_monotonic(aws: LocalResources) -> None:
    repo = wiring.repository()
    assert [repo.next_counter("x12") for _ in range(3)] == [1, 2, 3]


def test_a_stored_claim_that_no_longer_validates_fails_without_quoting_phi(aws: LocalResources) -> None:
    from medbill.ports import InvalidClaimUpdate
    from tests.factories import CANARY_LAST

    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    # Simulate an item written by an older version: the patient's DOB no longer parses.
    repo._client.update_item(
        TableName=repo.table_name,
        Key={"pk": {"S": f"CLAIM#{claim.claim_id}"}, "sk": {"S": "CLAIM"}},
        UpdateExpression="SET encounter.patient.date_of_birth = :bad",
        ExpressionAttributeValues={":bad": {"S": "not-a-date"}},
    )
    with pytest.raises(InvalidClaimUpdate) as err:
        repo.get_claim(claim.claim_id)
    assert "encounter.patient.date_of_birth" in str(err.value)
    assert CANARY_LAST not in str(err.value) and "not-a-date" not in str(err.value)


def test_key_layout_as_built(aws: LocalResources) -> None:
    """Where each named method writes (docs/architecture.md lists the layout; keys.py builds it)."""
    from medbill.ports import Consume, EraResult, HeldReversal, UnmatchedRemittance
    from tests.integration.test_store_contract import _entry, _header, _remit

    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    cid = claim.claim_id
    held = _remit(cid)
    repo.hold_reversal(repo.get_claim(cid), held, actor="t", detail={}, result=EraResult("E1", 7, {"result": "held"}))
    repo.post_ledger_entry(
        repo.get_claim(cid),
        _entry("SRC"),
        actor="t",
        detail={},
        result=EraResult("E1", 8, {"result": "posted"}),
        consume=Consume(HeldReversal(cid, held)),
    )
    unknown = _remit("UNKNOWN", position=9, status_code="1")
    repo.record_unmatched_remittance(unknown, unmatched_id="E1~9", result=EraResult("E1", 9, {"result": "unmatched"}))
    repo.create_era("E1", _header("F1", "2026-10-01T00:00:00"))
    repo.record_era_sent("E1", [(7, cid), (8, cid)])
    repo.record_provider_adjustment("E1", 1, {"reason": "WO", "amount": "1.00"})
    repo.claim_patient_key("hash", "PAT1")
    repo.upsert_patient("PAT1", {"clinic_id": "c"})
    repo.next_counter("x12")

    def sks(pk: str) -> list[str]:
        resp = repo._client.query(
            TableName=repo.table_name, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
        )
        return [i["sk"]["S"] for i in resp["Items"]]

    assert [s.split("#")[0] for s in sks(f"CLAIM#{cid}")] == ["CLAIM", "EVENT", "EVENT", "EVENT", "LEDGER"]
    assert sks(f"CLAIM#{cid}")[-1] == "LEDGER#SRC"  # the held reversal was consumed by the posting
    assert sks("ERA#E1") == ["CLP#0000007", "CLP#0000008", "CLP#0000009", "ERA", "PLB#0001", "SENT#0000007"]
    assert sks("ERALIST") == ["2026-10-01T00:00:00#E1"] and sks("ERAFILE#F1") == ["ERA#E1"]
    assert sks("UNMATCHED#UNKNOWN") == ["REMIT#P-T#0000009"]  # the remittance's own ERA and position
    assert repo.list_unmatched_remittance()[0][0]["unmatched_id"] == "E1~9"  # the by-status work queue
    assert sks("PATIENTKEY#hash") == ["PATIENTKEY"] and sks("PATIENT#PAT1") == ["PATIENT"]
    assert sks("COUNTER#x12") == ["COUNTER"]
    repo.discard_work_item(UnmatchedRemittance(unknown))
    assert sks("UNMATCHED#UNKNOWN") == []
