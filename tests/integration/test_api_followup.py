"""The staff API's follow-up routes against moto: a write-off, its approval, patient payments and
refunds; a retried call changes nothing; a refused action is a 409 naming amounts, never PHI."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.claim import Adjustment
from medbill.models.status import ClaimStatus as S
from medbill.workflow.intake import new_claim
from tests.factories import CANARY_LAST, CANARY_MEMBER, make_encounter
from tests.integration.test_api import _call, _load_api

D = Decimal


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def _short_paid_claim() -> str:
    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    repo.save(
        repo.get_claim(claim.claim_id).model_copy(
            update={
                "status": S.SHORT_PAID,
                "total_charge": D("150.00"),
                "paid_amount": D("96.00"),
                "adjustment_amount": D("30.00"),
                "patient_responsibility": D("24.00"),
                "adjustments": [
                    Adjustment(group="CO", reason="45", amount=D("30.00")),
                    Adjustment(group="PR", reason="2", amount=D("24.00")),
                ],
            }
        ),
        actor="test",
    )
    return claim.claim_id


def test_write_off_payment_and_refund_through_the_api(api: Any) -> None:
    claim_id = _short_paid_claim()
    body = {"request_id": "wo-1", "amount": "4.00", "category": "small_balance", "balance": "patient"}
    status, first = _call(api, "POST", f"/claims/{claim_id}/adjustments", body=body)
    assert status == 200 and first["patient_balance"] == "20.00" and first["repeated"] is False
    status, again = _call(api, "POST", f"/claims/{claim_id}/adjustments", body=body)
    assert status == 200 and again["repeated"] is True and again["patient_balance"] == "20.00"
    status, paid = _call(
        api, "POST", f"/claims/{claim_id}/patient-payments", body={"request_id": "p1", "amount": "25.00"}
    )
    assert status == 200 and paid["patient_balance"] == "-5.00"
    status, refused = _call(
        api, "POST", f"/claims/{claim_id}/patient-refunds", body={"request_id": "r1", "amount": "9.00"}
    )
    assert status == 409 and refused == {"message": f"claim {claim_id}: refund 9.00 exceeds the credit 5.00"}
    status, refunded = _call(
        api, "POST", f"/claims/{claim_id}/patient-refunds", body={"request_id": "r2", "amount": "5.00"}
    )
    assert status == 200 and refunded["patient_balance"] == "0.00"
    got = wiring.repository().get_claim(claim_id)
    assert (got.patient_paid_amount, got.patient_written_off_amount, got.patient_balance) == (
        D("20.00"),
        D("4.00"),
        D("0.00"),
    )
    assert got.total_charge == got.paid_amount + got.patient_paid_amount + got.adjustment_amount + D("4.00")
    text = json.dumps([first, paid, refused, refunded])
    assert CANARY_LAST not in text and CANARY_MEMBER not in text


def test_write_off_under_the_threshold_counts_at_once_and_approving_nothing_is_refused(api: Any) -> None:
    claim_id = _short_paid_claim()
    body = {"request_id": "big-1", "amount": "24.00", "category": "bad_debt", "balance": "patient"}
    # The default approval threshold is 100.00 (tests/unit/posting/test_writeoffs.py covers approval).
    status, pending = _call(api, "POST", f"/claims/{claim_id}/adjustments", body={**body, "amount": "24.00"})
    assert status == 200 and pending["pending_approval"] is False  # under the threshold: counts at once
    status, _ = _call(api, "POST", f"/claims/{claim_id}/adjustments", body={**body, "request_id": "x", "amount": "-1"})
    assert status == 422
    status, none = _call(api, "POST", f"/claims/{claim_id}/adjustments/nope/approve")
    assert status == 409 and "waits for approval" in none["message"]


def test_worklists_by_action_through_the_api(api: Any) -> None:
    repo = wiring.repository()
    ids = []
    for n, amount in enumerate(["40.00", "400.00"]):
        claim = new_claim(make_encounter(encounter_id=f"WL{n}"), "encounters/w.json", n + 1)
        repo.create_claim(claim)
        update = {"status": S.FOLLOW_UP, "follow_up_action": "appeal", "follow_up_amount": D(amount)}
        repo.save(repo.get_claim(claim.claim_id).model_copy(update=update), actor="test")
        ids.append(claim.claim_id)
    status, page = _call(api, "GET", "/worklists/appeal", {"limit": "1"})
    assert status == 200 and [i["claim_id"] for i in page["items"]] == [ids[1]] and page["next_token"]
    assert page["items"][0]["amount_at_stake"] == "400.00"
    status, rest = _call(api, "GET", "/worklists/appeal", {"next_token": page["next_token"]})
    assert [i["claim_id"] for i in rest["items"]] == [ids[0]] and rest["next_token"] is None
    status, body = _call(api, "GET", "/worklists/fishing")
    assert status == 404 and body["message"].startswith("no worklist fishing: one of appeal, ")
    status, _ = _call(api, "GET", "/worklists/unmatched-remittance")
    assert status == 200  # the older route still answers


def test_corrected_claim_through_the_api_starts_a_new_execution(api: Any, aws: LocalResources) -> None:
    claim_id = _short_paid_claim()
    repo = wiring.repository()
    repo.save(repo.get_claim(claim_id).model_copy(update={"payer_claim_number": "PCN9"}), actor="test")
    body = {"request_id": "c1", "frequency": "7", "reason": "coding_error"}
    status, done = _call(api, "POST", f"/claims/{claim_id}/corrections", body=body)
    assert status == 200 and done["repeated"] is False and done["replacement_claim_id"] != claim_id
    status, again = _call(api, "POST", f"/claims/{claim_id}/corrections", body=body)
    assert status == 200 and again["repeated"] is True
    status, view = _call(api, "GET", f"/claims/{done['replacement_claim_id']}")
    assert view["follow_up"]["replaces"] == claim_id and view["follow_up"]["frequency_code"] == "7"
    status, ledger = _call(api, "GET", f"/claims/{claim_id}/ledger")
    assert ledger["replaced_by"] == done["replacement_claim_id"]
    status, refused = _call(api, "POST", f"/claims/{claim_id}/corrections", body={**body, "request_id": "c2"})
    assert (
        status == 409
        and refused["message"] == f"claim {claim_id} is already replaced by {done['replacement_claim_id']}"
    )
