"""Waits: park the execution's task token on the claim (remittance wait or a staff hold)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.billing.posting import post_waiting_unmatched
from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.workflow.stages import park_task_token
from medbill.workflow.tasks import AwaitTask

settings.load(settings.AwaitTokenSettings)  # cold start: a missing variable fails here, by name
obs = observability("await_token")
logger = obs.logger


@obs.handler()
@event_parser(model=AwaitTask)
def handler(event: AwaitTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(claim_id=event.claim_id, wait=event.wait, stage=event.stage)
    result = park_task_token(
        wiring.repository(), wiring.workflow(), event.claim_id, event.wait, event.stage, event.task_token
    ).model_dump(mode="json")
    logger.info("task token parked" if result.get("parked") else "wait already over", outcome=result.get("outcome"))
    if event.wait == "remittance" and result.get("parked"):
        _post_waiting_unmatched(event.claim_id)
    return result


def _post_waiting_unmatched(claim_id: str) -> None:
    """Remittance that came before this claim was known waits in the unmatched queue: post it now."""
    try:
        posted = post_waiting_unmatched(wiring.repository(), wiring.workflow(), claim_id)
    except Exception as err:  # the wait is parked; the items stay on the work queue for a person
        logger.warning("waiting unmatched remittance not posted", error=type(err).__name__)
    else:
        if posted:
            logger.info("posted waiting unmatched remittance", count=len(posted))
