"""Reading and ending the claim state machine's executions on moto: lists, histories, which
running executions wait on a task token and which are busy, and stopping them all at shutdown.

`LocalRuntime` (infra/local/runtime.py) exposes these as its own methods; nothing here pumps
queues or waits, so the runtime's driving loop and the inspection stay apart.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra import config

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Activity:
    """Executions by status, and of the running ones how many wait on a token and how many work."""

    statuses: dict[str, int]
    waiting: int
    busy: int


class Executions:
    """The claim state machine's executions, through a Step Functions client (`sfn()` is called on
    each use: the runtime caches its clients and drops them on stop)."""

    def __init__(self, sfn: Callable[[], Any], state_machine_arn: str, region: str, account_id: str) -> None:
        self._sfn = sfn
        self.state_machine_arn = state_machine_arn
        self.region = region
        self.account_id = account_id

    def arn(self, claim_id: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:execution:{config.STATE_MACHINE_NAME}:{claim_id}"

    def start(self, claim_id: str, execution_input: Mapping[str, Any] | None = None) -> str:
        payload = dict(execution_input or {"claim_id": claim_id})
        resp = self._sfn().start_execution(
            stateMachineArn=self.state_machine_arn, name=claim_id, input=json.dumps(payload)
        )
        return str(resp["executionArn"])

    def list_all(self, status: str | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn}
        if status:
            kwargs["statusFilter"] = status
        executions: list[dict[str, Any]] = []
        for page in self._sfn().get_paginator("list_executions").paginate(**kwargs):
            executions.extend(page["executions"])
        return executions

    def describe(self, claim_id: str) -> dict[str, Any]:
        return dict(self._sfn().describe_execution(executionArn=self.arn(claim_id)))

    def history(self, claim_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for page in self._sfn().get_paginator("get_execution_history").paginate(executionArn=self.arn(claim_id)):
            events.extend(page["events"])
        return events

    def states_entered(self, claim_id: str) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"] for e in self.history(claim_id) if "stateEnteredEventDetails" in e
        ]

    def activity(self) -> Activity:
        statuses: dict[str, int] = {}
        waiting = busy = 0
        for execution in self.list_all():
            statuses[execution["status"]] = statuses.get(execution["status"], 0) + 1
            if execution["status"] != "RUNNING":
                continue
            events = self._sfn().get_execution_history(
                executionArn=execution["executionArn"], reverseOrder=True, maxResults=1
            )["events"]
            # moto ignores reverseOrder/maxResults: take the newest event by id whatever the order.
            last = max(events, key=lambda e: e["id"]) if events else None
            # A waitForTaskToken task records TaskSubmitted, then waits for the token.
            if last is not None and last["type"] == "TaskSubmitted":
                waiting += 1
            else:
                busy += 1
        return Activity(statuses, waiting, busy)

    def stop_running(self) -> int:
        """StopExecution for every running execution; the number stopped.

        moto quirk: a stopped execution parked in a `.waitForTaskToken` task stays RUNNING (its
        thread keeps waiting) until the token is answered or TimeoutSeconds passes. Answering the
        token after the stop ends it as ABORTED without running another state, so the token (a
        UUID among the task's parameters in the history) is answered too.
        """
        sfn = self._sfn()
        stopped = 0
        for execution in self.list_all(status="RUNNING"):
            arn = execution["executionArn"]
            with contextlib.suppress(Exception):
                sfn.stop_execution(executionArn=arn, error="LocalRuntimeStopped")
                stopped += 1
                for token in self.pending_tokens(arn):
                    with contextlib.suppress(Exception):
                        sfn.send_task_success(taskToken=token, output="{}")
        deadline = time.monotonic() + 2.0  # the execution threads record the stop asynchronously
        while stopped and time.monotonic() < deadline and self.list_all(status="RUNNING"):
            time.sleep(0.02)
        return stopped

    def pending_tokens(self, execution_arn: str) -> list[str]:
        """The task tokens an execution parked on a `.waitForTaskToken` task waits for."""
        events = sorted(self._sfn().get_execution_history(executionArn=execution_arn)["events"], key=lambda e: e["id"])
        if not events or events[-1]["type"] != "TaskSubmitted":
            return []
        scheduled = next((e for e in reversed(events) if e["type"] == "TaskScheduled"), None)
        if scheduled is None:
            return []
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)
            elif isinstance(value, str) and _UUID.fullmatch(value):
                found.append(value)

        walk(json.loads(scheduled["taskScheduledEventDetails"]["parameters"]))
        return found
