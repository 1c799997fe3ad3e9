"""Listings by key, route by route: ERA lists follow the payee a clinic bills under, worklists and
the admin's unfiltered claim list are keyed queries (never a table scan), large write-offs need a
second person with billing_manager, and uploads go to the clinic's folder only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.claim import Adjustment
from medbill.models.status import ClaimStatus as S
from testkit.era_builder import era_for
from tests.integration.test_api import _call, _load_api
from tests.integration.test_api_authz import (
    BILLER_A,
    BILLER_AB,
    BILLER_B,
    MANAGER_A,
    MANAGER_A2,
    MANAGER_B,
    NPI_B,
    VIEWER_A,
    _claim,
)
from tests.integration.test_api_eras import _receive
from tests.staff import ADMIN

D = Decimal


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def _no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any table scan from now on fails the test (listings must be keyed queries)."""
    repo = wiring.repository()

    def refuse(**_: Any) -> Any:
        raise AssertionError("a listing scanned the table")

    monkeypatch.setattr(repo._client, "scan", refuse)  # type: ignore[attr-defined]


def _era_ids(api: Any, user: dict[str, Any], **query: str) -> list[str]:
    seen, token = [], None
    while True:
        q = {**query, "limit": "1", **({"next_token": token} if token else {})}
        status, page = _call(api, "GET", "/eras", q, user=user)
        assert status == 200, page
        seen += [i["era_id"] for i in page["items"]]
        if not (token := page["next_token"]):
            return seen


def test_era_lists_follow_the_payee_the_clinic_bills_under(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _claim("EA1", "clinic-a"), _claim("EB1", "clinic-b")
    _receive("era/a.835", era_for([(a, "paid")], payer_id="PAYERA01", trace="TA"))
    era_b = era_for([(b, "paid")], payer_id="PAYERA01", trace="TB")
    _receive("era/b.835", era_b.replace("N1*PE*TEST CLINIC*XX*1234567893", f"N1*PE*TEST CLINIC*XX*{NPI_B}"))
    # An ERA paying a payee no clinic bills under: the office's list only (admins).
    stranger = era_for([(a, "paid")], payer_id="PAYERA01", trace="TX")
    _receive("era/x.835", stranger.replace("N1*PE*TEST CLINIC*XX*1234567893", "N1*PE*TEST CLINIC*XX*1990000014"))
    _no_scan(monkeypatch)
    era_a, era_b_id, era_x = "1PAYERA010-TA", "1PAYERA010-TB", "1PAYERA010-TX"
    assert _era_ids(api, VIEWER_A) == [era_a]
    assert _era_ids(api, BILLER_B) == [era_b_id]
    assert sorted(_era_ids(api, BILLER_AB)) == [era_a, era_b_id]  # two clinics, paged one by one
    assert sorted(_era_ids(api, ADMIN)) == [era_a, era_b_id, era_x]
    assert _era_ids(api, ADMIN, clinic="clinic-b") == [era_b_id]
    assert _era_ids(api, VIEWER_A, clinic="clinic-b") == []  # not an error that confirms the clinic
    # The detail follows the same rule: by payee, not by the claims it happens to pay.
    assert _call(api, "GET", f"/eras/{era_b_id}", user=BILLER_B)[0] == 200
    assert _call(api, "GET", f"/eras/{era_b_id}", user=VIEWER_A) == (404, {"message": f"ERA {era_b_id} not found"})
    assert _call(api, "GET", f"/eras/{era_x}", user=VIEWER_A)[0] == 404  # pays A's claim, but not A's payee
    assert _call(api, "GET", f"/eras/{era_x}", user=ADMIN)[0] == 200
    assert _call(api, "GET", "/eras", {"next_token": "m.garbage"}, user=BILLER_AB)[0] == 400


def test_an_admins_unfiltered_claim_list_walks_the_status_index(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = wiring.repository()
    made = [_claim(f"E{n}", "clinic-a" if n % 2 else "clinic-b") for n in range(5)]
    for claim in made[:2]:
        repo.save(repo.get_claim(claim.claim_id), actor="test", new_status=S.REGISTERED)
    _no_scan(monkeypatch)
    seen, token, pages = [], None, 0
    while True:
        q = {"limit": "2", **({"next_token": token} if token else {})}
        status, page = _call(api, "GET", "/claims", q, user=ADMIN)
        assert status == 200, page
        seen += [(i["status"], i["claim_id"]) for i in page["items"]]
        pages += 1
        if not (token := page["next_token"]):
            break
    assert sorted(c for _, c in seen) == sorted(c.claim_id for c in made)  # each once
    statuses = [s for s, _ in seen]
    assert statuses == ["RECEIVED"] * 3 + ["REGISTERED"] * 2  # status by status, in workflow order
    assert pages >= 3


def _on_worklist(encounter_id: str, clinic: str, amount: str) -> str:
    repo = wiring.repository()
    claim = _claim(encounter_id, clinic)
    update = {"status": S.FOLLOW_UP, "follow_up_action": "appeal", "follow_up_amount": D(amount)}
    repo.save(repo.get_claim(claim.claim_id).model_copy(update=update), actor="test")
    return claim.claim_id


def test_worklists_are_read_by_clinic_key(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    a_small, a_big = _on_worklist("W1", "clinic-a", "40.00"), _on_worklist("W2", "clinic-a", "400.00")
    b_mid = _on_worklist("W3", "clinic-b", "100.00")
    _no_scan(monkeypatch)

    def ids(user: dict[str, Any], **query: str) -> list[str]:
        seen, token = [], None
        while True:
            q = {**query, "limit": "1", **({"next_token": token} if token else {})}
            status, page = _call(api, "GET", "/worklists/appeal", q, user=user)
            assert status == 200, page
            seen += [i["claim_id"] for i in page["items"]]
            if not (token := page["next_token"]):
                return seen

    assert ids(VIEWER_A) == [a_big, a_small]  # money at stake first, within the clinic
    assert ids(BILLER_B) == [b_mid]
    assert ids(BILLER_AB) == [a_big, a_small, b_mid]  # clinic after clinic
    assert ids(ADMIN) == [a_big, b_mid, a_small]  # the office's list
    assert ids(ADMIN, clinic="clinic-b") == [b_mid]
    assert ids(VIEWER_A, clinic="clinic-b") == []


def _patient_balance_claim() -> str:
    repo = wiring.repository()
    claim = _claim("WO1", "clinic-a")
    update = {
        "status": S.SHORT_PAID,
        "total_charge": D("400.00"),
        "paid_amount": D("100.00"),
        "patient_responsibility": D("300.00"),
        "adjustments": [Adjustment(group="PR", reason="1", amount=D("300.00"))],
    }
    repo.save(repo.get_claim(claim.claim_id).model_copy(update=update), actor="test")
    return claim.claim_id


def test_a_large_write_off_needs_another_person_with_billing_manager(api: Any) -> None:
    claim_id = _patient_balance_claim()
    body = {"request_id": "big", "amount": "150.00", "category": "bad_debt", "balance": "patient"}
    status, asked = _call(api, "POST", f"/claims/{claim_id}/adjustments", body=body, user=MANAGER_A)
    assert status == 200 and asked["pending_approval"] is True and asked["patient_balance"] == "300.00"
    approve = f"/claims/{claim_id}/adjustments/big/approve"
    assert _call(api, "POST", approve, user=BILLER_A) == (403, {"message": "requires role billing_manager"})
    assert _call(api, "POST", approve, user=MANAGER_B) == (404, {"message": f"claim {claim_id} not found"})
    status, own = _call(api, "POST", approve, user=MANAGER_A)
    assert (status, own) == (409, {"message": f"claim {claim_id}: the person who asked for big cannot approve it"})
    status, done = _call(api, "POST", approve, user=MANAGER_A2)
    assert status == 200 and done["patient_balance"] == "150.00"
    actors = [e["actor"] for e in _call(api, "GET", f"/claims/{claim_id}", user=ADMIN)[1]["timeline"]]
    assert actors[-2:] == [
        "staff:billing_manager-clinic-a:sub-billing_manager-clinic-a",
        "staff:second-manager-a:sub-second-manager-a",
    ]


def test_an_upload_goes_to_the_clinics_folder_and_nowhere_else(api: Any, aws: LocalResources) -> None:
    body = b'[{"not": "an encounter"}]'
    status, ticket = _call(
        api,
        "POST",
        "/clinics/clinic-a/uploads",
        body={"file_name": "Smith John visits.JSON", "size": len(body)},
        user=BILLER_A,
    )
    assert status == 200, ticket
    key = ticket["key"]
    assert key.startswith("encounters/clinic-a/upload-") and key.endswith(".json")
    assert "Smith" not in key and "Smith" not in str(ticket)  # the file's own name never becomes the key
    assert ticket["report_key"] == f"rejections/{key}" and ticket["max_bytes"] == len(body)
    assert ticket["fields"]["key"] == key
    resp = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("f.json", body)}, timeout=30)
    assert resp.status_code in (200, 204), resp.text
    assert wiring.artifacts().read(key) == body
    path = "/clinics/clinic-a/uploads"
    status, bad = _call(api, "POST", path, body={"file_name": "a/b.json", "size": 1}, user=BILLER_A)
    assert (status, bad) == (400, {"message": "file_name must be 1 to 200 characters, without a path"})
    status, big = _call(
        api, "POST", "/clinics/clinic-a/uploads", body={"file_name": "a.csv", "size": 60 * 1024 * 1024}, user=BILLER_A
    )
    assert (status, big) == (400, {"message": "size must be 1 to 52428800 bytes"})
