"""Staff API over ERAs, audit findings: GET /eras shows the derived status and pages through a key
query (no table scan); GET /eras/{id} pages its claim payments while the reconciliation stays
complete. Each test failed before its fix."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.entry import wiring
from testkit.era_builder import era_for
from tests.integration.posting.conftest import CollectingQueue, FakeWorkflow, Posting, make_claim
from tests.integration.test_api import _call, _get, _load_api

DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


@pytest.fixture
def p(aws: LocalResources) -> Posting:
    return Posting(wiring.repository(), CollectingQueue(), FakeWorkflow())


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


# --- the ERA list: derived status, claims done, a key query with pages ---------------------
def test_era_list_shows_derived_status_and_pages_without_a_scan(p: Posting, api: Any, monkeypatch: Any) -> None:
    claims = [make_claim(p.repo, f"LIST{i:02d}", dos=DOS, lines=LINES) for i in range(3)]
    p.receive("era/l1.835", era_for([(claims[0], "paid")], payer_id="PAYERA01", trace="L1"))
    p.post_queued()
    p.receive("era/l2.835", era_for([(claims[1], "paid"), (claims[2], "paid")], payer_id="PAYERA01", trace="L2"))
    [first, _lost] = p.queue.take()  # one posting message ends in the DLQ
    p.post([first])
    bad = era_for([(claims[0], "paid")], payer_id="PAYERA01", trace="L3").replace("BPR*I*120.00*", "BPR*I*1.00*")
    p.receive("era/l3.835", bad)

    def no_scan(**kwargs: Any) -> Any:
        raise AssertionError("GET /eras scanned the table")

    monkeypatch.setattr(wiring.repository()._client, "scan", no_scan)
    status, page1 = _get(api, "/eras", {"limit": "2"})
    assert status == 200 and page1["next_token"]
    status, page2 = _get(api, "/eras", {"limit": "2", "next_token": page1["next_token"]})
    assert status == 200 and page2["next_token"] is None
    items = {e["era_id"]: e for e in page1["items"] + page2["items"]}
    assert [e["era_id"] for e in page1["items"] + page2["items"]] == [
        "1PAYERA010-L3",  # newest first
        "1PAYERA010-L2",
        "1PAYERA010-L1",
    ]
    shown = {k: (e["era_status"], e["claims_done"], e["claim_count"]) for k, e in items.items()}
    assert shown == {
        "1PAYERA010-L1": ("POSTED", 1, 1),  # read POSTING forever before
        "1PAYERA010-L2": ("POSTING", 1, 2),
        "1PAYERA010-L3": ("QUARANTINED", 0, 1),
    }

    # GET /eras/{id}: the claim payment with no result is named as pending.
    era = _get(api, "/eras/1PAYERA010-L2")[1]
    assert (era["era_status"], era["claims_recorded"], era["claims_pending"]) == ("POSTING", 1, 1)
    [pending] = [c for c in era["claims"] if c["result"] == "pending"]
    assert pending["clp01"] == "LIST02" and era["pending_positions"] == [pending["position"]]

    # Tokens are checked: garbage, and a claims-page token, are 400s.
    assert _get(api, "/eras", {"next_token": "bm90LWEtdG9rZW4="})[0] == 400
    claims_token = wiring.repository().era_claims_token("1PAYERA010-L2", 1)
    assert _get(api, "/eras", {"next_token": claims_token})[0] == 400


# --- 4. GET /eras/{id}: claims in pages, the reconciliation complete on every page ---------------
def test_era_claims_come_in_pages_with_the_whole_reconciliation(p: Posting, api: Any) -> None:
    claims = [make_claim(p.repo, f"PAGE{i:02d}", dos=DOS, lines=LINES) for i in range(5)]
    s = p.receive("era/page.835", era_for([(c, "paid") for c in claims], payer_id="PAYERA01", trace="PG1"))
    p.post_queued()
    [era_id] = s.era_ids
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        query = {"limit": "2", **({"next_token": token} if token else {})}
        status, body = _get(api, f"/eras/{era_id}", query)
        assert status == 200 and len(body["claims"]) <= 2
        assert (body["posted_count"], body["posted_total"], body["reconciled"]) == (5, "600.00", True)
        seen += [c["clp01"] for c in body["claims"]]
        pages += 1
        token = body["next_token"]
        if not token:
            break
    assert pages == 3 and seen == [c.claim_id for c in claims]
    assert all("pk" not in c for c in body["claims"])
    other = wiring.repository().era_claims_token("SOMEONE-ELSE", 1)
    assert _get(api, f"/eras/{era_id}", {"next_token": other})[0] == 400
    assert _get(api, f"/eras/{era_id}", {"limit": "100000"})[0] == 422


def test_copy_of_a_posted_era_cannot_be_released_again_through_the_api(p: Posting, api: Any) -> None:
    claim = make_claim(p.repo, "APICOPY01", dos=DOS, lines=LINES)
    bad = era_for([(claim, "paid")], payer_id="PAYERA01", trace="AC1").replace("BPR*I*120.00*", "BPR*I*119.00*")
    [era_id] = p.receive("era/ac.835", bad).era_ids
    assert _call(api, "POST", f"/eras/{era_id}/release")[0] == 202
    p.receive("era/ac.835", bad, released=True, upload=False)
    p.post_queued()
    p.receive("era/ac-copy.835", bad)
    era = _get(api, f"/eras/{era_id}")[1]
    assert (era["era_status"], era["source_key"], era["duplicate_keys"]) == (
        "POSTED",
        "era/ac.835",
        ["era/ac-copy.835"],
    )
    [listed] = _get(api, "/eras")[1]["items"]
    assert (listed["era_status"], listed["duplicate_keys"]) == ("POSTED", ["era/ac-copy.835"])
    status, body = _call(api, "POST", f"/eras/{era_id}/release")
    assert status == 409 and "is POSTED, not QUARANTINED" in body["message"]
