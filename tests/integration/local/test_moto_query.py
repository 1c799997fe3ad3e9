"""infra/local/moto_query.py: moto's base-table Query reads the queried partition, with the same
results, pages and errors as moto's own; index queries, scans and other threads are untouched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from infra.local.moto_query import (
    check_moto_compatibility,
    is_partitioned,
    partition_only,
    partition_queries,
    whole_table_queries,
)
from infra.local.runtime import LocalRuntime

TABLE = "claims"
REGION = "us-east-1"


@pytest.fixture
def moto_own() -> Iterator[None]:
    """moto's own Query, whatever an earlier test installed; left as this module found it."""
    was_partitioned = is_partitioned()
    whole_table_queries()
    yield
    if was_partitioned:
        partition_queries()


def _table() -> Any:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    # written out of order, so the answers' order comes from the query's sort, not from insertion
    for claim in ("CLAIM#2", "CLAIM#10", "CLAIM#1"):
        for sk in ("EVENT#0003", "CLAIM", "EVENT#0001", "POSTING#A", "EVENT#0002"):
            item = {"pk": {"S": claim}, "sk": {"S": sk}, "cents": {"N": str(len(claim) * 100 + len(sk))}}
            if sk == "CLAIM":
                item["status"] = {"S": "SUBMITTED" if claim != "CLAIM#2" else "PAID"}
            ddb.put_item(TableName=TABLE, Item=item)
    return ddb


QUERIES: dict[str, dict[str, Any]] = {
    "partition": {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "CLAIM#1"}}},
    "begins_with": {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {":pk": {"S": "CLAIM#10"}, ":p": {"S": "EVENT#"}},
    },
    "between_newest_first": {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":pk": {"S": "CLAIM#2"}, ":a": {"S": "EVENT#0002"}, ":b": {"S": "POSTING#Z"}},
        "ScanIndexForward": False,
    },
    "filtered_and_projected": {
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "cents > :c",
        "ProjectionExpression": "sk",
        "ExpressionAttributeValues": {":pk": {"S": "CLAIM#1"}, ":c": {"N": "709"}},
    },
    "no_such_partition": {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "CLAIM#9"}}},
    "index": {
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "SUBMITTED"}},
    },
}


def _pages(query: dict[str, Any], limit: int | None) -> list[Any]:
    """Every page (items, counts, next key) of one query on a fresh table, or the error."""
    with mock_aws():
        ddb = _table()
        pages: list[Any] = []
        start: dict[str, Any] | None = None
        while True:
            request = {"TableName": TABLE, **query, **({"Limit": limit} if limit else {})}
            if start:
                request["ExclusiveStartKey"] = start
            try:
                answer = ddb.query(**request)
            except ClientError as err:
                return [("error", err.response["Error"]["Code"])]
            start = answer.get("LastEvaluatedKey")
            pages.append((answer["Items"], answer["Count"], answer["ScannedCount"], start))
            if not start:
                return pages


@pytest.mark.parametrize("limit", [None, 2])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_same_answers_as_moto_own_query(name: str, limit: int | None, moto_own: None) -> None:
    own = _pages(QUERIES[name], limit)
    partition_queries()
    assert is_partitioned()
    assert _pages(QUERIES[name], limit) == own


def test_the_answers_are_what_dynamodb_gives(moto_own: None) -> None:
    partition_queries()
    [(items, count, _scanned, last)] = _pages(QUERIES["between_newest_first"], None)
    assert [i["sk"]["S"] for i in items] == ["POSTING#A", "EVENT#0003", "EVENT#0002"]
    assert (count, last) == (3, None)
    pages = _pages(QUERIES["partition"], 2)
    assert [[i["sk"]["S"] for i in page[0]] for page in pages] == [
        ["CLAIM", "EVENT#0001"],
        ["EVENT#0002", "EVENT#0003"],
        ["POSTING#A"],
    ]
    [(items, *_)] = _pages(QUERIES["filtered_and_projected"], None)
    assert items == [{"sk": {"S": "EVENT#0001"}}, {"sk": {"S": "EVENT#0002"}}, {"sk": {"S": "EVENT#0003"}}]


def _candidates_read(ddb: Any, **request: Any) -> list[int]:
    """How many items `all_items()` handed out (to moto's query or scan) while serving one request."""
    from moto.dynamodb.models.table import Table

    installed = Table.__dict__["all_items"]
    seen: list[int] = []

    def counting(self: Any) -> Any:
        items = installed(self)
        seen.append(len(items))
        return items

    Table.all_items = counting  # type: ignore[method-assign]
    try:
        if "KeyConditionExpression" in request:
            ddb.query(TableName=TABLE, **request)
        else:
            ddb.scan(TableName=TABLE, **request)
    finally:
        Table.all_items = installed  # type: ignore[method-assign]
    return seen


def test_a_partition_query_never_reads_the_rest_of_the_table(moto_own: None) -> None:
    """moto's own sorts every item of the table for each query (the cost this module removes)."""
    with mock_aws():
        ddb = _table()
        own = _candidates_read(ddb, **QUERIES["partition"])
        partition_queries()
        ours = _candidates_read(ddb, **QUERIES["partition"])
        scan = _candidates_read(ddb)
    assert (own, ours, scan) == ([15], [5], [15])


def test_another_thread_sees_the_whole_table_while_a_query_runs(moto_own: None) -> None:
    partition_queries()
    with mock_aws():
        _table()
        table = dynamodb_backends["123456789012"][REGION].tables[TABLE]
        from moto.dynamodb.models.dynamo_type import DynamoType

        elsewhere: list[int] = []
        with partition_only(table, DynamoType({"S": "CLAIM#1"})):
            here = len(table.all_items())
            worker = threading.Thread(target=lambda: elsewhere.append(len(table.all_items())))
            worker.start()
            worker.join()
        after = len(table.all_items())
    assert (here, elsewhere, after) == (5, [15], 15)


def test_the_local_runtime_installs_it(moto_own: None) -> None:
    assert not is_partitioned()
    with LocalRuntime(handlers={}, simulator=False, core_endpoint=False):
        assert is_partitioned()


def test_the_wrapped_moto_still_has_what_the_wrapper_needs() -> None:
    check_moto_compatibility()


def test_installing_again_over_another_wrapper_makes_no_loop(moto_own: None) -> None:
    from moto.dynamodb.models.table import Table

    partition_queries()
    ours = Table.__dict__["query"]
    calls: list[str] = []

    def counting(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.name)
        return ours(self, hash_key, *args, **kwargs)

    Table.query = counting  # type: ignore[method-assign]
    partition_queries()
    assert is_partitioned()
    [(items, *_)] = _pages(QUERIES["begins_with"], None)
    assert [i["sk"]["S"] for i in items] == ["EVENT#0001", "EVENT#0002", "EVENT#0003"]
    assert calls == [TABLE]
