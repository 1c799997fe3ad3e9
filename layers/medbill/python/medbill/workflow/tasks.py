"""State-machine task payloads (the ASL's Parameters.Payload): ids and codes only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ClaimTask(BaseModel):
    model_config = ConfigDict(extra="ignore")
    claim_id: str = Field(min_length=1, max_length=20)


class SubmissionTask(ClaimTask):
    next_payer: bool = False  # True: bill the claim to its next payer (workflow.next_payer)


class AwaitTask(ClaimTask):
    wait: Literal["remittance", "staff"]
    stage: str
    task_token: str = Field(min_length=1)


class FollowUpTask(ClaimTask):
    action: Literal["follow_up", "fail"]
    outcome: str | None = None
    error: str | None = None
