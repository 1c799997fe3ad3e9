"""Stage 6a, ERA intake: S3 `era/` -> SQS -> here. Each 835 file is checked whole (readable,
balanced); a bad file is quarantined, a good (or released) one fans out one posting message per
claim payment to the posting queue."""

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

from medbill.billing.era import EraFileSummary, receive_era_file
from medbill.entry import wiring
from medbill.prefixes import ERA_PREFIX
from medbill.workflow.s3_notifications import objects_in

logger = Logger(service="medbill-remittance")
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
# The same object version is fanned out once; a copy under another key finds its ERA record (the
# record notes the key, its status stays) and the ledger never posts a claim payment twice.
idempotency = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]", expires_after_seconds=7 * 24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME", "medbill-idempotency"))


def _report(summary: EraFileSummary) -> dict[str, Any]:
    fields = asdict(summary)
    fields.pop("problems")
    logger.info("ERA file processed", problem_count=len(summary.problems), **fields)
    metrics.add_metric(name="PostingMessagesQueued", unit=MetricUnit.Count, value=summary.claims_queued)
    metrics.add_metric(name="EraQuarantined", unit=MetricUnit.Count, value=int(summary.quarantined))
    metrics.add_metric(name="EraDuplicateDelivery", unit=MetricUnit.Count, value=int(summary.duplicate_of is not None))
    return fields


@idempotent_function(data_keyword_argument="s3_object", config=idempotency, persistence_store=persistence)
def receive(s3_object: dict[str, Any]) -> dict[str, Any]:
    return _report(receive_era_file(wiring.repository(), wiring.artifacts(), wiring.posting_queue(), s3_object["key"]))


def release(key: str, file_id: str | None) -> dict[str, Any]:
    summary = receive_era_file(
        wiring.repository(), wiring.artifacts(), wiring.posting_queue(), key, released=True, released_file_id=file_id
    )
    return _report(summary)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body) if record.body.lstrip().startswith("{") else {}
    if body.get("kind") == "release":
        release(str(body["source_key"]), body.get("file_id"))
        return
    for obj in objects_in(record.body):
        if not obj.key.startswith(ERA_PREFIX):
            logger.warning("ignoring object outside the ERA prefix", key=obj.key)
            continue
        receive(s3_object={"bucket": obj.bucket, "key": obj.key, "etag": obj.etag})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
