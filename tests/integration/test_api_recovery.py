"""Recovery through the staff API on moto (issue 12): a biller retries a FAILED claim, which starts
execution `<claim id>-r2` on the claim state machine; a manager lists the stuck claims (their
execution ended but MarkFailed could not mark them FAILED)."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.status import ClaimStatus as S
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import fail, register
from tests.factories import CANARY_LAST, CANARY_MEMBER, make_encounter
from tests.integration.test_api import _call, _load_api
from tests.staff import claims

BILLER_A = claims("biller", "clinic-a")
MANAGER_A = claims("billing_manager", "clinic-a")
MANAGER_B = claims("billing_manager", "clinic-b")


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def _registered(encounter_id: str, clinic: str = "clinic-a") -> str:
    repo = wiring.repository()
    claim = new_claim(make_encounter(encounter_id=encounter_id, clinic_id=clinic), "encounters/t.json", 1)
    repo.create_claim(claim)
    register(repo, claim.claim_id)
    return claim.claim_id


def test_a_biller_retries_a_failed_claim_as_a_new_execution(api: Any, aws: LocalResources) -> None:
    claim_id = _registered("R1")
    fail(wiring.repository(), claim_id, "States.TaskFailed")
    status, body = _call(api, "POST", f"/claims/{claim_id}/retry", user=BILLER_A)
    assert (status, body) == (
        200,
        {"claim_id": claim_id, "status": "REGISTERED", "attempt": 2, "execution": f"{claim_id}-r2", "started": True},
    )
    sfn = boto3.client("stepfunctions")
    arn = aws.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{claim_id}-r2"
    execution = sfn.describe_execution(executionArn=arn)
    assert json.loads(execution["input"]) == {"claim_id": claim_id, "clinic_id": "clinic-a", "attempt": 2}
    _, detail = _call(api, "GET", f"/claims/{claim_id}", user=BILLER_A)
    last = detail["timeline"][-1]
    assert (last["old_status"], last["new_status"]) == ("FAILED", "REGISTERED")
    assert last["actor"] == f"staff:{BILLER_A['cognito:username']}:{BILLER_A['sub']}"
    assert last["detail"]["execution"] == f"{claim_id}-r2"
    text = json.dumps(body) + json.dumps(last)
    assert CANARY_LAST not in text and CANARY_MEMBER not in text


def test_a_claim_that_is_neither_failed_nor_stuck_is_a_409(api: Any) -> None:
    claim_id = _registered("R2")
    status, body = _call(api, "POST", f"/claims/{claim_id}/retry", user=BILLER_A)
    assert (status, body) == (409, {"message": f"claim {claim_id} is REGISTERED; its workflow is not started"})
    assert wiring.repository().get_claim(claim_id).status == S.REGISTERED


def test_stuck_claims_are_listed_per_clinic_and_recovered(api: Any, aws: LocalResources) -> None:
    stuck, fine = _registered("S1"), _registered("S2")
    sfn = boto3.client("stepfunctions")
    for claim_id in (stuck, fine):
        sfn.start_execution(
            stateMachineArn=aws.state_machine_arn,
            name=claim_id,
            input=json.dumps({"claim_id": claim_id, "clinic_id": "clinic-a"}),
        )
    # No Lambda bridge here: moto's Lambda echoes the payload, so both executions end FAILED at once
    # without touching the claims, as after MarkFailedFailed. MarkFailed worked for `fine` only.
    for claim_id in (stuck, fine):
        arn = aws.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{claim_id}"
        deadline = time.monotonic() + 20
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"
    fail(wiring.repository(), fine, "Lambda.Unknown")
    status, body = _call(api, "GET", "/worklists/stuck-claims", user=MANAGER_A)
    assert status == 200
    assert [(i["claim_id"], i["status"], i["attempt"]) for i in body] == [(stuck, "REGISTERED", 1)]
    assert _call(api, "GET", "/worklists/stuck-claims", user=MANAGER_B) == (200, [])
    status, body = _call(api, "POST", f"/claims/{stuck}/retry", user=BILLER_A)
    assert (status, body["execution"], body["status"]) == (200, f"{stuck}-r2", "REGISTERED")
    assert _call(api, "GET", "/worklists/stuck-claims", user=MANAGER_A)[1] == []
