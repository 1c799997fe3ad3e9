"""What every handler shares: its Powertools Logger, Tracer and Metrics, and the decorator stack
that wraps the handler function (logging context, metrics flush, tracing), set up in one place.

    obs = observability("charges")
    logger, metrics = obs.logger, obs.metrics

    @obs.handler()
    @event_parser(model=ClaimTask)
    def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]: ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from botocore.exceptions import ClientError, ConnectionError, ConnectTimeoutError, ReadTimeoutError

F = TypeVar("F", bound=Callable[..., Any])

PROJECT = "medbill"  # infra.config.PROJECT (the layer does not import infra; a test holds them equal)


@dataclass(frozen=True)
class Observability:
    logger: Logger
    tracer: Tracer
    metrics: Metrics

    def handler(self, *, correlation_id_path: str | None = None) -> Callable[[F], F]:
        """Logger context (cleared per invocation: no keys leak from one claim to the next), then the
        metrics flush, then the X-Ray segment, outermost first, as every handler had them."""

        def wrap(fn: F) -> F:
            traced = self.tracer.capture_lambda_handler(transient_errors_named(fn))
            flushed = self.metrics.log_metrics(traced)
            logged = self.logger.inject_lambda_context(
                flushed, correlation_id_path=correlation_id_path, clear_state=True
            )
            return cast(F, logged)

        return wrap


# AWS answers that mean "try again later": throttling and the service's own faults.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
        "TransactionInProgressException",
    }
)


class AwsThrottled(Exception):
    """An AWS call was throttled or the service failed: transient. The claim state machine retries
    this error name with backoff (claim.asl.json); the message names the code and operation only."""


class AwsUnreachable(Exception):
    """An AWS endpoint could not be reached or timed out: transient, retried like AwsThrottled."""


def transient_errors_named(fn: F) -> F:
    """Raise AWS's transient failures under names the state machine's Retry can match (Lambda reports
    every botocore error as `ClientError`, which also covers errors that will never go away)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ClientError as err:
            error = err.response.get("Error", {})
            status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if error.get("Code") in THROTTLING_CODES or status >= 500:
                raise AwsThrottled(f"{error.get('Code')} on {err.operation_name}") from err
            raise
        except (ConnectionError, ConnectTimeoutError, ReadTimeoutError) as err:
            raise AwsUnreachable(type(err).__name__) from err

    return cast(F, run)


def service_name(function: str) -> str:
    """The Powertools service (and Python logger name) of a function: `medbill-<name>`."""
    return f"{PROJECT}-{function}"


def observability(function: str) -> Observability:
    """`function` is the key in infra.config.FUNCTIONS. The service is named here, not only by
    POWERTOOLS_SERVICE_NAME: the local runtime runs every handler in one process."""
    return Observability(logger=Logger(service=service_name(function)), tracer=Tracer(), metrics=Metrics())
