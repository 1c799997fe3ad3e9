"""The Lambda bridge: moto's Lambda invoke runs our handlers; fails loudly if moto moves."""

from __future__ import annotations

import inspect
import io
import json
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import lambda_bridge
from infra.local.lambda_bridge import (
    EXPECTED_PARAMETERS,
    LambdaBridge,
    LocalLambdaContext,
    check_moto_compatibility,
    is_installed,
    load_project_handlers,
)
from infra.local.runtime import MOTO_CONFIG

REGION = "us-east-1"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _create_functions(*names: str) -> dict[str, str]:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    return {
        n: lam.create_function(
            FunctionName=n, Runtime="python3.12", Role=role, Handler="h.handler", Code={"ZipFile": _zip()}
        )["FunctionArn"]
        for n in names
    }


def _run_machine(definition: dict[str, Any], execution_input: dict[str, Any], name: str = "run-1") -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="m-" + name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(execution_input))["executionArn"])


def _wait(execution_arn: str, timeout_s: float = 15) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] != "RUNNING":
            return dict(desc)
        time.sleep(0.05)
    raise AssertionError(f"{execution_arn} still running")


def _echo(event: Any, context: Any) -> dict[str, Any]:
    return {
        "handled_by": "medbill-fake",
        "event": event,
        "function_name": context.function_name,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining_ok": context.get_remaining_time_in_millis() > 0,
        "request_id": context.aws_request_id,
    }


class PayerRejected(Exception):
    pass


def _raise(event: Any, context: Any) -> Any:
    raise PayerRejected("claim CLM1 rejected")


# --- the patch itself ---------------------------------------------------------------------------------
def test_moto_still_has_the_patched_method_with_the_expected_signature() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    # If this fails, a moto upgrade moved Lambda's no-Docker invoke: update lambda_bridge.py.
    assert "invoke" in LambdaSimpleBackend.__dict__
    assert tuple(inspect.signature(LambdaSimpleBackend.invoke).parameters) == EXPECTED_PARAMETERS
    # The function lookup the patch relies on, and the backend choice for use_docker=False.
    assert tuple(inspect.signature(LambdaSimpleBackend.get_function).parameters)[:3] == (
        "self",
        "function_name_or_arn",
        "qualifier",
    )
    from moto.awslambda.utils import get_backend

    assert "use_docker" in inspect.getsource(get_backend)
    check_moto_compatibility()


def test_install_and_uninstall_restore_moto() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.__dict__["invoke"]
    assert not is_installed()
    with LambdaBridge({}):
        assert is_installed()
        with LambdaBridge({}):  # nesting: the inner bridge answers, the outer stays installed
            assert is_installed()
        assert is_installed()
    assert not is_installed()
    assert LambdaSimpleBackend.__dict__["invoke"] is original


@mock_aws(config=MOTO_CONFIG)
def test_moto_echoes_without_the_bridge() -> None:
    # The baseline the bridge replaces: without it moto returns the request body.
    _create_functions("f")
    out = boto3.client("lambda", region_name=REGION).invoke(FunctionName="f", Payload=b'{"x": 1}')
    assert json.loads(out["Payload"].read()) == {"x": 1}


# --- boto3 lambda.invoke --------------------------------------------------------------------------------
@mock_aws(config=MOTO_CONFIG)
def test_boto3_invoke_returns_our_handler_result() -> None:
    arns = _create_functions("medbill-fake")
    lam = boto3.client("lambda", region_name=REGION)
    with LambdaBridge({"medbill-fake": _echo}):
        out = lam.invoke(FunctionName="medbill-fake", Payload=json.dumps({"claim_id": "CLM1"}))
        by_arn = lam.invoke(FunctionName=arns["medbill-fake"], Payload=b"{}")
    assert "FunctionError" not in out
    body = json.loads(out["Payload"].read())
    assert body["handled_by"] == "medbill-fake"  # not moto's echo
    assert body["event"] == {"claim_id": "CLM1"}
    assert body["function_name"] == "medbill-fake"
    assert body["arn"] == arns["medbill-fake"]
    assert body["memory"] == 128
    assert body["remaining_ok"] is True
    assert json.loads(by_arn["Payload"].read())["handled_by"] == "medbill-fake"


@mock_aws(config=MOTO_CONFIG)
def test_handler_exception_is_a_lambda_function_error() -> None:
    _create_functions("medbill-bad")
    bridge = LambdaBridge({"medbill-bad": _raise})
    with bridge:
        out = boto3.client("lambda", region_name=REGION).invoke(FunctionName="medbill-bad", Payload=b"{}")
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert body["errorType"] == "PayerRejected"
    assert body["errorMessage"] == "claim CLM1 rejected"
    assert body["stackTrace"]
    assert [f.error_type for f in bridge.failures] == ["PayerRejected"]


def test_a_kept_failure_does_not_keep_the_handlers_data_alive() -> None:
    """`failures` keeps every exception of a run: their frames must not pin the files and batches the
    handler had in hand (a 1,000-claim fault run grew by hundreds of MB a minute)."""

    def read_then_fail(event: Any, context: Any) -> Any:
        whole_file = b"x" * 1_000_000
        try:
            raise KeyError(len(whole_file))
        except KeyError as cause:
            raise ValueError("cannot post") from cause

    bridge = LambdaBridge({"medbill-bad": read_then_fail})
    invocation = bridge.invoke("medbill-bad", {"Records": ["batch"]})
    assert invocation.function_error == "Unhandled"
    assert json.loads(invocation.payload)["stackTrace"]  # formatted before the frames were cleared
    [failure] = bridge.failures
    cause = failure.exception.__cause__
    assert failure.exception.__traceback__ is not None and cause is not None
    # The bridge's own frame (first) was still running when the failure was kept; the handler's are not.
    handler_frames = [failure.exception.__traceback__.tb_next, cause.__traceback__]
    assert [tb.tb_frame.f_code.co_name for tb in handler_frames if tb] == ["read_then_fail", "read_then_fail"]
    assert [tb.tb_frame.f_locals for tb in handler_frames if tb] == [{}, {}]


@mock_aws(config=MOTO_CONFIG)
def test_unregistered_handler_fails_loudly_and_unknown_function_is_not_found() -> None:
    _create_functions("medbill-nohandler")
    lam = boto3.client("lambda", region_name=REGION)
    with LambdaBridge({}):
        out = lam.invoke(FunctionName="medbill-nohandler", Payload=b"{}")
        assert out["FunctionError"] == "Unhandled"
        assert json.loads(out["Payload"].read())["errorType"] == "BridgeError"
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="medbill-missing", Payload=b"{}")


def test_context_is_accepted_by_powertools_inject_lambda_context() -> None:
    from aws_lambda_powertools import Logger

    logger = Logger(service="medbill-test")
    seen: dict[str, Any] = {}

    @logger.inject_lambda_context
    def handler(event: Any, context: Any) -> str:
        seen.update(logger.get_current_keys())
        return "ok"

    bridge = LambdaBridge({"registration": handler})
    assert bridge.call("registration", {"claim_id": "C1"}) == "ok"
    assert seen["function_name"] == "medbill-registration"
    assert seen["function_memory_size"] == 512  # from config.FUNCTIONS
    assert seen["function_arn"].endswith(":function:medbill-registration")
    ctx = LocalLambdaContext("x", timeout_seconds=30)
    assert 29_000 < ctx.get_remaining_time_in_millis() <= 30_000


# --- Step Functions tasks ----------------------------------------------------------------------------------
@mock_aws(config=MOTO_CONFIG)
def test_state_machine_task_gets_our_result_and_catches_a_handler_error() -> None:
    arns = _create_functions("medbill-fake", "medbill-bad")
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arns["medbill-fake"], "Payload": {"claim_id.$": "$.claim_id"}},
                "ResultSelector": {"by.$": "$.Payload.handled_by", "fn.$": "$.Payload.function_name"},
                "ResultPath": "$.call",
                "Next": "Bad",
            },
            "Bad": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arns["medbill-bad"], "Payload": {}},
                "Catch": [{"ErrorEquals": ["PayerRejected"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    with LambdaBridge({"medbill-fake": _echo, "medbill-bad": _raise}):
        desc = _wait(_run_machine(definition, {"claim_id": "CLM1"}))
    assert desc["status"] == "SUCCEEDED"
    out = json.loads(desc["output"])
    assert out["call"] == {"by": "medbill-fake", "fn": "medbill-fake"}
    assert out["error"]["Error"] == "PayerRejected"


@mock_aws(config=MOTO_CONFIG)
def test_wait_for_task_token_resumes_on_success_and_times_out_into_catch() -> None:
    arns = _create_functions("medbill-await")
    tokens: dict[str, str] = {}

    def await_token(event: Any, context: Any) -> dict[str, Any]:
        tokens[event["claim_id"]] = event["task_token"]
        return {}

    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": arns["medbill-await"],
                    "Payload": {"claim_id.$": "$.claim_id", "task_token.$": "$$.Task.Token"},
                },
                "TimeoutSeconds": 2,
                "ResultPath": "$.result",
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}],
                "End": True,
            },
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with LambdaBridge({"medbill-await": await_token}):
        sm = sfn.create_state_machine(
            name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        resumed = sfn.start_execution(stateMachineArn=sm, name="CLM1", input='{"claim_id": "CLM1"}')
        timed_out = sfn.start_execution(stateMachineArn=sm, name="CLM2", input='{"claim_id": "CLM2"}')
        deadline = time.monotonic() + 5
        while "CLM1" not in tokens and time.monotonic() < deadline:
            time.sleep(0.02)
        sfn.send_task_success(taskToken=tokens["CLM1"], output=json.dumps({"outcome": "paid"}))
        first = _wait(resumed["executionArn"])
        second = _wait(timed_out["executionArn"])
    assert first["status"] == "SUCCEEDED"
    assert json.loads(first["output"])["result"] == {"outcome": "paid"}
    assert second["status"] == "SUCCEEDED"
    assert json.loads(second["output"])["error"]["Error"] == "States.Timeout"


# --- loading the project's handlers -----------------------------------------------------------------------
def test_load_project_handlers_imports_each_handler_file_under_a_unique_name(tmp_path: Path) -> None:
    for name in ("registration", "eligibility"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text(
            textwrap.dedent(
                f"""
                NAME = {name!r}

                def handler(event, context):
                    return {{"name": NAME, "module": __name__}}
                """
            )
        )
    eager, resolver = load_project_handlers(lazy=True, functions_path=tmp_path)
    assert eager == {}  # lazy: nothing imported yet
    bridge = LambdaBridge({}, resolver=resolver)
    reg = bridge.call("registration", {})
    elig = bridge.call("medbill-eligibility", {})
    assert reg["name"] == "registration" and elig["name"] == "eligibility"
    assert reg["module"] != elig["module"]
    # A function without a handler file is a loud error, surfaced as a function error.
    failed = bridge.invoke("coding", {})
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload)["errorType"] == "BridgeError"
    with pytest.raises(lambda_bridge.BridgeError):
        load_project_handlers(lazy=False, functions_path=tmp_path)
