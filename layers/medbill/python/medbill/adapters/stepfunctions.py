"""The Step Functions side of the workflow: start a claim's execution, resume a waiting task."""

from __future__ import annotations

import json
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError

from medbill.ports import execution_name

ENDED_BADLY: tuple[Literal["FAILED", "TIMED_OUT", "ABORTED"], ...] = ("FAILED", "TIMED_OUT", "ABORTED")


class WorkflowGateway:
    def __init__(self, state_machine_arn: str | None, client: Any | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

    def start_claim(self, claim_id: str, clinic_id: str) -> bool:
        """Start the claim's execution, named by the claim id. False if it was already started.

        The input carries ids only: never PHI in execution input or output.
        """
        return self._start(claim_id, {"claim_id": claim_id, "clinic_id": clinic_id})

    def start_attempt(self, claim_id: str, clinic_id: str, attempt: int) -> bool:
        """A retry: a new execution `<claim id>-r<n>` (Step Functions keeps a name for 90 days after
        its execution ends, so a failed one cannot be restarted under the claim id)."""
        return self._start(
            execution_name(claim_id, attempt), {"claim_id": claim_id, "clinic_id": clinic_id, "attempt": attempt}
        )

    def execution_status(self, claim_id: str, attempt: int) -> str | None:
        arn = self._execution_arn(execution_name(claim_id, attempt))
        try:
            return str(self._client.describe_execution(executionArn=arn)["status"])
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None
            raise

    def failed_executions(self) -> list[str]:
        names: list[str] = []
        paginator = self._client.get_paginator("list_executions")
        for status in ENDED_BADLY:
            for page in paginator.paginate(stateMachineArn=self._arn(), statusFilter=status):
                names.extend(e["name"] for e in page["executions"])
        return names

    def _arn(self) -> str:
        if not self.state_machine_arn:
            raise RuntimeError("STATE_MACHINE_ARN is not configured for this function")
        return self.state_machine_arn

    def _execution_arn(self, name: str) -> str:
        # arn:aws:states:<region>:<account>:stateMachine:<machine> -> ...:execution:<machine>:<name>
        parts = self._arn().split(":")
        return ":".join([*parts[:5], "execution", parts[6], name])

    def _start(self, name: str, payload: dict[str, Any]) -> bool:
        try:
            self._client.start_execution(stateMachineArn=self._arn(), name=name, input=json.dumps(payload))
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
