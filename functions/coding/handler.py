"""Stage 3, medical coding: ICD-10-CM billable codes, CPT/HCPCS format and fee schedule, pointers."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.coding import icd10
from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.stages import code
from medbill.workflow.tasks import ClaimTask

settings.load(settings.CodingSettings)  # cold start: a missing variable fails here, by name
obs = observability("coding")
logger, metrics = obs.logger, obs.metrics
# Load the ICD-10-CM code set (~4 s) during Lambda init, not in the first request.
icd10.warm()


@obs.handler()
@event_parser(model=ClaimTask)
def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id)
    result = code(wiring.repository(), wiring.fee_schedule, event.claim_id).model_dump(mode="json")
    if result["decision"] == "hold":
        metrics.add_metric(name="CodingHolds", unit=MetricUnit.Count, value=1)
    # The reasons quote codes and dates of service (and a payer's free text): they stay on the claim.
    logger.info("claim coded", decision=result["decision"], rules=result["rules"])
    return result
