"""Batch eligibility, the evening run: EventBridge schedule -> here. Every appointments file
(`appointments/`) not batched yet becomes one 270 in `outbox/270/`, with its rejection report and
manifest (medbill.workflow.eligibility_files.run_batches); the clearinghouse exchange sends it and
fetches the 271s into `eligibility/271/`, which the `eligibility_271` function reads. Idempotent: a
file is batched once, and a run that fails midway is completed by the next with the same 270. Logs
keys and counts only."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.models.common import utcnow
from medbill.workflow.eligibility_files import BatchEnvelope, run_batches

config = settings.load(settings.EligibilityBatchSettings)  # cold start: a missing variable fails here, by name
obs = observability("eligibility_batch")
logger, metrics = obs.logger, obs.metrics


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    identity = config.clearinghouse()
    repo = wiring.repository()
    run = run_batches(
        wiring.artifacts(),
        wiring.appointments(),
        wiring.eligibility_batch_ledger(),
        repo,
        lambda: repo.next_counter("x12-interchange"),  # ISA13 shared with the 837Ps: one sender, one sequence
        BatchEnvelope(identity.sender_id, identity.receiver_id, identity.usage_indicator),
        utcnow(),
    )
    summary = run.as_dict()
    metrics.add_metric(name="EligibilityBatchInquiries", unit=MetricUnit.Count, value=run.asked)
    metrics.add_metric(name="AppointmentRowsRejected", unit=MetricUnit.Count, value=run.rejected)
    logger.info("eligibility batches written", **summary)
    return summary
