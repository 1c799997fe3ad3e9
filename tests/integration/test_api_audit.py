"""Audit: actions name the staff user on the claim's timeline; reads of a claim, its ledger and an
ERA are recorded with who and when; admins read a claim's access log."""

from __future__ import annotations

from typing import Any

import pytest

from medbill.entry import wiring
from medbill.models.status import ClaimStatus as S
from medbill.ports import AccessRecord
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter
from tests.fakes import FakeAccessAudit, FakeWorkflow
from tests.integration.test_api import _call
from tests.integration.test_api_authz import BILLER_A, ERA_A, MANAGER_A, VIEWER_A, world  # noqa: F401
from tests.staff import ADMIN


def test_recheck_names_the_staff_user_on_the_timeline(
    world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, repo, flow = world["api"], wiring.repository(), FakeWorkflow()
    monkeypatch.setattr(wiring, "workflow", lambda: flow)
    held = new_claim(make_encounter(encounter_id="H1", clinic_id="clinic-a"), "encounters/h", 1)
    repo.create_claim(held.model_copy(update={"status": S.ELIGIBILITY_HOLD, "task_token": "tok-1"}))
    assert _call(api, "POST", f"/claims/{held.claim_id}/recheck", user=BILLER_A)[0] == 200
    assert flow.resumed == [("tok-1", {"rechecked": True})]
    last = repo.events(held.claim_id)[-1]
    assert last.actor == "staff:biller-clinic-a:sub-biller-clinic-a"
    assert last.detail == {"recheck_by": "staff:biller-clinic-a:sub-biller-clinic-a"}


def test_a_match_names_the_manager_who_made_it(world: dict[str, Any]) -> None:  # noqa: F811
    api = world["api"]
    [item] = _call(api, "GET", "/worklists/unmatched-remittance", user=MANAGER_A)[1]["items"]
    path = f"/worklists/unmatched-remittance/{item['remittance_id']}/match"
    assert _call(api, "POST", path, body={"claim_id": world["a"]}, user=MANAGER_A)[0] == 200
    actors = [e.actor for e in wiring.repository().events(world["a"])]
    assert actors[-1] == "staff:billing_manager-clinic-a:sub-billing_manager-clinic-a"


def test_reads_are_recorded_and_admins_read_the_access_log(world: dict[str, Any]) -> None:  # noqa: F811
    api, claim_id = world["api"], world["a"]
    assert _call(api, "GET", f"/claims/{claim_id}", user=VIEWER_A)[0] == 200
    assert _call(api, "GET", f"/claims/{claim_id}/ledger", user=BILLER_A)[0] == 200
    assert _call(api, "GET", f"/eras/{ERA_A}", user=VIEWER_A)[0] == 200
    assert _call(api, "GET", "/claims", user=VIEWER_A)[0] == 200  # a listing is not a read of a claim
    # Refused reads are not reads: the access log says who saw the claim.
    assert (
        _call(api, "GET", f"/claims/{claim_id}", user={**BILLER_A, "cognito:groups": "biller,clinic:clinic-b"})[0]
        == 404
    )

    status, log = _call(api, "GET", f"/claims/{claim_id}/access-log", user=ADMIN)
    assert status == 200
    assert [(r["user_name"], r["action"]) for r in log["items"]] == [
        ("biller-clinic-a", "read_ledger"),
        ("viewer-clinic-a", "read_claim"),
    ]
    assert log["items"][0]["user_id"] == "sub-biller-clinic-a" and log["items"][0]["at"] > log["items"][1]["at"]
    assert [r.action for r in wiring.repository().access_log("era", ERA_A)[0]] == ["read_era"]
    # Only admins read it; a manager of the claim's clinic cannot.
    assert _call(api, "GET", f"/claims/{claim_id}/access-log", user=MANAGER_A)[0] == 403


@pytest.mark.parametrize("kind", ["fake", "dynamodb"])
def test_access_audit_contract(kind: str, request: pytest.FixtureRequest) -> None:
    if kind == "dynamodb":
        request.getfixturevalue("aws")
    audit: Any = FakeAccessAudit() if kind == "fake" else wiring.repository()

    def rec(at: str, req: str, user: str = "u1") -> AccessRecord:
        return AccessRecord("claim", "CLM1", "read_claim", f"sub-{user}", user, at, req)

    audit.record_access(rec("2026-12-01T10:00:00+00:00", "r1"))
    audit.record_access(rec("2026-12-01T10:00:00+00:00", "r1"))  # the same request again: once
    audit.record_access(rec("2026-12-01T11:00:00+00:00", "r2", "u2"))
    audit.record_access(rec("2026-12-01T12:00:00+00:00", "r3"))
    audit.record_access(AccessRecord("claim", "CLM2", "read_claim", "sub-x", "x", "2026-12-02T00:00:00+00:00", "r9"))
    page, token = audit.access_log("claim", "CLM1", limit=2)
    assert [r.request_id for r in page] == ["r3", "r2"] and token
    rest, token = audit.access_log("claim", "CLM1", limit=2, next_token=token)
    assert [r.request_id for r in rest] == ["r1"] and token is None
    assert rest[0] == rec("2026-12-01T10:00:00+00:00", "r1")
    assert audit.access_log("era", "CLM1") == ([], None)
