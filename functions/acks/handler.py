"""Acknowledgements: S3 `acks/` (999 in acks/999/, 277CA in acks/277ca/) and `status/277/` (277
answers to our 276 claim status inquiries, decision 24) -> SQS -> here. Each file is read and
applied to the claims it answers (medbill.workflow.acknowledgements): a rejection (999, 277CA, or a
277 saying returned / not found) moves the claim to REJECTED and its waiting execution to follow-up
at once; a 277CA acceptance moves it to ACCEPTED, still waiting for its 835; a 277's pending or
finalized status is recorded on the claim's acknowledgements and timeline. Idempotent by object
version (Powertools) and by file key on each claim; partial batch failures retry only the failed
messages."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.messages import ack_message
from medbill.entry.observability import observability
from medbill.entry.s3_consumer import S3Consumer
from medbill.workflow.acknowledgements import ack_kind, receive_ack_file

config = settings.load(settings.AcksSettings)  # cold start: a missing variable fails here, by name
obs = observability("acks")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
# The same object version is applied once; a retry after a partial run finds each claim's
# acknowledgement recorded (by key) and changes nothing twice.
consumer = S3Consumer(
    obs,
    accepts=lambda key: ack_kind(key) is not None,
    area="the acknowledgement and claim status prefixes",
)


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    consumer.receive_created(ack_message(record.body), receive)


@consumer.once_per_object
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
