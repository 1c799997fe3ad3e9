"""Stage 4, charge entry: the clinic's fee schedule prices each line; line and claim totals in Decimal."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.stages import enter_charges
from medbill.workflow.tasks import ClaimTask

settings.load(settings.ChargesSettings)  # cold start: a missing variable fails here, by name
obs = observability("charges")
logger = obs.logger


@obs.handler()
@event_parser(model=ClaimTask)
def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id)
    result = enter_charges(wiring.repository(), wiring.fee_schedule, event.claim_id).model_dump(mode="json")
    logger.info("charges entered", total_charge=result["total_charge"])
    return result
