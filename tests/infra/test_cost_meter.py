"""bench/aws_meter.py counts what AWS bills: request units from item sizes, index writes, SQS chunks,
S3 tiers, transitions. Exact values on moto, so a wrong rule fails here before it skews docs/cost.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bench.aws_meter import (
    Meter,
    index_write_units,
    item_size,
    read_units,
    state_transitions,
    write_units,
)

REGION = "us-east-1"


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"pk": {"S": "CLAIM#1"}, "n": {"N": "123"}}) == 2 + 7 + 1 + 3
    assert item_size(None) == 0


def test_request_units_round_up_per_4_kb_read_and_1_kb_written() -> None:
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(100, consistent=False) == 0.5
    assert read_units(0, consistent=True, transactional=True) == 2.0
    big, small = {"a": {"S": "x" * 1500}}, {"a": {"S": "x" * 10}}
    assert write_units(big, small, transactional=False) == 2.0  # the larger of old and new
    assert write_units(None, small, transactional=True) == 2.0


def test_index_writes_one_per_index_and_two_when_its_key_moves() -> None:
    indexes = [["status", "updated_at"], ["clinic_id", "date_of_service"]]
    old = {"status": {"S": "SUBMITTED"}, "updated_at": {"S": "1"}, "clinic_id": {"S": "c"}}
    same = {**old, "updated_at": {"S": "1"}, "note": {"S": "x"}}
    moved = {**old, "status": {"S": "PAID"}}
    assert index_write_units(indexes, old, same) == 1.0  # by-status rewritten; by-clinic: no date
    assert index_write_units(indexes, old, moved) == 2.0  # delete from SUBMITTED, put in PAID
    assert index_write_units(indexes, None, {"pk": {"S": "x"}}) == 0.0


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x"), ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def _table(client: Any) -> None:
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "status", "updated_at")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "updated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def test_the_meter_counts_units_by_caller_on_moto(aws: None) -> None:
    meter = Meter(account_id="123456789012", region=REGION, notified_prefixes=("era/",))
    with meter.installed():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _table(ddb)
        claim = {"pk": {"S": "CLAIM#1"}, "sk": {"S": "CLAIM"}, "status": {"S": "SUBMITTED"}, "updated_at": {"S": "1"}}
        with meter.calling_as("posting"):
            ddb.put_item(TableName="t", Item=claim)  # 1 + 1 in by-status
            ddb.update_item(  # 1 + 2: moves from SUBMITTED to PAID in by-status
                TableName="t",
                Key={"pk": claim["pk"], "sk": claim["sk"]},
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "PAID"}},
            )
            ddb.transact_write_items(  # 2 x 1, in no index
                TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "CLAIM#1"}, "sk": {"S": "EVENT#1"}}}}]
            )
            with pytest.raises(ClientError):  # refused, still billed: the existing item's 1 unit
                ddb.put_item(TableName="t", Item=claim, ConditionExpression="attribute_not_exists(pk)")
            ddb.get_item(TableName="t", Key={"pk": claim["pk"], "sk": claim["sk"]}, ConsistentRead=True)  # 1
            ddb.get_item(TableName="t", Key={"pk": claim["pk"], "sk": claim["sk"]})  # 0.5
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="meter-bucket")
        with meter.calling_as("remittance"):
            body = "x" * 40_000
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": "1", "MessageBody": body}, {"Id": "2", "MessageBody": body}]
            )
            s3.put_object(Bucket="meter-bucket", Key="era/a.835", Body=b"ISA")
            s3.put_object(Bucket="meter-bucket", Key="era-reports/a.json", Body=b"{}")
            s3.get_object(Bucket="meter-bucket", Key="era/a.835")
    posting, remittance = meter.usage["posting"], meter.usage["remittance"]
    assert posting.write_units == 2 + 3 + 2 + 1
    assert posting.read_units == 1.5
    assert posting.requests[("dynamodb", "PutItem")] == 2
    assert ("dynamodb", "UpdateItem", "CLAIM#") in posting.touched
    assert remittance.sqs_requests == 2  # 80,000 bytes in one request: two 64 KB chunks
    assert (remittance.s3_tier1, remittance.s3_tier2, remittance.s3_notifications) == (2, 1, 1)
    assert remittance.write_units == 0


def test_the_wrapped_handler_counts_an_invocation_and_its_billed_milliseconds() -> None:
    meter = Meter(account_id="123456789012", region=REGION)
    handler = meter.wrap_handler("coding", lambda event, context: {"decision": event["d"]})
    assert handler({"d": "coded"}, None) == {"decision": "coded"}
    usage = meter.usage["coding"]
    assert usage.invocations == 1 and usage.billed_ms >= 1


def test_transitions_are_the_states_entered() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered"},
        {"type": "TaskStateExited"},
        {"type": "ChoiceStateEntered"},
        {"type": "SucceedStateEntered"},
    ]
    assert state_transitions(history) == 3
