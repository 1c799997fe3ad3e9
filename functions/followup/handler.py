"""Stage 7, follow-up: denied, short-paid, timed-out and expired-hold claims get a reason and an action;
workflow errors make the claim FAILED with the error name."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.stages import fail, follow_up
from medbill.workflow.tasks import FollowUpTask
from medbill.workflow.timely_filing_check import check_timely_filing

settings.load(settings.FollowupSettings)  # cold start: a missing variable fails here, by name
obs = observability("followup")
logger, metrics = obs.logger, obs.metrics


@obs.handler()
@event_parser(model=FollowUpTask)
def handler(event: FollowUpTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id, action=event.action)
    if event.action == "fail":
        metrics.add_metric(name="ClaimsFailed", unit=MetricUnit.Count, value=1)
        result = fail(wiring.repository(), event.claim_id, event.error or "unknown").model_dump(mode="json")
    else:
        metrics.add_metric(name="ClaimsToFollowUp", unit=MetricUnit.Count, value=1)
        result = follow_up(wiring.repository(), event.claim_id, event.outcome or "unknown").model_dump(mode="json")
    logger.info("claim routed", **result)
    return result


@obs.handler()
def scheduled(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Daily (EventBridge schedule, infra.config.TIMELY_FILING_SCHEDULE): flag claims near their
    timely filing deadline onto the timely_filing worklist."""
    result = check_timely_filing(wiring.repository(), datetime.now(UTC).date())
    metrics.add_metric(name="ClaimsNearFilingDeadline", unit=MetricUnit.Count, value=result["flagged"])
    logger.info("timely filing checked", extra=dict(result))
    return result


@obs.handler()
def statements(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Monthly (EventBridge schedule, infra.config.STATEMENTS_SCHEDULE): patient statements, one per
    guarantor account and cycle, into the data bucket under statements/."""
    from medbill.workflow.statements import run_statements  # fpdf2 loads only for this entry point

    result = run_statements(wiring.repository(), wiring.artifacts(), datetime.now(UTC).date())
    metrics.add_metric(name="StatementsSent", unit=MetricUnit.Count, value=len(result["sent"]))
    logger.info("statements run", extra={"cycle": result["cycle"], "sent": len(result["sent"])})
    return result
