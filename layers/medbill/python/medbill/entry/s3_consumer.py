"""S3 notification -> SQS -> Lambda: what every consumer of a bucket prefix shares (acks,
eligibility_271, remittance, intake).

- The batch goes through Powertools' BatchProcessor: a message that fails is a batch item failure,
  so only it is retried, and one that keeps failing lands in the queue's DLQ.
- An object version (bucket, key, etag) is handled once, for a week: Powertools idempotency on the
  handler's own `receive` function (S3 and SQS deliver at least once).
- An object outside the consumer's prefixes is logged (its key only) and skipped; S3's
  s3:TestEvent names no object.

A handler makes one `S3Consumer` at import, passes its batch to `process`, hands each parsed message
to `receive_created` (or walks `objects` itself) and decorates its `receive` with
`once_per_object`: functions/eligibility_271/handler.py is the plainest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill.entry import wiring
from medbill.entry.messages import S3Notification, S3Object, S3TestEvent
from medbill.entry.observability import Observability

F = TypeVar("F", bound=Callable[..., Any])

# How long an object version's idempotency record is kept (a redelivery later than this runs again).
KEEP_SECONDS = 7 * 24 * 3600


def under(*prefixes: str) -> Callable[[str], bool]:
    """`accepts` for a consumer of keys under these prefixes."""
    return lambda key: key.startswith(prefixes)


def object_version(obj: S3Object) -> dict[str, Any]:
    """The idempotency payload of a notified object: what makes one version of it."""
    return {"bucket": obj.bucket, "key": obj.key, "etag": obj.etag}


class S3Consumer:
    """One handler's batch processor, its idempotency (keyed on bucket, key and etag) and which
    notified keys are its own. Made at import (cold start), like the handler's other module state."""

    def __init__(self, obs: Observability, *, accepts: Callable[[str], bool], area: str) -> None:
        self.logger = obs.logger
        self.accepts = accepts
        self.area = area  # "the ERA prefix": what the warning for another key says it is outside of
        self.processor = BatchProcessor(event_type=EventType.SQS)
        self.idempotency = IdempotencyConfig(
            event_key_jmespath="[bucket, key, etag]", expires_after_seconds=KEEP_SECONDS
        )
        self.persistence = wiring.idempotency_store()
        self._context: LambdaContext | None = None

    def process(
        self, event: dict[str, Any], context: LambdaContext, record_handler: Callable[[SQSRecord], Any]
    ) -> PartialItemFailureResponse:
        """Every record of the batch through `record_handler`; the failed ones reported back to SQS."""
        self.idempotency.register_lambda_context(context)  # an in-progress record lapses with this invocation
        self._context = context
        return process_partial_response(
            event=event, record_handler=record_handler, processor=self.processor, context=context
        )

    def time_left_ms(self) -> int | None:
        """Milliseconds left in the invocation being processed (None outside one)."""
        return None if self._context is None else self._context.get_remaining_time_in_millis()

    def objects(self, message: S3Notification) -> Iterator[S3Object]:
        """The created objects of the notification that are this consumer's; others are logged by key."""
        for obj in message.created_objects():
            if not self.accepts(obj.key):
                self.logger.warning(f"ignoring object outside {self.area}", key=obj.key)
                continue
            yield obj

    def receive_created(self, message: S3Notification | S3TestEvent, receive: Callable[..., Any]) -> None:
        """`receive(s3_object=object_version(obj))` for each created object that is this consumer's (an
        s3:TestEvent, sent once when a notification is configured, names none)."""
        if isinstance(message, S3Notification):
            for obj in self.objects(message):
                receive(s3_object=object_version(obj))

    def once_per_object(self, fn: F) -> F:
        """Run `fn(s3_object=...)` once per object version (`object_version`): a redelivery returns
        the first run's result."""
        once = idempotent_function(
            data_keyword_argument="s3_object", config=self.idempotency, persistence_store=self.persistence
        )(fn)
        return cast(F, once)
