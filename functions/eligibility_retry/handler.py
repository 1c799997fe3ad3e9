"""Eligibility retry: EventBridge schedule -> here. Claims held because the payer did not answer
the real-time check (AAA 42, timeouts) have their execution resumed once `eligibility_retry_at`
has passed, which runs the eligibility stage again (medbill.workflow.eligibility_retry). Logs
claim ids and counts only."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.eligibility_retry import retry_due_checks

settings.load(settings.EligibilityRetrySettings)  # cold start: a missing variable fails here, by name
obs = observability("eligibility_retry")
logger, metrics = obs.logger, obs.metrics


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resumed = retry_due_checks(wiring.repository(), wiring.workflow(), datetime.now(UTC))
    metrics.add_metric(name="EligibilityRechecks", unit=MetricUnit.Count, value=len(resumed))
    logger.info("eligibility retries resumed", count=len(resumed), claim_ids=resumed)
    return {"resumed": len(resumed)}
