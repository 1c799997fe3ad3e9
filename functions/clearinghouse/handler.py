"""Clearinghouse exchange: EventBridge schedule -> here. 837Ps from the outbox go to the
clearinghouse's inbound folder over SFTP; its answers (999, 277CA, 277, 271, 835) come back into
the bucket's prefixes, once each (medbill.workflow.clearinghouse). Idempotent: a run that fails
anywhere is completed by the next one, so the schedule's retries are harmless. Logs file names and
counts only."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import settings, wiring
from medbill.entry.observability import observability

settings.load(settings.ClearinghouseFunctionSettings)  # cold start: a missing variable fails here, by name
obs = observability("clearinghouse")
logger, metrics = obs.logger, obs.metrics

_METRICS = {
    "sent": "ClaimFilesSent",
    "fetched": "AnswerFilesFetched",
    "quarantined": "AnswerFilesQuarantined",
    "duplicates": "AnswerFilesDuplicate",
    "unsettled": "AnswerFilesUnsettled",
}


@obs.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    exchange = wiring.clearinghouse_exchange()
    try:
        summary = exchange.run().as_dict()
    finally:
        wiring.clearinghouse().close()  # one connection per invocation; the secret stays cached
    for field, metric in _METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=summary[field])
    logger.info("clearinghouse exchange done", **{k: v for k, v in summary.items() if k != "failed"})
    if summary["failed"]:
        # File names and error types only; the next scheduled run retries them.
        metrics.add_metric(name="ExchangeFailures", unit=MetricUnit.Count, value=len(summary["failed"]))
        logger.warning("clearinghouse files not exchanged this run", failed=summary["failed"])
    return summary
