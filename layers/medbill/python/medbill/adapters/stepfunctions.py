"""The Step Functions side of the workflow: start a claim's execution, resume a waiting task."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError


class WorkflowGateway:
    def __init__(self, state_machine_arn: str | None, client: Any | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

    def start_claim(self, claim_id: str, clinic_id: str) -> bool:
        """Start the claim's execution, named by the claim id. False if it was already started.

        The input carries ids only: never PHI in execution input or output.
        """
        if not self.state_machine_arn:
            raise RuntimeError("STATE_MACHINE_ARN is not configured for this function")
        try:
            self._client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=claim_id,
                input=json.dumps({"claim_id": claim_id, "clinic_id": clinic_id}),
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        """SendTaskSuccess. False when the token is no longer valid (the wait timed out or ended)."""
        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in (
                "TaskTimedOut",
                "InvalidToken",
                "TaskDoesNotExist",
            ):
                return False
            raise
        return True
