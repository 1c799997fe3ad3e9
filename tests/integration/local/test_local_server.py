"""Server mode (`make local`): moto on 127.0.0.1, the bridge in-process, the claim ASL over HTTP."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from infra import config
from infra.local.server import LocalServer
from tests.integration.local.fakes import FAST, FakeWorkflow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_mode_runs_lambda_and_the_claim_state_machine_over_http() -> None:
    wf = FakeWorkflow()
    api_events: list[dict[str, Any]] = []

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        api_events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"claims": []}'}

    handlers = {**wf.handlers(), "api": api}
    with LocalServer(
        moto_port=_free_port(), api_port=_free_port(), handlers=handlers, timeouts=FAST, pump_interval_s=0.1
    ) as server:
        assert server.runtime is not None
        res = server.runtime.resources
        kwargs: dict[str, Any] = {
            "endpoint_url": server.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        # boto3 against the endpoint reaches our handler (not moto's echo)
        out = boto3.client("lambda", **kwargs).invoke(
            FunctionName="medbill-registration", Payload=json.dumps({"claim_id": "CLM-S1"})
        )
        assert json.loads(out["Payload"].read()) == {"patient_id": "PAT-CLM-S1"}

        # the state machine's Lambda tasks go through http://localhost:$MOTO_PORT to the bridge
        sfn = boto3.client("stepfunctions", **kwargs)
        arn = sfn.start_execution(stateMachineArn=res.state_machine_arn, name="CLM-S1", input='{"claim_id": "CLM-S1"}')[
            "executionArn"
        ]
        deadline = time.monotonic() + 20
        while ("CLM-S1", "remittance") not in wf.tokens and time.monotonic() < deadline:
            time.sleep(0.05)
        sfn.send_task_success(taskToken=wf.tokens[("CLM-S1", "remittance")], output='{"outcome": "paid"}')
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"

        # S3 -> SQS -> the background poller -> the intake consumer
        boto3.client("s3", **kwargs).put_object(
            Bucket=res.bucket, Key=config.ENCOUNTERS_PREFIX + "clinic.json", Body=b"{}"
        )
        while time.monotonic() < deadline:
            bodies = [r["body"] for name, ev in wf.calls if name == "sqs" for r in ev["Records"]]
            if any("ObjectCreated" in b for b in bodies):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the intake consumer never saw the upload")

        # Without a token the server answers 401 as API Gateway's Cognito authorizer does (no Lambda call).
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.api_url + "/claims?status=paid", timeout=5)
        assert refused.value.code == 401 and api_events == []
        token = server.sign_in("bea.biller")
        req = urllib.request.Request(
            server.api_url + "/claims?status=paid", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == {"claims": []}
        assert api_events[0]["queryStringParameters"] == {"status": "paid"}
        claims = api_events[0]["requestContext"]["authorizer"]["claims"]
        assert claims["cognito:username"] == "bea.biller"
        assert sorted(claims["cognito:groups"].split(",")) == ["biller", "clinic:clinic-northside"]
        assert "aws --endpoint-url" in server.banner()
    assert server.runtime is None and server.api is None
