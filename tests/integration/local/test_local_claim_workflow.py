"""The REAL claim.asl.json on moto's interpreter, with fake handlers for its 7 functions."""

from __future__ import annotations

import json

from infra import config
from infra.local.runtime import LocalRuntime
from tests.integration.local.fakes import FakeWorkflow


def _token(rt: LocalRuntime, wf: FakeWorkflow, claim_id: str, stage: str) -> str:
    rt.run_until(lambda: (claim_id, stage) in wf.tokens, timeout_s=15)
    return wf.tokens[(claim_id, stage)]


def test_provisioned_state_machine_is_the_rendered_asl(runtime: LocalRuntime) -> None:
    res = runtime.resources
    desc = runtime.sfn.describe_state_machine(stateMachineArn=res.state_machine_arn)
    expected = config.render_asl(config.asl_substitutions(res.function_arns, runtime.timeouts))
    assert json.loads(desc["definition"]) == json.loads(expected)
    assert desc["type"] == "STANDARD"


def test_paid_claim_runs_every_stage_and_succeeds(runtime: LocalRuntime, fake_workflow: FakeWorkflow) -> None:
    runtime.start_execution("CLM-PAID")
    token = _token(runtime, fake_workflow, "CLM-PAID", "remittance")
    assert runtime.wait_for_task_token_state("CLM-PAID") == "AwaitRemittance"
    runtime.sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": "paid"}))
    desc = runtime.wait_for_execution("CLM-PAID")
    assert desc["status"] == "SUCCEEDED"
    out = json.loads(desc["output"])
    assert out["registration"] == {"patient_id": "PAT-CLM-PAID"}
    assert out["charges"] == {"total_charge": "150.00"}
    assert out["submission"] == {"interchange_control_number": "000000001"}
    assert out["remittance"] == {"outcome": "paid"}
    assert runtime.states_entered("CLM-PAID") == [
        "Register",
        "VerifyEligibility",
        "EligibilityDecision",
        "Code",
        "CodingDecision",
        "EnterCharges",
        "Submit",
        "AwaitRemittance",
        "RemittanceRoute",
        "Close",
    ]
    assert [name for name, _ in fake_workflow.calls if name != "sqs"] == [
        "registration",
        "eligibility",
        "coding",
        "charges",
        "submission",
        "await_token",
    ]
    assert runtime.failures == []


def test_denied_claim_goes_to_follow_up(runtime: LocalRuntime, fake_workflow: FakeWorkflow) -> None:
    runtime.start_execution("CLM-DENIED")
    token = _token(runtime, fake_workflow, "CLM-DENIED", "remittance")
    runtime.sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": "denied"}))
    desc = runtime.wait_for_execution("CLM-DENIED")
    assert desc["status"] == "SUCCEEDED"
    assert runtime.states_entered("CLM-DENIED")[-4:] == ["RemittanceRoute", "FollowUp", "FollowUpRoute", "InFollowUp"]
    assert fake_workflow.followups == [{"claim_id": "CLM-DENIED", "action": "follow_up", "outcome": "denied"}]
    assert json.loads(desc["output"])["follow_up"] == {"status": "in_follow_up", "action": "follow_up"}


def test_bill_secondary_submits_to_the_next_payer_and_waits_again(
    runtime: LocalRuntime, fake_workflow: FakeWorkflow
) -> None:
    fake_workflow.actions["CLM-COB"] = ["bill_secondary", "bill_secondary", "bill_patient"]
    runtime.start_execution("CLM-COB")
    for outcome in ("short_paid", "short_paid", "short_paid"):  # primary, secondary, tertiary
        waits = sum(1 for name, _ in fake_workflow.calls if name == "await_token")
        runtime.run_until(lambda n=waits: sum(1 for name, _ in fake_workflow.calls if name == "await_token") > n)
        token = fake_workflow.tokens[("CLM-COB", "remittance")]
        runtime.sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": outcome}))
    desc = runtime.wait_for_execution("CLM-COB")
    assert desc["status"] == "SUCCEEDED"
    tail = ["AwaitRemittance", "RemittanceRoute", "FollowUp", "FollowUpRoute"]
    assert runtime.states_entered("CLM-COB")[6:] == [
        "Submit",
        *tail,
        "SubmitNextPayer",
        *tail,
        "SubmitNextPayer",
        *tail,
        "InFollowUp",
    ]
    submissions = [e for name, e in fake_workflow.calls if name == "submission"]
    assert [e.get("next_payer", False) for e in submissions] == [False, True, True]


def test_eligibility_hold_waits_for_staff_then_verifies_again(
    runtime: LocalRuntime, fake_workflow: FakeWorkflow
) -> None:
    fake_workflow.eligibility["CLM-HOLD"] = ["hold", "eligible"]
    runtime.start_execution("CLM-HOLD")
    staff_token = _token(runtime, fake_workflow, "CLM-HOLD", "eligibility")
    assert runtime.wait_for_task_token_state("CLM-HOLD") == "EligibilityHold"
    assert runtime.describe_execution("CLM-HOLD")["status"] == "RUNNING"
    runtime.sfn.send_task_success(taskToken=staff_token, output=json.dumps({"resolved_by": "staff"}))
    remittance_token = _token(runtime, fake_workflow, "CLM-HOLD", "remittance")
    runtime.sfn.send_task_success(taskToken=remittance_token, output=json.dumps({"outcome": "paid"}))
    assert runtime.wait_for_execution("CLM-HOLD")["status"] == "SUCCEEDED"
    states = runtime.states_entered("CLM-HOLD")
    assert states[:6] == [
        "Register",
        "VerifyEligibility",
        "EligibilityDecision",
        "EligibilityHold",
        "VerifyEligibility",
        "EligibilityDecision",
    ]


def test_task_error_is_caught_marked_failed_and_fails(runtime: LocalRuntime, fake_workflow: FakeWorkflow) -> None:
    fake_workflow.fail_in["CLM-BROKEN"] = "coding"
    runtime.start_execution("CLM-BROKEN")
    desc = runtime.wait_for_execution("CLM-BROKEN")
    assert desc["status"] == "FAILED"
    assert desc["error"] == "ClaimFailed"
    assert runtime.states_entered("CLM-BROKEN")[-2:] == ["MarkFailed", "Failed"]
    assert fake_workflow.followups == [{"claim_id": "CLM-BROKEN", "action": "fail", "error": "RuntimeError"}]
    # The handler exception is surfaced, not swallowed.
    assert [(f.function_name, f.error_type) for f in runtime.failures] == [("medbill-coding", "RuntimeError")]


def test_remittance_wait_times_out_into_follow_up(fake_workflow: FakeWorkflow) -> None:
    short = config.WorkflowTimeouts(remittance_wait_seconds=1, staff_hold_seconds=30, retry_interval_seconds=1)
    with LocalRuntime(fake_workflow.handlers(), timeouts=short, simulator=False) as rt:
        rt.start_execution("CLM-LATE")
        desc = rt.wait_for_execution("CLM-LATE", timeout_s=15)
        assert desc["status"] == "SUCCEEDED"
        assert rt.states_entered("CLM-LATE")[-4:] == ["RemittanceTimedOut", "FollowUp", "FollowUpRoute", "InFollowUp"]
        assert fake_workflow.followups[-1]["outcome"] == "timed_out"


def test_start_execution_with_the_same_name_is_idempotent(runtime: LocalRuntime) -> None:
    first = runtime.start_execution("CLM-ONCE")
    again = runtime.start_execution("CLM-ONCE")
    assert first == again
    assert len(runtime.list_executions()) == 1
