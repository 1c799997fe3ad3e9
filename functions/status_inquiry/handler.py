"""Claim status inquiry: EventBridge schedule (infra.config.STATUS_INQUIRY_SCHEDULE) -> here. Claims
that went quiet (no 277CA `status_ack_hours` after the send, or accepted and no 835
`status_remittance_days` after; per payer, payer_policies.json) are asked about with one 276 per
payer into `outbox/276/`, which the clearinghouse exchange sends; the 277 answers come back into
`status/277/` and the acks function records them (medbill.workflow.claim_status, decision 24).
Re-running it asks nothing twice within a payer's ack_hours. Logs keys and counts only."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.models.common import utcnow
from medbill.workflow.claim_status import send_status_inquiries

settings.load(settings.StatusInquirySettings)  # cold start: a missing variable fails here, by name
obs = observability("status_inquiry")
logger, metrics = obs.logger, obs.metrics


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = send_status_inquiries(wiring.repository(), wiring.artifacts(), wiring.status_inquiry_writer(), utcnow())
    summary = run.as_dict()
    metrics.add_metric(name="ClaimStatusInquiries", unit=MetricUnit.Count, value=len(run.asked))
    metrics.add_metric(name="ClaimStatusInquiryProblems", unit=MetricUnit.Count, value=len(run.problems))
    # Claim ids, keys and counts; a problem names a claim id and the X12 element, never its value.
    logger.info("claim status inquiries written", extra=summary)
    return summary
