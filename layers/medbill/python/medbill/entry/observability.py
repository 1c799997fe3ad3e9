"""What every handler shares: its Powertools Logger, Tracer and Metrics, and the decorator stack
that wraps the handler function (logging context, metrics flush, tracing), set up in one place.

    obs = observability("charges")
    logger, metrics = obs.logger, obs.metrics

    @obs.handler()
    @event_parser(model=ClaimTask)
    def handler(event: ClaimTask, context: LambdaContext) -> dict[str, Any]: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

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
            traced = self.tracer.capture_lambda_handler(fn)
            flushed = self.metrics.log_metrics(traced)
            logged = self.logger.inject_lambda_context(
                flushed, correlation_id_path=correlation_id_path, clear_state=True
            )
            return cast(F, logged)

        return wrap


def service_name(function: str) -> str:
    """The Powertools service (and Python logger name) of a function: `medbill-<name>`."""
    return f"{PROJECT}-{function}"


def observability(function: str) -> Observability:
    """`function` is the key in infra.config.FUNCTIONS. The service is named here, not only by
    POWERTOOLS_SERVICE_NAME: the local runtime runs every handler in one process."""
    return Observability(logger=Logger(service=service_name(function)), tracer=Tracer(), metrics=Metrics())
