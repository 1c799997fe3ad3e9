"""A fault-injecting wrapper around the local runtime's handlers (the Lambda bridge is the seam).

On a share of invocations, chosen by a seeded random generator (so a failing run can be repeated):

- **error**: the handler is not run; the invocation fails. Half are `AwsThrottled` (transient: the
  state machine retries it, SQS redelivers), half `InjectedFault` (terminal: a claim task ends in
  MarkFailed and the claim FAILED, which a person retries; an SQS batch is redelivered);
- **timeout**: the handler runs to the end, then the invocation fails as `Sandbox.Timedout` (what
  Lambda reports when a function overruns): the work is done but its caller never hears of it, so it
  is repeated: every handler must be idempotent;
- **duplicate** (SQS consumers): the same batch is delivered twice, as at-least-once delivery allows;
- **reorder** (SQS consumers): every batch's records are shuffled.

`enabled = False` stops injecting (the recovery phase: redrive, retry, drain).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra import config
from infra.local.lambda_bridge import Handler
from medbill.entry.observability import AwsThrottled


class InjectedFault(Exception):
    """A terminal handler error injected by the reliability suite (no data in it)."""


# Lambda's error name for a function that ran past its timeout (a dot: not a Python class name).
SandboxTimedout = type("Sandbox.Timedout", (Exception,), {"__doc__": "Lambda: the function timed out."})

SQS_CONSUMERS = frozenset(spec.consumer for spec in config.LOCAL_QUEUES)


@dataclass
class FaultPlan:
    error_rate: float = 0.05
    timeout_rate: float = 0.05
    duplicate_rate: float = 0.2
    reorder: bool = True
    seed: int = 12
    enabled: bool = True
    counts: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _draw(self) -> float:
        with self._lock:
            return self._rng.random()

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def wrap(self, function: str, handler: Handler) -> Handler:
        consumer = function in SQS_CONSUMERS

        def faulty(event: Any, context: Any) -> Any:
            self._count(f"invocations:{function}")
            if not self.enabled or _is_test_event(event):
                return handler(event, context)
            if consumer and self.reorder and isinstance(event, dict) and len(event.get("Records") or []) > 1:
                records = list(event["Records"])
                with self._lock:
                    self._rng.shuffle(records)
                event = {**event, "Records": records}
                self._count("reordered batches")
            draw = self._draw()
            if draw < self.error_rate:
                transient = self._draw() < 0.5
                self._count("errors (transient)" if transient else "errors (terminal)")
                raise AwsThrottled("ThrottlingException (injected)") if transient else InjectedFault(function)
            if draw < self.error_rate + self.timeout_rate:
                handler(event, context)
                self._count("timeouts after the work")
                raise SandboxTimedout(f"{function} timed out (injected)")
            if consumer and self._draw() < self.duplicate_rate:
                handler(event, context)
                self._count("duplicate deliveries")
            return handler(event, context)

        return faulty


def faulty_resolver(plan: FaultPlan) -> Any:
    """The bridge's resolver: the project's handlers (functions/<name>/handler.py), each wrapped."""
    from infra.local.lambda_bridge import ProjectHandlers

    project = ProjectHandlers()
    names = {spec.function_name: key for key, spec in config.LOCAL_FUNCTIONS.items()}

    def resolve(function_name: str) -> Handler | None:
        handler = project(function_name)
        return None if handler is None else plan.wrap(names[function_name], handler)

    return resolve


def _is_test_event(event: Any) -> bool:
    """S3's s3:TestEvent at provisioning: not part of the workload."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all("TestEvent" in str(r.get("body", "")) for r in records)
