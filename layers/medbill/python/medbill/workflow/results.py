"""What each stage returns: the task's output in the execution, read by claim.asl.json.

Ids and codes only (execution output must never carry PHI); handlers return
`result.model_dump(mode="json")`, the same JSON the stages returned as dicts before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class StageResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Registered(StageResult):
    patient_id: str | None


class Decision(StageResult):
    """Eligibility and coding: go on, or hold for a person. `rules` are the ids of the rules that
    held the claim (e.g. "ELIG-COVERAGE-INACTIVE", "DX-BILLABLE"); the reasons a person reads name
    payers, dates and diagnoses, so they stay on the claim and never enter execution history."""

    decision: Literal["eligible", "coded", "hold"]
    rules: list[str]


class Charged(StageResult):
    total_charge: str  # 2 decimal places, as the 837P carries it


class Submitted(StageResult):
    interchange_control_number: str | None


class Parked(StageResult):
    """The task token waits on the claim."""

    parked: Literal[True] = True


class AlreadyAdjudicated(StageResult):
    """The 835 was posted before the wait began: the execution was resumed with its outcome at once."""

    parked: Literal[False] = False
    outcome: str


class Routed(StageResult):
    """Follow-up: where the claim is now and what a person should do (None: nothing)."""

    status: str
    action: str | None


class Failed(StageResult):
    status: str
