"""Stage 6, payment posting: S3 `era/` -> SQS -> here. Each 835 is balance-checked, each claim payment
posted to the claim's ledger, and the claim's waiting execution resumed with the outcome."""

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

from medbill import wiring
from medbill.billing.era import post_era_file
from medbill.prefixes import ERA_PREFIX
from medbill.workflow.s3_notifications import objects_in

logger = Logger(service="medbill-remittance")
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
# The same object version is posted once; copies under other keys are caught by the ledger's keys.
idempotency = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]", expires_after_seconds=7 * 24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME", "medbill-idempotency"))


@idempotent_function(data_keyword_argument="s3_object", config=idempotency, persistence_store=persistence)
def post(s3_object: dict[str, Any]) -> dict[str, Any]:
    summary = post_era_file(wiring.repository(), wiring.artifacts(), wiring.workflow(), s3_object["key"])
    logger.info("ERA file processed", **{k: v for k, v in asdict(summary).items() if k != "era_ids"})
    metrics.add_metric(name="ClaimsPosted", unit=MetricUnit.Count, value=summary.claims_posted)
    metrics.add_metric(name="RemittanceUnmatched", unit=MetricUnit.Count, value=summary.claims_unmatched)
    metrics.add_metric(name="EraQuarantined", unit=MetricUnit.Count, value=summary.quarantined)
    return asdict(summary)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    for obj in objects_in(record.body):
        if not obj.key.startswith(ERA_PREFIX):
            logger.warning("ignoring object outside the ERA prefix", key=obj.key)
            continue
        post(s3_object={"bucket": obj.bucket, "key": obj.key, "etag": obj.etag})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
