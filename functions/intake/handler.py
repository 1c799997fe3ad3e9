"""Intake: S3 `encounters/` -> SQS -> here. Each file becomes claims (one execution each) and,
for bad records, a rejection report. Partial batch failures: only failed messages retry, and a
message that keeps failing lands in the DLQ."""

import json
import os
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.coding import icd10
from medbill.entry import wiring
from medbill.prefixes import ENCOUNTERS_PREFIX
from medbill.workflow.intake import ingest_encounter_file
from medbill.workflow.s3_notifications import S3Object, objects_in

logger = Logger(service="medbill-intake")
tracer = Tracer()
metrics = Metrics()
# Load the ICD-10-CM code set (~4 s) during Lambda init, not in the first request.
icd10.warm()
processor = BatchProcessor(event_type=EventType.SQS)
# S3 delivers at least once: the same object version (bucket, key, etag) is ingested once.
idempotency = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]", expires_after_seconds=7 * 24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME", "medbill-idempotency"))


@idempotent_function(data_keyword_argument="s3_object", config=idempotency, persistence_store=persistence)
def ingest(s3_object: dict[str, Any]) -> dict[str, Any]:
    summary = ingest_encounter_file(
        wiring.repository(), wiring.artifacts(), wiring.workflow(), s3_object["key"], out_of_time=_out_of_time
    )
    logger.info(
        "encounter file ingested",
        source_key=summary.source_key,
        records=summary.records,
        claims_created=summary.claims_created,
        claims_existing=summary.claims_existing,
        rejected=summary.rejected,
        file_error=summary.file_error is not None,
    )
    metrics.add_metric(name="ClaimsCreated", unit=MetricUnit.Count, value=summary.claims_created)
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=summary.rejected)
    return asdict(summary)


# Stop starting records this long before the Lambda timeout; the rest continues in a new message.
TIME_RESERVE_MS = 20_000
_context: dict[str, LambdaContext] = {}


def _out_of_time() -> bool:
    context = _context.get("current")
    return context is not None and context.get_remaining_time_in_millis() < TIME_RESERVE_MS


def _continue_later(summary: dict[str, Any]) -> None:
    if summary.get("continue_from"):
        wiring.intake_queue().send_continuation(summary["source_key"], summary["continue_from"])
        logger.info("encounter file continues in a new message", continue_from=summary["continue_from"])


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body) if record.body.lstrip().startswith("{") else {}
    if body.get("kind") == "continue_intake":
        summary = ingest_encounter_file(
            wiring.repository(),
            wiring.artifacts(),
            wiring.workflow(),
            str(body["key"]),
            start_record=int(body["from_record"]),
            out_of_time=_out_of_time,
        )
        _continue_later(asdict(summary))
        return
    for obj in objects_in(record.body):
        if not obj.key.startswith(ENCOUNTERS_PREFIX):
            logger.warning("ignoring object outside the encounters prefix", key=obj.key)
            continue
        _continue_later(ingest(s3_object=_as_dict(obj)))


def _as_dict(obj: S3Object) -> dict[str, Any]:
    return {"bucket": obj.bucket, "key": obj.key, "etag": obj.etag}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    _context["current"] = context
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
