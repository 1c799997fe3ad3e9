"""Fake handlers for every claim state machine task (the tests never import functions/*)."""

from __future__ import annotations

import threading
from typing import Any

from infra.config import WorkflowTimeouts

FAST = WorkflowTimeouts(remittance_wait_seconds=30, staff_hold_seconds=30, retry_interval_seconds=1)


class FakeWorkflow:
    """Fake handlers for the 7 state machine functions, steered per claim id.

    `eligibility[claim]` is a list of decisions returned in turn ("eligible" when exhausted);
    `fail_in` maps a claim id to the function that raises for it; task tokens the await_token
    fake receives are kept in `tokens[(claim_id, stage)]`.
    """

    def __init__(self) -> None:
        self.eligibility: dict[str, list[str]] = {}
        self.fail_in: dict[str, str] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.followups: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _record(self, name: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append((name, event))
        if self.fail_in.get(event.get("claim_id", "")) == name:
            raise RuntimeError(f"fake {name} failure")

    def registration(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("registration", event)
        return {"patient_id": "PAT-" + event["claim_id"]}

    def eligibility_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("eligibility", event)
        queue = self.eligibility.get(event["claim_id"], [])
        decision = queue.pop(0) if queue else "eligible"
        return {"decision": decision, "rules": [] if decision == "eligible" else ["ELIG-COVERAGE-INACTIVE"]}

    def coding(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("coding", event)
        return {"decision": "coded", "rules": []}

    def charges(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("charges", event)
        return {"total_charge": "150.00"}

    def submission(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("submission", event)
        return {"interchange_control_number": "000000001"}

    def await_token(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("await_token", event)
        with self._lock:
            self.tokens[(event["claim_id"], event["stage"])] = event["task_token"]
        return {"stored": True}

    def followup(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("followup", event)
        with self._lock:
            self.followups.append(event)
        return {"status": "in_follow_up", "action": event["action"]}

    def sqs_consumer(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # The intake / remittance / acks queues get S3's s3:TestEvent at provisioning: accept it.
        with self._lock:
            self.calls.append(("sqs", event))
        return {"batchItemFailures": []}

    def handlers(self) -> dict[str, Any]:
        return {
            "intake": self.sqs_consumer,
            "remittance": self.sqs_consumer,
            "acks": self.sqs_consumer,
            "registration": self.registration,
            "eligibility": self.eligibility_handler,
            "coding": self.coding,
            "charges": self.charges,
            "submission": self.submission,
            "await_token": self.await_token,
            "followup": self.followup,
        }
