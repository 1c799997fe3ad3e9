"""Generic DynamoDB helpers for the single table: serialization, conditional writes, transactions,
pagination and page tokens. Knows no claim or ERA: `claims.py` and `eras.py` build on it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from medbill.ports import BadPageToken

_ser = TypeSerializer()
_de = TypeDeserializer()
_NOT_OUR_TOKEN = "next_token is not a token this API issued"  # noqa: S105 - a message, not a secret


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def serialize(value: Any) -> Any:
    return _ser.serialize(value)


def deserialize(value: Any) -> Any:
    return _de.deserialize(value)


def plain(value: Any) -> Any:
    """DynamoDB returns Decimal for every number; turn whole numbers back into int for pydantic."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as plain data for the domain: no table keys."""
    return {k: v for k, v in plain(item).items() if k not in ("pk", "sk")}


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class TransactionCancelled(Exception):
    """A transaction a condition (or a concurrent transaction) cancelled; `codes` per item, in order."""

    def __init__(self, codes: list[str], error: ClientError) -> None:
        super().__init__(f"transaction cancelled: {codes}")
        self.codes = codes
        self.error = error

    @property
    def failed(self) -> list[int]:
        """The items whose condition failed."""
        return [i for i, code in enumerate(self.codes) if code == "ConditionalCheckFailed"]

    @property
    def conflict(self) -> bool:
        return "TransactionConflict" in self.codes


def cancellation_codes(err: ClientError) -> list[str]:
    if _error_code(err) != "TransactionCanceledException":
        return []
    reasons = err.response.get("CancellationReasons")
    if reasons:
        return [r.get("Code", "None") for r in reasons]
    # Some emulators only put the reasons in the message: "... [ConditionalCheckFailed, None]".
    message = err.response.get("Error", {}).get("Message", "")
    if "[" in message:
        return [c.strip() for c in message[message.rindex("[") + 1 : message.rindex("]")].split(",")]
    return []


def encode_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_token(token: str, key_attrs: tuple[str, ...]) -> dict[str, Any]:
    """The start key a token carries; it must hold exactly the keys of the index being read."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as err:
        raise BadPageToken(_NOT_OUR_TOKEN) from err
    if (
        not isinstance(key, dict)
        or set(key) != set(key_attrs)
        or not all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values())
    ):
        raise BadPageToken(_NOT_OUR_TOKEN)
    return key


class Table:
    """One DynamoDB table through a low-level client (the client is replaceable in tests)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client: Any = client or boto3.client("dynamodb")

    # --- writes ------------------------------------------------------------------------------
    def _conditional(self, operation: str, **kwargs: Any) -> bool:
        """put_item / update_item / delete_item with a ConditionExpression. The one place a failed
        condition becomes False (every other error propagates)."""
        try:
            getattr(self._client, operation)(TableName=self.table_name, **kwargs)
        except ClientError as err:
            if _error_code(err) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        """A standalone conditional put. False if an item with this key is there."""
        return self._conditional("put_item", Item=to_item(item), ConditionExpression="attribute_not_exists(sk)")

    def _put(self, item: dict[str, Any]) -> None:
        self._client.put_item(TableName=self.table_name, Item=to_item(item))

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """Items (`{"Put" | "Delete" | "Update": {...}}`, table name added) all or nothing.
        TransactionCancelled when a condition failed or another transaction got in the way."""
        try:
            self._client.transact_write_items(TransactItems=[self._with_table(i) for i in items])
        except ClientError as err:
            codes = cancellation_codes(err)
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                raise TransactionCancelled(codes, err) from err
            raise

    def _transact_if(self, items: list[dict[str, Any]]) -> bool:
        """A transaction whose failed condition means "not written" (False)."""
        try:
            self._transact(items)
        except TransactionCancelled as cancelled:
            if cancelled.failed:
                return False
            raise cancelled.error from None
        return True

    def _with_table(self, item: dict[str, Any]) -> dict[str, Any]:
        ((op, body),) = item.items()
        return {op: {"TableName": self.table_name, **body}}

    # --- reads -------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str, *, consistent: bool = True, **kwargs: Any) -> dict[str, Any] | None:
        resp = self._client.get_item(
            TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent, **kwargs
        )
        return resp.get("Item")

    def _pages(self, call: Callable[..., Any], kwargs: dict[str, Any], **extra: Any) -> Iterator[dict[str, Any]]:
        """Every page of a query or scan: the one pagination loop. A start key DynamoDB refuses
        (a forged or stale page token) is the caller's error: BadPageToken."""
        kwargs = {"TableName": self.table_name, **kwargs}
        while True:
            try:
                resp = call(**kwargs, **extra)
            except ClientError as err:
                if "ExclusiveStartKey" in kwargs and _error_code(err) == "ValidationException":
                    raise BadPageToken(_NOT_OUR_TOKEN) from None
                raise
            yield resp
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _query_range(self, pk: str, lo: str, hi: str, *, consistent: bool = False) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": to_item({":pk": pk, ":lo": lo, ":hi": hi}),
        }
        if consistent:
            kwargs["ConsistentRead"] = True
        for resp in self._pages(self._client.query, kwargs):
            for item in resp.get("Items", []):
                yield from_item(item)

    def _query_prefix(self, pk: str, sk_prefix: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":p": sk_prefix}),
        }
        for resp in self._pages(self._client.query, kwargs):
            for item in resp.get("Items", []):
                yield from_item(item)

    def items_under(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        """Raw items of one partition under a sort key prefix (adapter tests and diagnostics)."""
        return [plain(i) for i in self._query_prefix(pk, prefix)]

    def _page(self, kwargs: dict[str, Any], next_token: str | None, key_attrs: tuple[str, ...]) -> Any:
        """One page of a query, from where `next_token` left off; the token for the next page."""
        if next_token:
            kwargs["ExclusiveStartKey"] = decode_token(next_token, key_attrs)
        resp = next(self._pages(self._client.query, kwargs))
        token = encode_token(resp["LastEvaluatedKey"]) if "LastEvaluatedKey" in resp else None
        return resp.get("Items", []), token
