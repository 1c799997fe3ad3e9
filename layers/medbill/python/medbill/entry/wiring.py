"""Builds the adapters a handler needs from the environment, once per cold start.

Handlers call these instead of constructing clients themselves, and tests (or the local runtime)
call `reset()` to drop cached adapters between AWS mocks. Each factory reads only its own piece of
the settings (`settings.load(...)`); the handler's own model, loaded at import, has already
checked that every piece it uses is there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from medbill.adapters.clinic_profiles import S3ClinicProfileFiles
from medbill.adapters.dynamodb.repository import ClaimRepository
from medbill.adapters.eligibility_core import CoreEligibilityGateway, CoreSecret, load_core_secret
from medbill.adapters.s3 import ArtifactStore
from medbill.adapters.sqs import EraContinuationQueue, IntakeQueue, PostingQueue, ReleaseQueue
from medbill.adapters.stepfunctions import WorkflowGateway
from medbill.billing.fees import FeeSchedule
from medbill.entry import settings
from medbill.models.claim import Claim
from medbill.ports import Executions
from medbill.prefixes import APPOINTMENTS_PREFIX, ELIGIBILITY_BATCH_LEDGER_PREFIX, OUTBOX_837_PREFIX
from medbill.workflow.clinic_profiles import ClinicProfiles
from medbill.workflow.stages import Submitter

if TYPE_CHECKING:  # asyncssh is imported by the clearinghouse function only, not at every cold start
    from medbill.adapters.exchange_ledger import S3ExchangeLedger, S3Outbox
    from medbill.adapters.sftp import SftpClearinghouse
    from medbill.workflow.clearinghouse import ClearinghouseExchange
    from medbill.x12.status276 import StatusRequest


@cache
def repository() -> ClaimRepository:
    return ClaimRepository(settings.load(settings.ClaimStoreSettings).table_name)


@cache
def artifacts() -> ArtifactStore:
    return ArtifactStore(settings.load(settings.ArtifactSettings).data_bucket)


@cache
def uploads() -> ArtifactStore:
    """Presigned uploads into the data bucket (the staff console's encounter files)."""
    return ArtifactStore(settings.load(settings.ArtifactSettings).data_bucket)


@cache
def clinic_profiles() -> ClinicProfiles:
    """Clinic profiles from the data bucket, cached per cold start (a minute: workflow/clinic_profiles.py)."""
    return ClinicProfiles(S3ClinicProfileFiles(settings.load(settings.ArtifactSettings).data_bucket))


@cache
def workflow() -> WorkflowGateway:
    # Resuming by task token needs no ARN: only functions that start executions are given one.
    try:
        arn: str | None = settings.load(settings.ExecutionSettings).state_machine_arn
    except settings.SettingsError:
        arn = None
    return WorkflowGateway(arn)


def executions() -> Executions:
    """The same gateway as the Executions port (retry a FAILED claim, find stuck ones)."""
    return workflow()


@cache
def posting_queue() -> PostingQueue:
    return PostingQueue(settings.load(settings.PostingQueueSettings).posting_queue_url)


@cache
def intake_queue() -> IntakeQueue:
    return IntakeQueue(settings.load(settings.IntakeQueueSettings).intake_queue_url)


@cache
def era_continuations() -> EraContinuationQueue:
    return EraContinuationQueue(settings.load(settings.ReleaseQueueSettings).remittance_queue_url)


@cache
def release_queue() -> ReleaseQueue:
    return ReleaseQueue(settings.load(settings.ReleaseQueueSettings).remittance_queue_url)


@cache
def eligibility() -> CoreEligibilityGateway:
    """The real-time (CAQH CORE) gateway; its secret is read on the first check, once per cold start."""
    secret_id = settings.load(settings.EligibilitySettings).eligibility_secret_id

    def secret() -> CoreSecret:
        if secret_id is None:
            raise settings.SettingsError("ELIGIBILITY_SECRET_ID is not set")
        return load_core_secret(secret_id)

    return CoreEligibilityGateway(secret)


@cache
def fee_schedule(clinic_id: str) -> FeeSchedule:
    return FeeSchedule.load(clinic_id, settings.load(settings.FeeScheduleSettings).fee_schedule_dir)


@cache
def submitter() -> Submitter:
    from medbill.x12.claim837 import ControlNumbers, write_837p

    envelope = settings.load(settings.EnvelopeSettings).clearinghouse()

    def write(claim: Claim, control_number: int, created: datetime) -> str:
        numbers = ControlNumbers(interchange=control_number, group=control_number)
        return write_837p([claim], settings=envelope, control_numbers=numbers, created=created)

    return Submitter(write=write, outbox_prefix=OUTBOX_837_PREFIX)


@cache
def status_inquiry_writer() -> Callable[[Sequence[StatusRequest], int, datetime], str]:
    """276 files under the 837P's envelope identity (ISA06/ISA08, 1000A name, ISA15)."""
    from medbill.x12.claim837 import ControlNumbers
    from medbill.x12.status276 import write_276

    envelope = settings.load(settings.EnvelopeSettings).clearinghouse()

    def write(requests: Sequence[StatusRequest], control_number: int, created: datetime) -> str:
        return write_276(
            requests,
            sender_id=envelope.sender_id,
            receiver_id=envelope.receiver_id,
            submitter_name=envelope.submitter_name,
            control_numbers=ControlNumbers(interchange=control_number, group=control_number),
            created=created,
            usage=envelope.usage_indicator,
            sender_qualifier=envelope.sender_qualifier,
            receiver_qualifier=envelope.receiver_qualifier,
            application_sender=envelope.application_sender,
            application_receiver=envelope.application_receiver,
        )

    return write


@cache
def clearinghouse() -> SftpClearinghouse:
    """The SFTP clearinghouse; its secret is read here, once per cold start (not per file)."""
    import logging

    from medbill.adapters.sftp import SftpClearinghouse, load_secret

    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # not a line per SFTP request
    secret_id = settings.load(settings.ClearinghouseConnectionSettings).clearinghouse_secret_id
    return SftpClearinghouse(load_secret(secret_id))


@cache
def exchange_ledger() -> S3ExchangeLedger:
    from medbill.adapters.exchange_ledger import S3ExchangeLedger

    return S3ExchangeLedger(settings.load(settings.ArtifactSettings).data_bucket)


@cache
def outbox() -> S3Outbox:
    from medbill.adapters.exchange_ledger import S3Outbox

    return S3Outbox(settings.load(settings.ArtifactSettings).data_bucket)


@cache
def eligibility_batch_ledger() -> S3ExchangeLedger:
    """The batch ledger (control numbers reserved, manifests, files done) under `eligibility/batches/`."""
    from medbill.adapters.exchange_ledger import S3ExchangeLedger

    bucket = settings.load(settings.ArtifactSettings).data_bucket
    return S3ExchangeLedger(bucket, prefix=ELIGIBILITY_BATCH_LEDGER_PREFIX)


@cache
def appointments() -> S3Outbox:
    """The appointments files clinics dropped (`appointments/`), listed for the evening batch."""
    from medbill.adapters.exchange_ledger import S3Outbox

    return S3Outbox(settings.load(settings.ArtifactSettings).data_bucket, prefixes=(APPOINTMENTS_PREFIX,))


def clearinghouse_exchange() -> ClearinghouseExchange:
    from medbill.workflow.clearinghouse import ClearinghouseExchange
    from medbill.workflow.filing import record_sent

    return ClearinghouseExchange(
        clearinghouse=clearinghouse(),
        artifacts=artifacts(),
        outbox=outbox(),
        ledger=exchange_ledger(),
        settle_seconds=settings.load(settings.ClearinghouseConnectionSettings).clearinghouse_settle_seconds,
        on_sent=lambda key, name, at: record_sent(repository(), key, name, at),
    )


def idempotency_store() -> DynamoDBPersistenceLayer:
    """Powertools idempotency records. Not cached: a handler module builds its own at import,
    inside whatever AWS (or mock) is current then."""
    return DynamoDBPersistenceLayer(table_name=settings.load(settings.IdempotencySettings).idempotency_table_name)


def reset() -> None:
    """Forget cached adapters and settings (tests start a fresh AWS mock each time)."""
    settings.load.cache_clear()
    for fn in (
        repository,
        artifacts,
        uploads,
        clinic_profiles,
        workflow,
        eligibility,
        fee_schedule,
        submitter,
        status_inquiry_writer,
        posting_queue,
        release_queue,
        intake_queue,
        exchange_ledger,
        outbox,
        eligibility_batch_ledger,
        appointments,
    ):
        fn.cache_clear()
    if clearinghouse.cache_info().currsize:
        clearinghouse().close()
    clearinghouse.cache_clear()
