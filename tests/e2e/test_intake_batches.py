"""The real intake handler on SQS batches: partial batch failures, reports for bad files, the DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.local.runtime import LocalRuntime
from medbill.entry import wiring
from tests.e2e.conftest import SAMPLES


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    # A 1 s visibility timeout so a failing message reaches its DLQ (3 receives) in seconds.
    with LocalRuntime(simulator=False, visibility_timeout_seconds=1) as rt:
        wiring.reset()
        yield rt
    wiring.reset()


def _notification(rt: LocalRuntime, key: str) -> str:
    """The body S3 puts on the queue for ObjectCreated: the object's own ETag, as S3 sends it (intake
    reads that version only: decision 40), or any for an object that is gone."""
    try:
        etag = rt.s3.head_object(Bucket=rt.resources.bucket, Key=key)["ETag"].strip('"')
    except rt.s3.exceptions.ClientError:
        etag = "etag-1"
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": rt.resources.bucket}, "object": {"key": key, "eTag": etag, "size": 1}},
    }
    return json.dumps({"Records": [record]})


def _sqs_record(rt: LocalRuntime, message_id: str, body: str) -> dict[str, object]:
    queue = rt.resources.queue("intake")
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "s3",
            "ApproximateFirstReceiveTimestamp": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "-",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": rt.region,
    }


def _claim_count() -> int:
    return len(wiring.repository().list_claims(limit=100).items)


def test_only_the_failed_message_of_a_batch_is_reported_for_retry(runtime: LocalRuntime) -> None:
    rt = runtime
    # put_object notifies the queue too; this test drives the handler itself, so those wait unpolled.
    rt.s3.put_object(
        Bucket=rt.resources.bucket,
        Key="encounters/good.json",
        Body=(SAMPLES / "northside-2026-11-20.json").read_bytes(),
    )
    rt.s3.put_object(Bucket=rt.resources.bucket, Key="encounters/binary.json", Body=b"\x00\x01\xff\xfe")
    batch = {
        "Records": [
            _sqs_record(rt, "m1", _notification(rt, "encounters/good.json")),
            _sqs_record(rt, "m2", _notification(rt, "encounters/gone.json")),  # deleted before we read it
            _sqs_record(rt, "m3", _notification(rt, "encounters/binary.json")),
        ]
    }
    response = rt.invoke("intake", batch)
    # The missing object fails (S3 may still be catching up: retry it); the unreadable file does
    # not: it gets a report, because retrying cannot make it readable.
    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert _claim_count() == 9  # the sample's 10 records: 9 claims and 1 rejection
    binary = json.loads(rt.read("rejections/encounters/binary.json"))
    assert "UTF-8" in binary["file_error"]
    good = json.loads(rt.read("rejections/encounters/good.json"))
    assert good["counts"]["rejected"] == 1

    # SQS delivers the good message again: the idempotency record answers, nothing is created twice.
    again = rt.invoke("intake", {"Records": [_sqs_record(rt, "m1-again", _notification(rt, "encounters/good.json"))]})
    assert again == {"batchItemFailures": []}
    assert _claim_count() == 9
    assert len(rt.list_executions()) == 9


def test_a_message_that_keeps_failing_ends_in_the_dlq_and_the_rest_of_the_queue_goes_through(
    runtime: LocalRuntime,
) -> None:
    rt = runtime
    queue = rt.resources.queue("intake")
    rt.sqs.send_message(QueueUrl=queue.url, MessageBody=_notification(rt, "encounters/never-there.json"))
    rt.upload("encounters/lakeview.csv", (SAMPLES / "lakeview-2026-11-20.csv").read_bytes())
    rt.run_until_idle(timeout_s=90)
    assert _claim_count() == 6
    assert rt.poller.dlq_depths()[queue.spec.dlq_name] == 1
    [dead] = rt.sqs.receive_message(QueueUrl=queue.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert "never-there.json" in dead["Body"]


def test_a_hostile_file_never_fails_the_other_files_of_its_batch(runtime: LocalRuntime) -> None:
    """Issue 12: a 50 MB name or a 100,000-row file ended in out-of-memory or timeout for the whole
    batch of 5 (three receives, the DLQ, no report). Limits are checked first and the reading is
    bounded, so each file ends in its own report and the batch reports no failure."""
    rt = runtime
    records = json.loads((SAMPLES / "northside-2026-11-20.json").read_text())
    records[0]["patient"]["last_name"] = "N" * (3 * 1024 * 1024)  # scaled: 12x the record limit
    rt.s3.put_object(
        Bucket=rt.resources.bucket, Key="encounters/clinic-northside/big-name.json", Body=json.dumps(records)
    )
    rt.s3.put_object(Bucket=rt.resources.bucket, Key="encounters/clinic-northside/huge.json", Body=b"[]")
    rt.s3.put_object(
        Bucket=rt.resources.bucket,
        Key="encounters/clinic-lakeview/good.csv",
        Body=(SAMPLES / "lakeview-2026-11-20.csv").read_bytes(),
    )
    huge = json.loads(_notification(rt, "encounters/clinic-northside/huge.json"))
    huge["Records"][0]["s3"]["object"]["size"] = 200 * 1024 * 1024  # as S3 would report a 200 MiB upload
    batch = {
        "Records": [
            _sqs_record(rt, "m1", _notification(rt, "encounters/clinic-northside/big-name.json")),
            _sqs_record(rt, "m2", json.dumps(huge)),
            _sqs_record(rt, "m3", _notification(rt, "encounters/clinic-lakeview/good.csv")),
        ]
    }
    assert rt.invoke("intake", batch) == {"batchItemFailures": []}
    big = json.loads(rt.read("rejections/encounters/clinic-northside/big-name.json"))
    assert big["counts"] == {"records": 10, "accepted": 8, "rejected": 2}  # the sample's own bad record too
    assert "record 1 is over the limit of 256 KiB per record: not read" in [r["reason"] for r in big["rejections"]]
    refused = json.loads(rt.read("rejections/encounters/clinic-northside/huge.json"))
    assert refused["file_error"].startswith("the file is 209,715,200 bytes, over the limit of 100 MiB per file")
    good = json.loads(rt.read("rejections/encounters/clinic-lakeview/good.csv.json"))
    assert good["counts"]["accepted"] == 6
    assert _claim_count() == 14
