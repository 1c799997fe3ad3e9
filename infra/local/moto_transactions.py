"""Make moto's DynamoDB TransactWriteItems cost the items it writes, not the whole table.

moto 5.2.5 backs up every table a transaction names with `copy.deepcopy(table)` before it starts, so
it can put the copy back if the transaction is cancelled. Each claim creation, status change and
posting is a transaction, so a local run pays a copy of the whole claims table per write: quadratic
in the claims. The 1,000-claim fault-injection run spent its main thread in that copy and had
ingested 387 of its 1,000 records after 80 minutes (docs/reliability.md).

`fast_transactions()` wraps `DynamoDBBackend.transact_write_items`: the wrapper copies only the items
the transaction names (one deep copy each) and, while moto's own code runs, lets moto's table backup
be the table itself; if the transaction fails for any reason, the wrapper puts each named item back
as it was (or removes it if it did not exist). The outcome is the same as moto's (all or nothing;
the same exceptions), and the table object is never swapped for a copy. Process-wide, idempotent,
stays installed. `check_moto_compatibility()` fails loudly if an upgrade moves what this wraps.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

PATCH_TARGET = "moto.dynamodb.models.DynamoDBBackend.transact_write_items"
EXPECTED_PARAMETERS = ("self", "transact_items")

_LOCK = threading.Lock()
_IN_TRANSACTION = threading.local()
_ORIGINAL: dict[str, Callable[..., Any]] = {}


class MotoTransactionsError(RuntimeError):
    """moto's transactions changed shape (an upgrade): this module needs updating."""


def _models() -> ModuleType:
    try:
        from moto.dynamodb import models
    except ImportError as exc:  # pragma: no cover - only on an incompatible moto
        raise MotoTransactionsError(f"moto no longer has {PATCH_TARGET}: {exc}") from exc
    return models


def check_moto_compatibility() -> None:
    models = _models()
    method = models.DynamoDBBackend.__dict__.get("transact_write_items")
    if method is None:
        raise MotoTransactionsError(f"{PATCH_TARGET} is gone: infra/local/moto_transactions.py needs updating")
    method = _ORIGINAL.get("transact_write_items", method)
    params = tuple(inspect.signature(method).parameters)
    if params != EXPECTED_PARAMETERS:
        raise MotoTransactionsError(f"{PATCH_TARGET} signature changed: {params} != {EXPECTED_PARAMETERS}")
    if getattr(models, "copy", None) is None or not hasattr(models.copy, "deepcopy"):
        raise MotoTransactionsError("moto.dynamodb.models no longer backs up tables with copy.deepcopy")
    if "copy.deepcopy" not in inspect.getsource(method):
        raise MotoTransactionsError(f"{PATCH_TARGET} no longer backs up tables with copy.deepcopy")


class _TableKeepingCopy:
    """Stands in for the `copy` module inside moto.dynamodb.models: inside a wrapped transaction a
    Table's "backup" is the table itself (the wrapper keeps the items instead); everything else is
    the real copy."""

    def __init__(self, table_class: type) -> None:
        self._table_class = table_class

    def deepcopy(self, x: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_IN_TRANSACTION, "active", False) and isinstance(x, self._table_class):
            return x
        return copy.deepcopy(x, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


_Key = tuple[Any, Any]  # (hash DynamoType, range DynamoType or None)


def _named_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, _Key, Any]]:
    """(table, key, deep copy of the item or None) for each item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    named = []
    for entry in transact_items:
        for _op_type, op in entry.items():
            table: Any = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue  # moto refuses it before writing anything for it
            attrs = op.get("Key") or op.get("Item")
            if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
                continue
            hash_value = DynamoType(attrs[table.hash_key_attr])
            range_value = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attrs:
                    continue
                range_value = DynamoType(attrs[table.range_key_attr])
            current = table.get_item(hash_value, range_value)
            named.append((table, (hash_value, range_value), copy.deepcopy(current)))
    return named


def _put_back(named: list[tuple[Any, _Key, Any]]) -> None:
    for table, (hash_value, range_value), item in reversed(named):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        if item is None:
            partition = table.items.get(hash_value)
            if partition is not None:
                partition.pop(range_value, None)
                if not partition:
                    del table.items[hash_value]
        else:
            table.items[hash_value][range_value] = item


def _transact_keeping_tables(original: Callable[..., Any], backend: Any, transact_items: list[dict[str, Any]]) -> None:
    named = _named_items(backend, transact_items)
    _IN_TRANSACTION.active = True
    try:
        original(backend, transact_items)
    except BaseException:
        _put_back(named)
        raise
    finally:
        _IN_TRANSACTION.active = False


def is_fast() -> bool:
    method = _models().DynamoDBBackend.__dict__.get("transact_write_items")
    return bool(getattr(method, "__medbill_fast__", False))


def fast_transactions() -> None:
    """Idempotent: install the wrapper and the table-keeping `copy` in moto.dynamodb.models."""
    check_moto_compatibility()
    models = _models()
    with _LOCK:
        if is_fast():
            return
        from moto.dynamodb.models.table import Table

        # Bound here, not looked up per call: whatever was installed (moto's, or a wrapper someone put
        # over ours since) is what this wrapper calls, so installing again never makes a loop.
        current = models.DynamoDBBackend.__dict__["transact_write_items"]
        _ORIGINAL.setdefault("transact_write_items", current)
        if not isinstance(models.copy, _TableKeepingCopy):
            models.copy = _TableKeepingCopy(Table)  # type: ignore[attr-defined]

        @functools.wraps(current)
        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            _transact_keeping_tables(current, self, transact_items)

        transact_write_items.__medbill_fast__ = True  # type: ignore[attr-defined]
        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def slow_transactions() -> None:
    """moto's own transactions back (tests)."""
    models = _models()
    with _LOCK:
        if "transact_write_items" in _ORIGINAL:
            models.DynamoDBBackend.transact_write_items = _ORIGINAL.pop("transact_write_items")  # type: ignore[method-assign]
