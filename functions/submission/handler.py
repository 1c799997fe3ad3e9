"""Stage 5, claim submission: an 837P (005010X222A1) for the claim, written to the clearinghouse outbox."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.next_payer import submit_next_payer
from medbill.workflow.stages import submit
from medbill.workflow.tasks import SubmissionTask

settings.load(settings.SubmissionSettings)  # cold start: a missing variable fails here, by name
obs = observability("submission")
logger, metrics = obs.logger, obs.metrics


@obs.handler()
@event_parser(model=SubmissionTask)
def handler(event: SubmissionTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id, next_payer=event.next_payer)
    use_case = submit_next_payer if event.next_payer else submit  # a secondary / tertiary 837P, or the first
    result = use_case(wiring.repository(), wiring.artifacts(), wiring.submitter(), event.claim_id).model_dump(
        mode="json"
    )
    metrics.add_metric(name="ClaimsSubmitted", unit=MetricUnit.Count, value=1)
    logger.info("837P written", interchange_control_number=result["interchange_control_number"])
    return result
