"""Stage 6a, ERA intake: S3 `era/` -> SQS -> here. Each 835 file is checked whole (readable,
balanced); a bad file is quarantined, a good (or released) one fans out one posting message per
claim payment to the posting queue. A big file's fan-out that runs low on time continues in a
`continue_era` message from the checkpoint on its ERA records (billing.era_fanout)."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.billing.era import EraFileSummary, continue_era_file, receive_era_file
from medbill.entry import settings, wiring
from medbill.entry.messages import ContinueEra, ReleaseEra, S3Notification, remittance_message
from medbill.entry.observability import observability
from medbill.entry.s3_consumer import S3Consumer, object_version, under
from medbill.prefixes import ERA_PREFIX

settings.load(settings.RemittanceSettings)  # cold start: a missing variable fails here, by name
obs = observability("remittance")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
# The same object version is fanned out once; a copy under another key finds its ERA record (the
# record notes the key, its status stays) and the ledger never posts a claim payment twice.
consumer = S3Consumer(obs, accepts=under(ERA_PREFIX), area="the ERA prefix")
# Left for the rest of the batch and the continuation message when a big file's fan-out stops: one
# chunk (5,000 claim payments, ~500 SendMessageBatch calls) takes a few seconds in AWS.
TIME_RESERVE_MS = 60_000


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    message = remittance_message(record.body)
    if isinstance(message, ReleaseEra):
        release(message.source_key, message.file_id, message.encoding, recheck=message.recheck)
    elif isinstance(message, ContinueEra):
        resume(message.source_key, message.file_id)
    elif isinstance(message, S3Notification):
        for obj in consumer.objects(message):
            # The size rides along for the limit (decision 39); the idempotency key stays bucket, key and etag.
            receive(s3_object={**object_version(obj), "size": obj.size})
    # S3's s3:TestEvent names no object: nothing to do.


def _out_of_time() -> bool:
    left = consumer.time_left_ms()
    return left is not None and left < TIME_RESERVE_MS


@consumer.once_per_object
def receive(s3_object: dict[str, Any]) -> dict[str, Any]:
    summary = receive_era_file(
        wiring.repository(),
        wiring.artifacts(),
        wiring.posting_queue(),
        s3_object["key"],
        out_of_time=_out_of_time,
        size=s3_object.get("size"),  # from the notification: no HEAD before the size check
    )
    return _report(summary)  # inside: a failed continuation send fails the record, and SQS retries it


def release(key: str, file_id: str | None, encoding: str | None = None, *, recheck: bool = False) -> dict[str, Any]:
    """A person released a quarantined file (posted whatever its problems), or confirmed the encoding
    of one that is not UTF-8 (`recheck`: checked in that encoding as on a first delivery)."""
    summary = receive_era_file(
        wiring.repository(),
        wiring.artifacts(),
        wiring.posting_queue(),
        key,
        released=not recheck,
        released_file_id=file_id,
        out_of_time=_out_of_time,
        encoding=encoding,
    )
    return _report(summary)


def resume(key: str, file_id: str) -> dict[str, Any]:
    summary = continue_era_file(
        wiring.repository(), wiring.artifacts(), wiring.posting_queue(), key, file_id, out_of_time=_out_of_time
    )
    return _report(summary)


def _report(summary: EraFileSummary) -> dict[str, Any]:
    if summary.continues:
        wiring.era_continuations().send_continuation(summary.source_key, summary.file_id)
    fields = asdict(summary)
    fields.pop("problems")
    logger.info("ERA file processed", problem_count=len(summary.problems), **fields)
    metrics.add_metric(name="PostingMessagesQueued", unit=MetricUnit.Count, value=summary.claims_queued)
    metrics.add_metric(name="EraQuarantined", unit=MetricUnit.Count, value=int(summary.quarantined))
    metrics.add_metric(name="EraDuplicateDelivery", unit=MetricUnit.Count, value=int(summary.duplicate_of is not None))
    metrics.add_metric(name="EraFanOutContinued", unit=MetricUnit.Count, value=int(summary.continues))
    return fields
