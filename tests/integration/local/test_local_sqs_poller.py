"""SQS -> consumer: real SQS events, partial batch failures, redrive to the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from infra import config
from infra.local.runtime import LocalRuntime


def _send(rt: LocalRuntime, queue: str, body: str, **attrs: Any) -> str:
    url = rt.resources.queue(queue).url
    kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if attrs:
        kwargs["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()}
    return str(rt.sqs.send_message(**kwargs)["MessageId"])


def _drain_test_events(rt: LocalRuntime) -> None:
    # S3 sent one s3:TestEvent to each notified queue when the bucket notification was set.
    assert rt.poller.poll_once() == len(config.LOCAL_NOTIFICATIONS)


def test_provisioned_resources_match_config() -> None:
    with LocalRuntime({}, simulator=False, visibility_timeout_seconds=7) as rt:
        res = rt.resources
        table = rt.dynamodb.describe_table(TableName=config.CLAIMS_TABLE.name)["Table"]
        assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        local_gsis = {
            g["IndexName"]: (
                {k["AttributeName"]: k["KeyType"] for k in g["KeySchema"]},
                g["Projection"]["ProjectionType"],
            )
            for g in table["GlobalSecondaryIndexes"]
        }
        assert local_gsis == {
            g.name: ({g.partition_key: "HASH", g.sort_key: "RANGE"}, "ALL") for g in config.CLAIMS_TABLE.gsis
        }
        ttl = rt.dynamodb.describe_time_to_live(TableName=config.IDEMPOTENCY_TABLE.name)
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiration"
        for spec in config.LOCAL_QUEUES:
            attrs = rt.sqs.get_queue_attributes(QueueUrl=res.queue(spec.name).url, AttributeNames=["All"])["Attributes"]
            assert attrs["VisibilityTimeout"] == "7"
            redrive = json.loads(attrs["RedrivePolicy"])
            assert redrive["maxReceiveCount"] == spec.max_receive_count
            assert redrive["deadLetterTargetArn"].endswith(":" + spec.dlq_name)
        notif = rt.s3.get_bucket_notification_configuration(Bucket=config.DATA_BUCKET)["QueueConfigurations"]
        prefixes = {n["Filter"]["Key"]["FilterRules"][0]["Value"]: n["QueueArn"] for n in notif}
        assert prefixes == {p: res.queue(q.name).arn for p, q in config.LOCAL_NOTIFICATIONS.items()}
        for fspec in config.LOCAL_FUNCTIONS.values():
            fn = rt.lambda_client.get_function(FunctionName=fspec.function_name)["Configuration"]
            assert fn["Timeout"] == fspec.timeout_seconds and fn["MemorySize"] == fspec.memory_mb
            assert fn["Environment"]["Variables"]["TABLE_NAME"] == config.CLAIMS_TABLE.name
            assert ("STATE_MACHINE_ARN" in fn["Environment"]["Variables"]) == (
                fspec.name in config.STARTS_OR_READS_EXECUTIONS
            )
        import os

        assert os.environ["TABLE_NAME"] == config.CLAIMS_TABLE.name
        assert os.environ["STATE_MACHINE_ARN"] == res.state_machine_arn
        assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_s3_upload_reaches_the_consumer_as_a_real_sqs_event() -> None:
    seen: list[dict[str, Any]] = []

    def intake(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"batchItemFailures": []}

    with LocalRuntime({"intake": intake, "remittance": intake, "acks": intake}, simulator=False) as rt:
        _drain_test_events(rt)
        test_events = [json.loads(e["Records"][0]["body"]) for e in seen]
        assert {t["Event"] for t in test_events} == {"s3:TestEvent"}
        seen.clear()
        rt.upload("encounters/clinic-a.json", b"{}")
        rt.upload("other/ignored.json", b"{}")  # no notification for this prefix
        assert rt.poller.poll_once() == 1
        record = seen[0]["Records"][0]
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == rt.resources.queue("intake").arn
        assert record["awsRegion"] == "us-east-1"
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} <= set(record["attributes"])
        assert record["md5OfBody"] and record["receiptHandle"] and record["messageId"]
        s3_event = json.loads(record["body"])["Records"][0]
        assert s3_event["eventName"].startswith("ObjectCreated:")
        # S3 URL-encodes keys in events (moto even encodes "/"): consumers must unquote_plus.
        assert unquote_plus(s3_event["s3"]["object"]["key"]) == "encounters/clinic-a.json"
        assert rt.queue_depths() == {q.name: 0 for q in config.LOCAL_QUEUES}


def test_partial_batch_failure_retries_only_the_failed_message_and_poison_goes_to_dlq() -> None:
    attempts: dict[str, int] = {}
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        if "s3:TestEvent" in record.body:
            return
        attempts[record.body] = attempts.get(record.body, 0) + 1
        clinic = record.message_attributes["clinic"]
        assert clinic is not None and clinic.string_value == "CLINIC1"
        if record.body == "poison":
            raise ValueError("cannot process")

    def consumer(event: dict[str, Any], context: Any) -> Any:
        # The event is what Powertools' BatchProcessor(EventType.SQS) accepts.
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    with LocalRuntime(
        {"intake": consumer, "remittance": consumer, "acks": consumer}, simulator=False, visibility_timeout_seconds=1
    ) as rt:
        _drain_test_events(rt)
        for body in ("good-1", "poison", "good-2"):
            _send(rt, "intake", body, clinic="CLINIC1")
        assert rt.poller.poll_queue(rt.resources.queue("intake")).received == 3
        assert attempts == {"good-1": 1, "poison": 1, "good-2": 1}
        spec = config.INTAKE_QUEUE
        deadline = time.monotonic() + 20
        while rt.poller.dlq_depths()[spec.dlq_name] < 1 and time.monotonic() < deadline:
            rt.poller.poll_once()
            time.sleep(0.2)
        # good messages once; poison maxReceiveCount times, then moto's redrive moves it
        assert attempts == {"good-1": 1, "poison": spec.max_receive_count, "good-2": 1}
        dlq = rt.resources.queue("intake").dlq_url
        bodies = [m["Body"] for m in rt.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]]
        assert bodies == ["poison"]
        assert rt.queue_depths()["medbill-intake"] == 0


def test_handler_exception_fails_the_whole_batch() -> None:
    calls: list[list[str]] = []

    def consumer(event: dict[str, Any], context: Any) -> Any:
        bodies = [r["body"] for r in event["Records"]]
        calls.append(bodies)
        if bodies == ["a", "b"] and calls.count(bodies) == 1:
            raise RuntimeError("boom")  # first delivery only
        return None

    with LocalRuntime(
        {"intake": consumer, "remittance": consumer, "acks": consumer}, simulator=False, visibility_timeout_seconds=1
    ) as rt:
        _drain_test_events(rt)
        for body in ("a", "b"):
            _send(rt, "intake", body)
        assert rt.poller.poll_queue(rt.resources.queue("intake")).failed == 2
        assert rt.queue_depths()["medbill-intake"] == 2  # both still there, invisible for 1 s
        assert [f.error_type for f in rt.failures] == ["RuntimeError"]
        time.sleep(1.2)
        result = rt.poller.poll_queue(rt.resources.queue("intake"))
        assert (result.received, result.deleted) == (2, 2)


def test_batches_respect_the_queue_batch_size() -> None:
    sizes: list[int] = []

    def consumer(event: dict[str, Any], context: Any) -> Any:
        sizes.append(len(event["Records"]))
        return {"batchItemFailures": []}

    with LocalRuntime({"intake": consumer, "remittance": consumer, "acks": consumer}, simulator=False) as rt:
        _drain_test_events(rt)
        sizes.clear()
        for i in range(7):
            _send(rt, "remittance", f"m{i}")
        assert rt.poller.drain() == 7
        assert max(sizes) <= config.REMITTANCE_QUEUE.batch_size
        assert sum(sizes) == 7


def test_background_poller_thread() -> None:
    seen: list[str] = []

    def consumer(event: dict[str, Any], context: Any) -> Any:
        seen.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": []}

    with LocalRuntime({"intake": consumer, "remittance": consumer, "acks": consumer}, simulator=False) as rt:
        rt.poller.start(interval_s=0.05)
        _send(rt, "intake", "hello")
        deadline = time.monotonic() + 5
        while "hello" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        rt.poller.stop()
        assert "hello" in seen
