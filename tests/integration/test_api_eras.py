"""Staff API for payment posting: ERAs, reconciliation, release, ledger, unmatched work queue."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.billing.era import receive_era_file
from medbill.billing.posting import post_remittance
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.remittance import ClaimRemittance
from medbill.workflow.intake import new_claim
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.factories import make_encounter
from tests.integration.test_api import _call, _get, _load_api


class PostNow:
    """The posting queue, posting each message at once (the fan-out is tested on the local runtime)."""

    def send(self, remittances: list[ClaimRemittance]) -> int:
        for remit in remittances:
            post_remittance(wiring.repository(), wiring.workflow(), remit)
        return len(remittances)


def _priced_claim(encounter_id: str) -> Claim:
    claim = new_claim(make_encounter(encounter_id=encounter_id), "encounters/t.json", 1)
    lines = [line.model_copy(update={"charge": Decimal("100.00")}) for line in claim.lines]
    claim = claim.model_copy(update={"lines": lines, "total_charge": Decimal("200.00")})
    wiring.repository().create_claim(claim)
    return claim


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def _receive(key: str, text: str) -> None:
    wiring.artifacts().write(key, text)
    receive_era_file(wiring.repository(), wiring.artifacts(), PostNow(), key)  # type: ignore[arg-type]


def test_era_reconciliation_ledger_and_unmatched_match(api: Any) -> None:
    paid, stranger_claim = _priced_claim("E-PAID"), _priced_claim("E-LATE")
    stranger = ClaimPayment(
        claim_id="UNKNOWN-CLP01",
        status_code="1",
        charge=Decimal("200.00"),
        paid=Decimal("160.00"),
        adjustments=[Adjustment("CO", "45", Decimal("40.00"))],
    )
    _receive("era/a.835", era_for([(paid, "paid")], payer_id="PAYERA01", trace="TRACE1", extra_claims=[stranger]))

    status, page = _get(api, "/eras")
    assert status == 200 and [e["era_id"] for e in page["items"]] == ["1PAYERA010-TRACE1"]
    status, era = _get(api, "/eras/1PAYERA010-TRACE1")
    assert status == 200
    assert (era["era_status"], era["total_paid"], era["posted_total"], era["unmatched_total"]) == (
        "POSTED_WITH_UNMATCHED",
        "320.00",
        "160.00",
        "160.00",
    )
    assert era["difference"] == "0.00" and era["reconciled"] is True

    status, ledger = _get(api, f"/claims/{paid.claim_id}/ledger")
    assert status == 200 and ledger["paid_amount"] == "160.00"
    [entry] = ledger["entries"]
    assert (entry["kind"], entry["paid"], entry["era_id"]) == ("payment", "160.00", "1PAYERA010-TRACE1")
    assert [line["match"] for line in entry["lines"]] == ["control_number", "control_number"]

    status, work = _get(api, "/worklists/unmatched-remittance")
    assert status == 200
    [item] = work["items"]
    assert (item["clp01"], item["paid"], item["era_id"]) == ("UNKNOWN-CLP01", "160.00", "1PAYERA010-TRACE1")

    status, body = _call(
        api, "POST", f"/worklists/unmatched-remittance/{item['remittance_id']}/match", body={"claim_id": "CLMNOPE"}
    )
    assert status == 404  # no such claim: nothing consumed
    status, body = _call(
        api,
        "POST",
        f"/worklists/unmatched-remittance/{item['remittance_id']}/match",
        body={"claim_id": stranger_claim.claim_id},
    )
    assert status == 200 and body["result"] == "posted"
    assert _get(api, "/worklists/unmatched-remittance")[1]["items"] == []
    era = _get(api, "/eras/1PAYERA010-TRACE1")[1]
    assert (era["era_status"], era["posted_total"], era["unmatched_total"]) == ("POSTED", "320.00", "0.00")
    assert _get(api, f"/claims/{stranger_claim.claim_id}")[1]["paid_amount"] == "160.00"
    status, _ = _call(
        api, "POST", f"/worklists/unmatched-remittance/{item['remittance_id']}/match", body={"claim_id": paid.claim_id}
    )
    assert status == 404  # already matched


def test_quarantined_era_is_released_once(api: Any, aws: LocalResources) -> None:
    claim = _priced_claim("E-Q")
    text = era_for([(claim, "paid")], payer_id="PAYERA01", trace="TRACE2")
    unbalanced = text.replace("BPR*I*160.00*", "BPR*I*150.00*")
    assert unbalanced != text
    _receive("era/q.835", unbalanced)
    era = _get(api, "/eras/1PAYERA010-TRACE2")[1]
    assert era["era_status"] == "QUARANTINED" and era["posted_count"] == 0
    assert any("total paid 150.00" in p for p in era["problems"])
    assert wiring.repository().ledger(claim.claim_id) == []

    status, body = _call(api, "POST", "/eras/1PAYERA010-TRACE2/release")
    assert status == 202 and body["era_status"] == "RELEASED"
    sqs = wiring.release_queue()._client
    url = aws.queue("remittance").url
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    # Besides S3's own notifications (the test wrote the file to era/), one release request:
    assert [b for b in bodies if b.get("kind") == "release"] == [
        {
            "kind": "release",
            "source_key": "era/q.835",
            "file_id": era["file_id"],
            "released_by": "staff:ada-admin:sub-ada-admin",  # the signed-in user, name and id
        }
    ]
    status, body = _call(api, "POST", "/eras/1PAYERA010-TRACE2/release")
    assert status == 409 and "RELEASED" in body["message"]
    assert _call(api, "POST", "/eras/NOPE-1/release")[0] == 404


def test_unreadable_era_cannot_be_released(api: Any) -> None:
    _receive("era/junk.835", "this is not an 835")
    [era] = _get(api, "/eras")[1]["items"]
    assert era["era_status"] == "QUARANTINED" and "not a readable X12 835" in era["problems"][0]
    status, body = _call(api, "POST", f"/eras/{era['era_id']}/release")
    assert status == 409 and "not a readable 835" in body["message"]


def _denial_and_payment(claim: Claim, denial_pcn: str, paid_pcn: str) -> tuple[ClaimPayment, ClaimPayment]:
    """The same payer denying the 200.00 claim (CO-16), and paying it 160.00 (CO-45 40.00)."""
    denied = ClaimPayment(
        claim.claim_id,
        "4",
        Decimal("200.00"),
        Decimal("0.00"),
        None,
        "CI",
        denial_pcn,
        adjustments=[Adjustment("CO", "16", Decimal("200.00"))],
    )
    paid = ClaimPayment(
        claim.claim_id,
        "1",
        Decimal("200.00"),
        Decimal("160.00"),
        None,
        "CI",
        paid_pcn,
        adjustments=[Adjustment("CO", "45", Decimal("40.00"))],
    )
    return denied, paid


def test_ledger_says_which_adjudication_superseded_which(api: Any) -> None:
    """The payer denied, then paid the corrected claim without reversing its denial first."""
    claim = _priced_claim("SUPERSEDE1")
    denied, paid = _denial_and_payment(claim, "PCN1", "PCN2")
    _receive("era/denied.835", era_for([], payer_id="PAYERA01", trace="DENY1", extra_claims=[denied]))
    _receive("era/paid.835", era_for([], payer_id="PAYERA01", trace="PAY1", extra_claims=[paid]))

    status, ledger = _get(api, f"/claims/{claim.claim_id}/ledger")
    assert status == 200
    assert (ledger["paid_amount"], ledger["adjustment_amount"], ledger["patient_responsibility"]) == (
        "160.00",
        "40.00",
        "0.00",
    )
    by_kind = {e["kind"]: e for e in ledger["entries"]}
    assert by_kind["denial"]["superseded_by"] == by_kind["payment"]["source"]
    assert by_kind["payment"]["superseded_by"] is None


def test_within_one_payment_the_later_claim_payment_in_the_file_is_the_later_adjudication(api: Any) -> None:
    """A denial and, further down the same payment, the same payer paying the same service: file order
    decides, not how the entries' sources happen to sort (CLP02 "4" sorts after "1")."""
    claim = _priced_claim("SUPERSEDE2")
    denied, paid = _denial_and_payment(claim, "PCN9", "PCN10")
    _receive("era/one-payment.835", era_for([], payer_id="PAYERA01", trace="ONE1", extra_claims=[denied, paid]))

    status, ledger = _get(api, f"/claims/{claim.claim_id}/ledger")
    assert status == 200 and (ledger["paid_amount"], ledger["adjustment_amount"]) == ("160.00", "40.00")
    by_kind = {e["kind"]: e for e in ledger["entries"]}
    assert by_kind["denial"]["superseded_by"] == by_kind["payment"]["source"]
    assert by_kind["denial"]["position"] < by_kind["payment"]["position"]
