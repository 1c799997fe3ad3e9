"""The environment each Lambda gets: the variables its settings model reads, and no others."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.config.deployment import envelope_environment
from infra.config.functions import FunctionSpec
from infra.config.names import PROJECT
from infra.config.queues import QUEUE_URL_ENV
from medbill.entry.settings import FUNCTION_SETTINGS, PENDING_FUNCTION_SETTINGS, variables


# --- Environment passed to every Lambda ----------------------------------------------------------
# Each function gets the variables its settings model (medbill.entry.settings.FUNCTION_SETTINGS)
# reads, and no others: the model is the one list, loaded and checked at the function's cold start.
@dataclass(frozen=True)
class LambdaEnvironment:
    table_name: str
    idempotency_table_name: str
    data_bucket: str
    state_machine_arn: str
    extra: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)  # QueueSpec.name -> queue URL
    secret_ids: dict[str, str] = field(default_factory=dict)  # variable (SECRET_VARIABLES) -> secret ARN
    # X12_* for the functions whose settings read them (submission), from the deploying environment.
    envelope: dict[str, str] = field(default_factory=envelope_environment)

    def values(self) -> dict[str, str]:
        """Every variable this environment can give, by name (queue URLs only where known)."""
        known = {
            "TABLE_NAME": self.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
            "DATA_BUCKET": self.data_bucket,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            **self.envelope,
        }
        # Queues nobody sends to (the acks queue: S3 notifications only) have no URL variable.
        urls = {name: url for name, url in self.queue_urls.items() if url and name in QUEUE_URL_ENV}
        known.update({QUEUE_URL_ENV[name]: url for name, url in urls.items()})
        known.update({name: value for name, value in self.secret_ids.items() if value})
        return known

    def as_env(self, function: FunctionSpec) -> dict[str, str]:
        wanted = variables({**FUNCTION_SETTINGS, **PENDING_FUNCTION_SETTINGS}[function.name])
        env = {name: value for name, value in self.values().items() if name in wanted}
        env.update(
            {
                "POWERTOOLS_SERVICE_NAME": f"{PROJECT}-{function.name}",
                "POWERTOOLS_METRICS_NAMESPACE": PROJECT,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # X-Ray keeps traces outside our KMS key and retention: record timings and errors, not
                # the handlers' responses (claims carry diagnoses and dates of service).
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            }
        )
        env.update(self.extra)
        return env


# Functions that start executions (their settings read STATE_MACHINE_ARN). Functions inside the
# state machine cannot be among them: their ARN would make a dependency cycle (state machine ->
# function -> state machine) in CloudFormation; they resume executions by task token, no ARN needed.
STARTS_OR_READS_EXECUTIONS = frozenset(
    name for name, model in FUNCTION_SETTINGS.items() if "STATE_MACHINE_ARN" in variables(model)
)
