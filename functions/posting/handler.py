"""Stage 6b, payment posting: one message per ERA claim payment -> one DynamoDB transaction on the
claim (ledger entry, totals, status, audit event), then the claim's waiting execution resumes.
Idempotent by the remittance's source; partial batch failures retry only the failed messages."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from medbill.billing.posting import post_remittance
from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.models.errors import describe
from medbill.models.remittance import ClaimRemittance

settings.load(settings.PostingSettings)  # cold start: a missing variable fails here, by name
obs = observability("posting")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
processor = BatchProcessor(event_type=EventType.SQS)


class UnpostableMessage(Exception):
    """A posting message or claim that fails validation, named by field and rule only."""


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    try:
        remit = ClaimRemittance.model_validate_json(record.body)
        result = post_remittance(wiring.repository(), wiring.workflow(), remit)
    except ValidationError as err:
        # Powertools puts the message into the batch error that Lambda logs: fields and rules only.
        raise UnpostableMessage(describe(err)) from None
    logger.info(
        "claim payment posted",
        claim_id=result.claim_id,
        era_id=result.era_id,
        position=result.position,
        result=result.result,
        outcome=result.outcome,
        resumed=result.resumed,
    )
    if result.problems:
        # Posted, but outside the claim's wait (or its status could not follow): a person must look.
        # The problems carry ids and codes only; they are on the ERA's claim result and the audit event too.
        logger.warning(
            "claim payment posted with problems",
            claim_id=result.claim_id,
            era_id=result.era_id,
            position=result.position,
            status_code=remit.status_code,
            outcome=result.outcome,
            problems=result.problems,
        )
        metrics.add_metric(name="Remittance_posted_with_problems", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"Remittance_{result.result}", unit=MetricUnit.Count, value=1)
