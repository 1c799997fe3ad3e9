"""Retry and Catch of the REAL claim.asl.json on moto's interpreter (issue 12, item 3): transient
errors are retried with backoff, terminal ones end in MarkFailed with the error name as the
execution's cause, and a failed MarkFailed ends in its own named error (the alarm's key)."""

from __future__ import annotations

import json

from infra.local.runtime import LocalRuntime
from medbill.entry.observability import AwsThrottled
from medbill.ports import ConcurrentUpdate
from tests.integration.local.fakes import FakeWorkflow


def _finish_paid(rt: LocalRuntime, wf: FakeWorkflow, claim_id: str) -> dict[str, object]:
    rt.run_until(lambda: (claim_id, "remittance") in wf.tokens, timeout_s=30)
    rt.sfn.send_task_success(taskToken=wf.tokens[(claim_id, "remittance")], output=json.dumps({"outcome": "paid"}))
    return rt.wait_for_execution(claim_id, timeout_s=30)


def _calls(wf: FakeWorkflow, name: str, claim_id: str) -> int:
    return sum(1 for n, e in wf.calls if n == name and e.get("claim_id") == claim_id)


def test_transient_errors_are_retried_and_the_claim_carries_on(
    runtime: LocalRuntime, fake_workflow: FakeWorkflow
) -> None:
    wf = fake_workflow
    wf.raise_next[("CLM-RACE", "coding")] = [
        ConcurrentUpdate("CLM-RACE"),
        AwsThrottled("ThrottlingException on PutItem"),
    ]
    wf.raise_next[("CLM-RACE", "charges")] = [ConcurrentUpdate("CLM-RACE")]
    runtime.start_execution("CLM-RACE")
    desc = _finish_paid(runtime, wf, "CLM-RACE")
    assert desc["status"] == "SUCCEEDED"
    assert (_calls(wf, "coding", "CLM-RACE"), _calls(wf, "charges", "CLM-RACE")) == (3, 2)
    assert "MarkFailed" not in runtime.states_entered("CLM-RACE")
    assert wf.followups == []


def test_a_transient_error_that_persists_ends_failed_with_its_name(
    runtime: LocalRuntime, fake_workflow: FakeWorkflow
) -> None:
    wf = fake_workflow
    wf.raise_next[("CLM-LOCKED", "charges")] = [ConcurrentUpdate("CLM-LOCKED") for _ in range(6)]
    runtime.start_execution("CLM-LOCKED")
    desc = runtime.wait_for_execution("CLM-LOCKED", timeout_s=60)
    assert (desc["status"], desc["error"], desc["cause"]) == ("FAILED", "ClaimFailed", "ConcurrentUpdate")
    assert _calls(wf, "charges", "CLM-LOCKED") == 5  # the first try and 4 retries
    assert runtime.states_entered("CLM-LOCKED")[-2:] == ["MarkFailed", "Failed"]
    assert wf.followups == [{"claim_id": "CLM-LOCKED", "action": "fail", "error": "ConcurrentUpdate"}]


def test_a_terminal_error_is_not_retried(runtime: LocalRuntime, fake_workflow: FakeWorkflow) -> None:
    fake_workflow.fail_in["CLM-BAD"] = "coding"  # RuntimeError: a bug, not a race
    runtime.start_execution("CLM-BAD")
    desc = runtime.wait_for_execution("CLM-BAD", timeout_s=30)
    assert (desc["status"], desc["error"], desc["cause"]) == ("FAILED", "ClaimFailed", "RuntimeError")
    assert _calls(fake_workflow, "coding", "CLM-BAD") == 1


def test_a_failed_mark_failed_ends_in_its_own_named_error(runtime: LocalRuntime, fake_workflow: FakeWorkflow) -> None:
    """Hostile case: MarkFailed itself fails. The execution ends with error MarkFailedFailed (the
    mark-failed-failed alarm counts the state), which makes the claim a stuck claim
    (workflow.recovery.stuck_claims reads the failed executions)."""
    wf = fake_workflow
    wf.fail_in["CLM-WORSE"] = "coding"
    wf.raise_next[("CLM-WORSE", "followup")] = [RuntimeError("the claims table is gone")]
    runtime.start_execution("CLM-WORSE")
    desc = runtime.wait_for_execution("CLM-WORSE", timeout_s=30)
    assert (desc["status"], desc["error"]) == ("FAILED", "MarkFailedFailed")
    assert "stuck-claims" in desc["cause"] and "the claims table" not in desc["cause"]
    assert runtime.states_entered("CLM-WORSE")[-2:] == ["MarkFailed", "MarkFailedFailed"]
    failed = [e["name"] for e in runtime.list_executions(status="FAILED")]
    assert failed == ["CLM-WORSE"]


def test_a_retry_is_a_new_execution_with_its_attempt(runtime: LocalRuntime, fake_workflow: FakeWorkflow) -> None:
    fake_workflow.fail_in["CLM-AGAIN"] = "coding"
    runtime.start_execution("CLM-AGAIN")
    assert runtime.wait_for_execution("CLM-AGAIN", timeout_s=30)["status"] == "FAILED"
    del fake_workflow.fail_in["CLM-AGAIN"]
    runtime.sfn.start_execution(
        stateMachineArn=runtime.resources.state_machine_arn,
        name="CLM-AGAIN-r2",
        input=json.dumps({"claim_id": "CLM-AGAIN", "clinic_id": "clinic-a", "attempt": 2}),
    )
    runtime.run_until(lambda: ("CLM-AGAIN", "remittance") in fake_workflow.tokens, timeout_s=30)
    runtime.sfn.send_task_success(
        taskToken=fake_workflow.tokens[("CLM-AGAIN", "remittance")], output=json.dumps({"outcome": "paid"})
    )
    assert runtime.wait_for_execution("CLM-AGAIN-r2", timeout_s=30)["status"] == "SUCCEEDED"
