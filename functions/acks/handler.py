"""Acknowledgements: S3 `acks/` (999 in acks/999/, 277CA in acks/277ca/) -> SQS -> here. Each file
is read and applied to the claims it answers (medbill.workflow.acknowledgements): a rejection
moves the claim to REJECTED and its waiting execution to follow-up at once; a 277CA acceptance
moves it to ACCEPTED, still waiting for its 835. Idempotent by object version (Powertools) and by
file key on each claim; partial batch failures retry only the failed messages."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.messages import S3Notification, ack_message
from medbill.entry.observability import observability
from medbill.workflow.acknowledgements import ack_kind, receive_ack_file

config = settings.load(settings.AcksSettings)  # cold start: a missing variable fails here, by name
obs = observability("acks")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
processor = BatchProcessor(event_type=EventType.SQS)
# The same object version is applied once; a retry after a partial run finds each claim's
# acknowledgement recorded (by key) and changes nothing twice.
idempotency = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]", expires_after_seconds=7 * 24 * 3600)
persistence = wiring.idempotency_store()


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    message = ack_message(record.body)
    if not isinstance(message, S3Notification):
        return  # S3's s3:TestEvent names no object: nothing to do.
    for obj in message.created_objects():
        if ack_kind(obj.key) is None:
            logger.warning("ignoring object outside the acknowledgement prefixes", key=obj.key)
            continue
        receive(s3_object={"bucket": obj.bucket, "key": obj.key, "etag": obj.etag})


@idempotent_function(data_keyword_argument="s3_object", config=idempotency, persistence_store=persistence)
def receive(s3_object: dict[str, Any]) -> dict[str, Any]:
    summary = receive_ack_file(
        wiring.repository(), wiring.artifacts(), wiring.workflow(), s3_object["key"], errors_reject=config.errors_reject
    )
    counts: dict[str, Any] = {
        a: summary.count(a) for a in ("accepted", "rejected", "recorded", "duplicate", "unknown_claim")
    }
    # Keys, ids, counts and codes only: the problems name segments and control numbers, never values.
    logger.info(
        "acknowledgement applied",
        key=summary.key,
        kind=summary.kind,
        resumed=len(summary.resumed),
        problems=summary.problems,
        **counts,
    )
    metrics.add_metric(name="ClaimsRejectedByAck", unit=MetricUnit.Count, value=counts["rejected"])
    metrics.add_metric(name="ClaimsAcceptedByAck", unit=MetricUnit.Count, value=counts["accepted"])
    metrics.add_metric(name="AckUnknownClaims", unit=MetricUnit.Count, value=counts["unknown_claim"])
    return {"key": summary.key, "kind": summary.kind, "claims": summary.claims, "resumed": summary.resumed}
