"""medbill.entry.s3_consumer on moto (its idempotency records live in DynamoDB): a batch of S3
notifications runs `receive` once per object version of the consumer's prefix, names a key outside
it in a warning, and reports only the record that failed back to SQS."""

from __future__ import annotations

import io
import json
import logging
from typing import Any, cast

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from infra.local.lambda_bridge import LocalLambdaContext
from infra.local.provision import LocalResources
from medbill.entry.messages import ack_message
from medbill.entry.observability import observability, service_name
from medbill.entry.s3_consumer import S3Consumer, under

FUNCTION = "s3_consumer_test"


def _notification(*objects: tuple[str, str], event: str = "ObjectCreated:Put") -> str:
    records = [
        {"eventName": event, "s3": {"bucket": {"name": "medbill-data"}, "object": {"key": key, "eTag": etag}}}
        for key, etag in objects
    ]
    return json.dumps({"Records": records})


def _event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "receiptHandle": f"rh{i}", "body": body, "attributes": {}, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def _capture() -> io.StringIO:
    # Powertools binds its stream once per process: read the lines from the logger itself.
    sink = io.StringIO()
    logger = logging.getLogger(service_name(FUNCTION))
    capture = logging.StreamHandler(sink)
    capture.setFormatter(logger.handlers[0].formatter)  # Powertools' JSON lines
    logger.addHandler(capture)
    return sink


def test_a_batch_runs_receive_once_per_object_version_and_reports_only_the_failed_record(
    aws: LocalResources,
) -> None:
    consumer = S3Consumer(observability(FUNCTION), accepts=under("era/"), area="the ERA prefix")
    received: list[tuple[str, str]] = []
    time_left: list[int | None] = []

    @consumer.once_per_object
    def receive(s3_object: dict[str, Any]) -> dict[str, Any]:
        received.append((s3_object["key"], s3_object["etag"]))
        return {"key": s3_object["key"]}

    def record_handler(record: SQSRecord) -> None:
        time_left.append(consumer.time_left_ms())
        consumer.receive_created(ack_message(record.body), receive)

    sink = _capture()
    assert consumer.time_left_ms() is None  # outside an invocation
    response = consumer.process(
        _event(
            _notification(("era/a.835", "e1"), ("encounters/b.json", "e9")),
            _notification(("era/a.835", "e1")),  # S3 delivered it again: not received twice
            _notification(("era/a.835", "e2")),  # a new version of the same key is
            _notification(("era/c.835", "e3"), event="ObjectRemoved:Delete"),  # not a created object
            '{"Service":"Amazon S3","Event":"s3:TestEvent"}',
            "not json",
        ),
        cast(LambdaContext, LocalLambdaContext(service_name(FUNCTION), timeout_seconds=30)),
        record_handler,
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m5"}]}
    assert received == [("era/a.835", "e1"), ("era/a.835", "e2")]
    assert all(left is not None and 0 < left <= 30_000 for left in time_left) and len(time_left) == 6
    warnings = [json.loads(line) for line in sink.getvalue().splitlines()]
    ignored = [(w["level"], w["message"], w["key"]) for w in warnings]
    assert ignored == [("WARNING", "ignoring object outside the ERA prefix", "encounters/b.json")]
