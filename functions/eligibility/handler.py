"""Stage 2, insurance verification: active coverage -> eligible; otherwise a hold with reasons."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.stages import verify_eligibility
from medbill.workflow.tasks import ClaimTask

settings.load(settings.EligibilityFunctionSettings)  # cold start: a missing variable fails here, by name
obs = observability("eligibility")
logger, metrics = obs.logger, obs.metrics


@obs.handler()
@event_parser(model=ClaimTask)
def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id)
    result = verify_eligibility(
        wiring.repository(), wiring.eligibility(), event.claim_id, wiring.fee_schedule, answers=wiring.repository()
    ).model_dump(mode="json")
    if result["decision"] == "hold":
        metrics.add_metric(name="EligibilityHolds", unit=MetricUnit.Count, value=1)
    # The reasons quote codes and dates of service (and a payer's free text): they stay on the claim.
    logger.info("eligibility verified", decision=result["decision"], rules=result["rules"])
    return result
