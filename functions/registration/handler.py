"""Stage 1, patient registration: upsert the patient (name + DOB + member id), patient id on the claim."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.stages import register
from medbill.workflow.tasks import ClaimTask

settings.load(settings.RegistrationSettings)  # cold start: a missing variable fails here, by name
obs = observability("registration")
logger = obs.logger


@obs.handler()
@event_parser(model=ClaimTask)
def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id)
    result = register(wiring.repository(), event.claim_id).model_dump(mode="json")
    logger.info("patient registered", patient_id=result["patient_id"])
    return result
