"""Stage 2, insurance verification: active coverage -> eligible; otherwise a hold with reasons."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import wiring
from medbill.workflow.stages import verify_eligibility
from medbill.workflow.tasks import ClaimTask

logger = Logger(service="medbill-eligibility")
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_parser(model=ClaimTask)
def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id)
    result = verify_eligibility(wiring.repository(), wiring.eligibility(), event.claim_id).model_dump(mode="json")
    if result["decision"] == "hold":
        metrics.add_metric(name="EligibilityHolds", unit=MetricUnit.Count, value=1)
    # The reasons quote codes and dates of service (and a payer's free text): they stay on the claim.
    logger.info("eligibility verified", decision=result["decision"], reason_count=len(result["reasons"]))
    return result
