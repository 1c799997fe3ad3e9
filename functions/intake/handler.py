"""Intake: S3 `encounters/` -> SQS -> here. Each file becomes claims (one execution each) and its
report (rejections; HL7 ACKs and FHIR OperationOutcomes); HL7 v2 and FHIR files in a clinic's folder
are read with its profile. Partial batch failures: only failed messages retry, and a
message that keeps failing lands in the DLQ."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.coding import icd10
from medbill.entry import settings, wiring
from medbill.entry.messages import ContinueIntake, S3Notification, intake_message
from medbill.entry.observability import observability
from medbill.entry.s3_consumer import S3Consumer, object_version, under
from medbill.intake.encounter_stream import Resume
from medbill.ports import ObjectVersion
from medbill.prefixes import ENCOUNTERS_PREFIX
from medbill.workflow.intake import IntakeSummary, ingest_encounter_file

settings.load(settings.IntakeSettings)  # cold start: a missing variable fails here, by name
obs = observability("intake")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
# Load the ICD-10-CM code set (~4 s) during Lambda init, not in the first request.
icd10.warm()
# S3 delivers at least once: the same object version (bucket, key, etag) is ingested once.
consumer = S3Consumer(obs, accepts=under(ENCOUNTERS_PREFIX), area="the encounters prefix")

# Stop starting records this long before the Lambda timeout; the rest continues in a new message.
TIME_RESERVE_MS = 20_000


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    message = intake_message(record.body)
    if isinstance(message, ContinueIntake):
        passed = asdict(
            _ingest(
                message.key, start_record=message.from_record, resume=message.resume, version=message.object_version()
            )
        )
        _log_superseded(passed)
        _continue_later(passed)
    elif isinstance(message, S3Notification):
        for obj in consumer.objects(message):
            # The size rides along for the limits; the idempotency key stays bucket, key and etag.
            summary = ingest(s3_object={**object_version(obj), "size": obj.size, "version_id": obj.version_id})
            _log_superseded(summary)
            _continue_later(summary)
    # S3's s3:TestEvent names no object: nothing to do.


@consumer.once_per_object
def ingest(s3_object: dict[str, Any]) -> dict[str, Any]:
    # The notification names the version created: every pass reads that one (a replaced file stops).
    etag, version_id = s3_object.get("etag"), s3_object.get("version_id")
    version = ObjectVersion(etag.strip('"'), version_id) if etag else None
    summary = _ingest(s3_object["key"], size=s3_object.get("size"), version=version)
    logger.info(
        "encounter file ingested",
        source_key=summary.source_key,
        records=summary.records,
        claims_created=summary.claims_created,
        claims_existing=summary.claims_existing,
        rejected=summary.rejected,
        changed=summary.changed,
        file_error=summary.file_error is not None,
    )
    metrics.add_metric(name="ClaimsCreated", unit=MetricUnit.Count, value=summary.claims_created)
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=summary.rejected)
    metrics.add_metric(name="EncountersResentChanged", unit=MetricUnit.Count, value=summary.changed)
    # Kept in the idempotency table (one DynamoDB item): counts and where to continue, not every claim id.
    return {k: v for k, v in asdict(summary).items() if k != "claim_ids"}


def _ingest(
    key: str,
    start_record: int = 1,
    resume: Resume | None = None,
    size: int | None = None,
    version: ObjectVersion | None = None,
) -> IntakeSummary:
    return ingest_encounter_file(
        wiring.repository(),
        wiring.artifacts(),
        wiring.workflow(),
        key,
        start_record=start_record,
        resume=resume,
        size=size,
        version=version,
        out_of_time=_out_of_time,
        profiles=wiring.clinic_profiles(),
    )


def _out_of_time() -> bool:
    left = consumer.time_left_ms()
    return left is not None and left < TIME_RESERVE_MS


def _log_superseded(summary: dict[str, Any]) -> None:
    if summary.get("superseded"):
        # The text names record numbers only; the new version is read from its own notification.
        logger.warning(
            "encounter file replaced by a newer version", source_key=summary["source_key"], what=summary["superseded"]
        )


def _continue_later(summary: dict[str, Any]) -> None:
    if summary.get("continue_from"):
        wiring.intake_queue().send_continuation(
            summary["source_key"], summary["continue_from"], summary.get("resume"), summary.get("version")
        )
        logger.info("encounter file continues in a new message", continue_from=summary["continue_from"])
