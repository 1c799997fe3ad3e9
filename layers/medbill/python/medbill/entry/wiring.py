"""Builds the adapters a handler needs from the environment, once per cold start.

Handlers call these instead of constructing clients themselves, and tests (or the local runtime)
call `reset()` to drop cached adapters between AWS mocks.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from medbill.adapters.dynamodb.repository import ClaimRepository
from medbill.adapters.eligibility_fixture import FixtureEligibilityGateway
from medbill.adapters.s3 import ArtifactStore
from medbill.adapters.sqs import IntakeQueue, PostingQueue, ReleaseQueue
from medbill.adapters.stepfunctions import WorkflowGateway
from medbill.billing.fees import FeeSchedule
from medbill.entry.settings import get_settings
from medbill.models.claim import Claim
from medbill.prefixes import OUTBOX_837_PREFIX
from medbill.workflow.stages import Submitter


@cache
def repository() -> ClaimRepository:
    return ClaimRepository(get_settings().table_name)


@cache
def artifacts() -> ArtifactStore:
    return ArtifactStore(get_settings().data_bucket)


@cache
def workflow() -> WorkflowGateway:
    return WorkflowGateway(get_settings().state_machine_arn)


@cache
def posting_queue() -> PostingQueue:
    return PostingQueue(get_settings().posting_queue_url)


@cache
def intake_queue() -> IntakeQueue:
    return IntakeQueue(get_settings().intake_queue_url)


@cache
def release_queue() -> ReleaseQueue:
    return ReleaseQueue(get_settings().remittance_queue_url)


@cache
def eligibility() -> FixtureEligibilityGateway:
    return FixtureEligibilityGateway.load(get_settings().eligibility_fixture)


@cache
def fee_schedule(clinic_id: str) -> FeeSchedule:
    return FeeSchedule.load(clinic_id, get_settings().fee_schedule_dir)


@cache
def submitter() -> Submitter:
    from medbill.x12.claim837 import ControlNumbers, write_837p

    envelope = get_settings().clearinghouse

    def write(claim: Claim, control_number: int, created: datetime) -> str:
        numbers = ControlNumbers(interchange=control_number, group=control_number)
        return write_837p([claim], settings=envelope, control_numbers=numbers, created=created)

    return Submitter(write=write, outbox_prefix=OUTBOX_837_PREFIX)


def reset() -> None:
    """Forget cached adapters and settings (tests start a fresh AWS mock each time)."""
    get_settings.cache_clear()
    for fn in (
        repository,
        artifacts,
        workflow,
        eligibility,
        fee_schedule,
        submitter,
        posting_queue,
        release_queue,
        intake_queue,
    ):
        fn.cache_clear()
