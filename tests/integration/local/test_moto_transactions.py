"""infra/local/moto_transactions.py: moto's TransactWriteItems without a copy of the whole table, with
the same outcomes as moto's own (all or nothing, the same errors)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from infra.local.moto_transactions import check_moto_compatibility, fast_transactions, is_fast, slow_transactions
from infra.local.runtime import LocalRuntime

TABLE = "claims"
REGION = "us-east-1"


@pytest.fixture
def moto_own() -> Iterator[None]:
    """moto's own transactions, whatever an earlier test installed; left as this module found it."""
    was_fast = is_fast()
    slow_transactions()
    yield
    if was_fast:
        fast_transactions()


def _table() -> Any:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "CLAIM#1"}, "sk": {"S": "CLAIM"}, "version": {"N": "1"}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "CLAIM#2"}, "sk": {"S": "CLAIM"}, "version": {"N": "7"}})
    return ddb


def _put(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": sk}, **extra}}}


def _bump(pk: str, expected_version: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": pk}, "sk": {"S": "CLAIM"}},
            "UpdateExpression": "SET version = version + :one",
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"N": expected_version}},
        }
    }


SCENARIOS = {
    # a claim, its event and a new partition, all written
    "committed": [_bump("CLAIM#1", "1"), _put("CLAIM#1", "EVENT#1"), _put("CLAIM#3", "CLAIM", version={"N": "1"})],
    # two writes done, then the third's condition fails: nothing stays
    "cancelled_after_writes": [_put("CLAIM#3", "CLAIM"), _bump("CLAIM#1", "1"), _bump("CLAIM#2", "1")],
    # the same item twice: refused (moto raises before or after writing the first)
    "same_item_twice": [_bump("CLAIM#1", "1"), _put("CLAIM#1", "CLAIM", version={"N": "9"})],
    # a delete, then a failed condition check: the deleted item comes back
    "delete_then_failed_check": [
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "CLAIM#2"}, "sk": {"S": "CLAIM"}}}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": {"pk": {"S": "CLAIM#1"}, "sk": {"S": "CLAIM"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ],
}


def _outcome(items: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """(error code and reasons, or "ok"; every item after) for one transaction on a fresh table."""
    with mock_aws():
        ddb = _table()
        try:
            ddb.transact_write_items(TransactItems=items)
            result: Any = "ok"
        except ClientError as err:
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            result = (err.response["Error"]["Code"], reasons)
        rows = ddb.scan(TableName=TABLE)["Items"]
        return result, sorted(rows, key=lambda r: (r["pk"]["S"], r["sk"]["S"]))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_same_outcome_as_moto_own_transactions(name: str, moto_own: None) -> None:
    own = _outcome(SCENARIOS[name])
    fast_transactions()
    assert is_fast()
    assert _outcome(SCENARIOS[name]) == own


def test_the_outcomes_are_what_dynamodb_does(moto_own: None) -> None:
    fast_transactions()
    result, rows = _outcome(SCENARIOS["committed"])
    assert result == "ok"
    assert [(r["pk"]["S"], r["sk"]["S"], r.get("version", {}).get("N")) for r in rows] == [
        ("CLAIM#1", "CLAIM", "2"),
        ("CLAIM#1", "EVENT#1", None),
        ("CLAIM#2", "CLAIM", "7"),
        ("CLAIM#3", "CLAIM", "1"),
    ]
    result, rows = _outcome(SCENARIOS["cancelled_after_writes"])
    assert result == ("TransactionCanceledException", ["None", "None", "ConditionalCheckFailed"])
    assert [(r["pk"]["S"], r["version"]["N"]) for r in rows] == [("CLAIM#1", "1"), ("CLAIM#2", "7")]


def test_a_cancelled_transaction_keeps_the_table_instead_of_a_copy(moto_own: None) -> None:
    """moto's own puts a deep copy of the whole table in its place (the cost this module removes)."""
    with mock_aws():
        _table()
        backend = dynamodb_backends["123456789012"][REGION]
        before = backend.tables[TABLE]
        with pytest.raises(ClientError):
            boto3.client("dynamodb", region_name=REGION).transact_write_items(
                TransactItems=SCENARIOS["cancelled_after_writes"]
            )
        assert backend.tables[TABLE] is not before  # moto's own: swapped for the copy
        fast_transactions()
        before = backend.tables[TABLE]
        with pytest.raises(ClientError):
            boto3.client("dynamodb", region_name=REGION).transact_write_items(
                TransactItems=SCENARIOS["cancelled_after_writes"]
            )
        assert backend.tables[TABLE] is before


def test_the_local_runtime_installs_it(moto_own: None) -> None:
    assert not is_fast()
    with LocalRuntime(handlers={}, simulator=False, core_endpoint=False):
        assert is_fast()


def test_the_wrapped_moto_still_has_what_the_wrapper_needs() -> None:
    check_moto_compatibility()


def test_installing_again_over_another_wrapper_makes_no_loop(moto_own: None) -> None:
    """bench_posting's costs context runs inside and around local runtimes: each start installs it again."""
    from moto.dynamodb.models import DynamoDBBackend

    fast_transactions()
    ours = DynamoDBBackend.__dict__["transact_write_items"]
    calls: list[int] = []

    def counting(self: Any, transact_items: list[dict[str, Any]]) -> None:
        calls.append(len(transact_items))
        ours(self, transact_items)

    DynamoDBBackend.transact_write_items = counting  # type: ignore[method-assign]
    fast_transactions()
    assert is_fast()
    result, rows = _outcome(SCENARIOS["cancelled_after_writes"])
    assert result == ("TransactionCanceledException", ["None", "None", "ConditionalCheckFailed"])
    assert [(r["pk"]["S"], r["version"]["N"]) for r in rows] == [("CLAIM#1", "1"), ("CLAIM#2", "7")]
    assert calls == [3]
