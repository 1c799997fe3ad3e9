"""moto keeps every model object it creates unless infra/local/moto_memory.py stops it: a long local
run then grows without bound (the 1,000-claim fault run: ~1 GB a minute of dead DynamoDB Items)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item

from infra.local.moto_memory import (
    check_moto_compatibility,
    is_tracking,
    resume_instance_tracking,
    stop_instance_tracking,
)
from infra.local.runtime import LocalRuntime


@pytest.fixture
def tracking() -> Iterator[None]:
    """moto as shipped (tracking on), whatever an earlier test installed; left as this module found it."""
    was_tracking = is_tracking()
    resume_instance_tracking()
    yield
    if not was_tracking:
        stop_instance_tracking()


def _update_and_query(times: int) -> None:
    """What a claim's life does to DynamoDB: moto builds a new Item on each update and each query."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="memory",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="memory", Item={"pk": {"S": "CLAIM#1"}, "status": {"S": "SUBMITTED"}})
    for _ in range(times):
        ddb.update_item(
            TableName="memory",
            Key={"pk": {"S": "CLAIM#1"}},
            UpdateExpression="SET attempts = if_not_exists(attempts, :zero) + :one",
            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
        )
        ddb.query(
            TableName="memory", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "CLAIM#1"}}
        )


@pytest.mark.usefixtures("tracking")
def test_moto_as_shipped_keeps_an_item_for_every_read() -> None:
    """The leak this module exists for (if moto stops tracking, the patch can go)."""
    Item.instances_tracked.clear()  # type: ignore[attr-defined]
    with mock_aws():
        _update_and_query(30)
        assert len(Item.instances_tracked) == 1 + 30 * 3  # type: ignore[attr-defined]


@pytest.mark.usefixtures("tracking")
def test_once_stopped_moto_keeps_no_items_and_drops_what_it_kept() -> None:
    with mock_aws():
        _update_and_query(5)
        assert Item.instances_tracked  # type: ignore[attr-defined]
        stop_instance_tracking()
        assert Item.instances_tracked == []  # type: ignore[attr-defined]
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for _ in range(30):
            ddb.update_item(
                TableName="memory",
                Key={"pk": {"S": "CLAIM#1"}},
                UpdateExpression="SET attempts = attempts + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        got = ddb.get_item(TableName="memory", Key={"pk": {"S": "CLAIM#1"}})
        assert got["Item"]["attempts"] == {"N": "35"}  # moto still works
        assert Item.instances_tracked == []  # type: ignore[attr-defined]
    stop_instance_tracking()  # idempotent
    assert not is_tracking()


@pytest.mark.usefixtures("tracking")
def test_the_local_runtime_stops_the_tracking_when_it_starts() -> None:
    assert is_tracking()
    with LocalRuntime(handlers={}, simulator=False, core_endpoint=False):
        assert not is_tracking()


def test_the_patched_moto_still_has_what_the_patch_replaces() -> None:
    check_moto_compatibility()
