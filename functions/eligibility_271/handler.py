"""Batch eligibility answers: S3 `eligibility/271/` (271s the clearinghouse exchange fetched) -> SQS
-> here. Each 271 is matched to its 270's manifest by BHT03 and TRN trace and its answers kept for
the day (docs/eligibility.md), so the claim's eligibility stage finds them instead of asking again;
a report per file goes to `eligibility/reports/`. Idempotent by object version (Powertools) and by
nature (the same answers rewrite the same items); partial batch failures retry only the failed
messages. Logs keys, references, counts and reason codes only.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.messages import eligibility_message
from medbill.entry.observability import observability
from medbill.entry.s3_consumer import S3Consumer, under
from medbill.models.common import utcnow
from medbill.prefixes import ELIGIBILITY_271_PREFIX
from medbill.workflow.eligibility_files import ingest_271

settings.load(settings.Eligibility271Settings)  # cold start: a missing variable fails here, by name
obs = observability("eligibility_271")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
consumer = S3Consumer(obs, accepts=under(ELIGIBILITY_271_PREFIX), area="the 271 prefix")


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    consumer.receive_created(eligibility_message(record.body), receive)


@consumer.once_per_object
def receive(s3_object: dict[str, Any]) -> dict[str, Any]:
    repo = wiring.repository()
    # The answers are kept first; then the claims held because the payer did not answer that they
    # cover are resumed (the same use case as the 15-minute recheck: the token goes once resumed).
    report = ingest_271(
        wiring.artifacts(),
        wiring.eligibility_batch_ledger(),
        repo,
        s3_object["key"],
        utcnow(),
        claims=repo,
        workflow=wiring.workflow(),
    )
    if report["file_error"]:  # not readable X12: reported beside it, nothing to retry
        logger.warning("271 file not readable", key=report["source_key"], error=report["file_error"])
        metrics.add_metric(name="EligibilityBatchFilesUnreadable", unit=MetricUnit.Count, value=1)
        return {"key": report["source_key"], "matched": 0, "kept": 0}
    # The report holds keys, references, counts and reason codes only.
    logger.info(
        "271 answers kept",
        key=report["source_key"],
        matched=report["matched"],
        kept=report["kept"],
        unknown_traces=report["unknown_traces"],
        problems=report["problems"],
        by_reason=report["by_reason"],
        manifests_missing=report["manifests_missing"],
        resumed=report["resumed"],
    )
    metrics.add_metric(name="EligibilityBatchAnswersKept", unit=MetricUnit.Count, value=report["kept"])
    metrics.add_metric(name="EligibilityHoldsResumedByBatch", unit=MetricUnit.Count, value=report["resumed"])
    unmatched = report["unknown_traces"] + len(report["manifests_missing"])
    metrics.add_metric(name="EligibilityBatchAnswersUnmatched", unit=MetricUnit.Count, value=unmatched)
    return {
        "key": report["source_key"],
        "matched": report["matched"],
        "kept": report["kept"],
        "resumed": report["resumed"],
    }
