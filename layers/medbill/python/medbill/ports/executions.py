"""The claim's Step Functions executions: started once per claim, resumed by task token, retried
under a new name (recovery).
"""

from __future__ import annotations

from typing import Any, Protocol


class Workflow(Protocol):
    """The claim's execution: started once per claim (named by its id), resumed by task token."""

    def start_claim(self, claim_id: str, clinic_id: str) -> bool: ...
    def resume(self, task_token: str, output: dict[str, Any]) -> bool: ...


def execution_name(claim_id: str, attempt: int) -> str:
    """Attempt 1 is named by the claim id (intake starts it); a retry n is `<claim id>-r<n>`."""
    return claim_id if attempt <= 1 else f"{claim_id}-r{attempt}"


def claim_of_execution(name: str) -> tuple[str, int]:
    """(claim id, attempt) from an execution name (the inverse of execution_name)."""
    head, sep, tail = name.rpartition("-r")
    if sep and head and tail.isdigit() and int(tail) > 1:
        return head, int(tail)
    return name, 1


class Executions(Protocol):
    """The claim's executions, for recovery (workflow.recovery): a retry is a new execution (Step
    Functions cannot restart a failed one under its name), and a failed one is found by its name."""

    def start_attempt(self, claim_id: str, clinic_id: str, attempt: int) -> bool:
        """Start attempt n of the claim's workflow (n > 1: named `<claim id>-r<n>`, input
        {claim_id, clinic_id, attempt}); False if that execution exists already."""
        ...

    def execution_status(self, claim_id: str, attempt: int) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; None when there is no such execution."""
        ...

    def failed_executions(self) -> list[str]:
        """Names of the executions that ended FAILED, TIMED_OUT or ABORTED (the stuck-claims query)."""
        ...
