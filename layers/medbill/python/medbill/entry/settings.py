"""The Lambda environment, read once per cold start into a typed model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class ClearinghouseSettings:
    """Who we are in the 837P envelope (ISA/GS, loops 1000A/1000B) and who we send to."""

    sender_id: str = "MEDBILL"
    receiver_id: str = "CLEARINGHOUSE"
    submitter_name: str = "MEDBILL BILLING SERVICE"
    submitter_contact: str = "BILLING OFFICE"
    submitter_phone: str = "8005550100"
    receiver_name: str = "DEMO CLEARINGHOUSE"
    usage_indicator: str = "T"  # ISA15: T test, P production


class Settings(BaseModel):
    table_name: str = Field(min_length=1)
    idempotency_table_name: str = Field(min_length=1)
    data_bucket: str = Field(min_length=1)
    state_machine_arn: str | None = None
    # Where the local eligibility gateway reads its payer fixture; None = the packaged demo fixture.
    eligibility_fixture: str | None = None
    # Where the fee schedules live; None = the packaged demo schedules.
    fee_schedule_dir: str | None = None
    clearinghouse: ClearinghouseSettings = ClearinghouseSettings()
    posting_queue_url: str | None = None  # remittance fans claim payments out to it
    intake_queue_url: str | None = None  # intake continues a long file through it
    remittance_queue_url: str | None = None  # the API asks the remittance stage to post a released ERA


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", ""),
        idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME", ""),
        data_bucket=env.get("DATA_BUCKET", ""),
        state_machine_arn=env.get("STATE_MACHINE_ARN") or None,
        eligibility_fixture=env.get("ELIGIBILITY_FIXTURE") or None,
        fee_schedule_dir=env.get("FEE_SCHEDULE_DIR") or None,
        posting_queue_url=env.get("POSTING_QUEUE_URL") or None,
        intake_queue_url=env.get("INTAKE_QUEUE_URL") or None,
        remittance_queue_url=env.get("REMITTANCE_QUEUE_URL") or None,
        clearinghouse=ClearinghouseSettings(
            sender_id=env.get("X12_SENDER_ID", "MEDBILL"),
            receiver_id=env.get("X12_RECEIVER_ID", "CLEARINGHOUSE"),
            usage_indicator=env.get("X12_USAGE_INDICATOR", "T"),
        ),
    )
