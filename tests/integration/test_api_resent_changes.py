"""A re-sent encounter that changed, through the staff API on moto (issue 12 item 4): the claim is on
the `resent_changed` worklist (the by-worklist / by-clinic-worklist index) with the changed field
names, never their values; a biller of the clinic resolves it, audited with the staff actor."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.workflow.intake import new_claim
from medbill.workflow.intake_resend import changed_fields, note_changed_resend
from tests.factories import CANARY_LAST, make_encounter
from tests.integration.test_api import _call, _load_api
from tests.staff import claims

BILLER_A = claims("biller", "clinic-a")
BILLER_B = claims("biller", "clinic-b")


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def _changed_resend() -> str:
    """Claim E-9 from monday.json, then tuesday.json with another last name (how intake notes it)."""
    repo = wiring.repository()
    first = make_encounter(encounter_id="E-9", clinic_id="clinic-a")
    claim = new_claim(first, "encounters/clinic-a/monday.json", 1)
    assert repo.create_claim(claim)
    resent = first.model_copy(update={"patient": first.patient.model_copy(update={"last_name": "Resentname"})})
    fields = changed_fields(repo.get_claim(claim.claim_id), resent)
    assert fields == ["patient.last_name"]
    note_changed_resend(repo, claim.claim_id, "encounters/clinic-a/tuesday.json", 1, fields)
    return claim.claim_id


def test_a_changed_resend_is_on_the_worklist_and_a_biller_resolves_it(api: Any) -> None:
    claim_id = _changed_resend()
    status, page = _call(api, "GET", "/worklists/resent_changed", user=BILLER_A)
    assert status == 200
    [item] = page["items"]
    assert (item["claim_id"], item["changed_fields"], item["status"]) == (claim_id, ["patient.last_name"], "RECEIVED")
    assert _call(api, "GET", "/worklists/resent_changed", user=BILLER_B)[1]["items"] == []
    assert "Resentname" not in json.dumps(page) and CANARY_LAST not in json.dumps(page)
    assert _call(api, "GET", f"/claims/{claim_id}", user=BILLER_A)[1]["resent_changes"] == ["patient.last_name"]

    bad = _call(api, "POST", f"/claims/{claim_id}/resent-changes/resolve", body={"action": "drop"}, user=BILLER_A)
    assert bad[0] == 422  # not an action: the claim stays on the list
    assert len(_call(api, "GET", "/worklists/resent_changed", user=BILLER_A)[1]["items"]) == 1
    status, body = _call(
        api, "POST", f"/claims/{claim_id}/resent-changes/resolve", body={"action": "keep"}, user=BILLER_A
    )
    assert (status, body) == (200, {"claim_id": claim_id, "action": "keep", "fields": ["patient.last_name"]})
    assert _call(api, "GET", "/worklists/resent_changed", user=BILLER_A)[1]["items"] == []
    _, detail = _call(api, "GET", f"/claims/{claim_id}", user=BILLER_A)
    assert detail["resent_changes"] == []
    last = detail["timeline"][-1]
    assert last["actor"] == f"staff:{BILLER_A['cognito:username']}:{BILLER_A['sub']}"
    assert last["detail"] == {"event": "resent_changes_resolved", "action": "keep", "fields": ["patient.last_name"]}
    assert "Resentname" not in json.dumps(detail["timeline"])

    again = _call(api, "POST", f"/claims/{claim_id}/resent-changes/resolve", body={"action": "keep"}, user=BILLER_A)
    assert again == (409, {"message": f"claim {claim_id} has no re-sent changes waiting to be resolved"})
