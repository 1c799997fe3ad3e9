"""Make moto's base-table DynamoDB Query read the queried partition, not the whole table.

moto 5.2.5's `Table.query` on the base table builds its candidates from `self.all_items()`, which
walks every item of the table and sorts them all, and then keeps those with the queried hash key.
Every read of a claim, its events or an ERA's postings is such a query, so a local run pays a sort of
the whole claims table per read: the 1,000-claim fault run spent its posting phase there
(docs/reliability.md).

`partition_queries()` wraps `Table.query`: for a base-table query (no index) on a table with a range
key, `all_items()` answers, for that call and in that thread only, with the queried partition; moto's
own code then filters, sorts, pages, filters and projects exactly as before. Index queries, scans
and every other thread see moto's `all_items` unchanged. Process-wide, idempotent, stays installed.
`check_moto_compatibility()` fails loudly if an upgrade moves what this wraps.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PATCH_TARGET = "moto.dynamodb.models.table.Table.query"
# query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
#       projection_expressions, index_name, ...): moto's backend passes index_name positionally, as
# the 7th argument after hash_key
INDEX_NAME_POSITION = 7
EXPECTED_LEADING_PARAMETERS = (
    "self",
    "hash_key",
    "range_comparison",
    "range_objs",
    "limit",
    "exclusive_start_key",
    "scan_index_forward",
    "projection_expressions",
    "index_name",
)

_LOCK = threading.Lock()
_PARTITION = threading.local()  # .by_table: {id(table): hash key} while this thread's query runs
_ORIGINAL: dict[str, Callable[..., Any]] = {}


class MotoQueryError(RuntimeError):
    """moto's Query changed shape (an upgrade): this module needs updating."""


def _table_class() -> type:
    try:
        from moto.dynamodb.models.table import Table
    except ImportError as exc:  # pragma: no cover - only on an incompatible moto
        raise MotoQueryError(f"moto no longer has {PATCH_TARGET}: {exc}") from exc
    return Table


def check_moto_compatibility() -> None:
    table = _table_class()
    query = _ORIGINAL.get("query", table.__dict__.get("query"))
    all_items = _ORIGINAL.get("all_items", table.__dict__.get("all_items"))
    if query is None or all_items is None:
        raise MotoQueryError(f"{PATCH_TARGET} or Table.all_items is gone: infra/local/moto_query.py needs updating")
    params = tuple(inspect.signature(query).parameters)[: len(EXPECTED_LEADING_PARAMETERS)]
    if params != EXPECTED_LEADING_PARAMETERS:
        raise MotoQueryError(f"{PATCH_TARGET} signature changed: {params} != {EXPECTED_LEADING_PARAMETERS}")
    if "self.all_items()" not in inspect.getsource(query):
        raise MotoQueryError(f"{PATCH_TARGET} no longer reads its candidates from all_items()")


@contextmanager
def partition_only(table: Any, hash_key: Any) -> Iterator[None]:
    """While active, in this thread only, `table.all_items()` is the partition of `hash_key`."""
    by_table = getattr(_PARTITION, "by_table", None)
    if by_table is None:
        by_table = _PARTITION.by_table = {}
    by_table[id(table)] = hash_key
    try:
        yield
    finally:
        by_table.pop(id(table), None)


def _all_items(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def all_items(self: Any) -> Any:
        by_table = getattr(_PARTITION, "by_table", None)
        if not by_table or id(self) not in by_table:
            return original(self)
        partition = self.items.get(by_table[id(self)])
        return list(partition.values()) if partition else []  # query sorts by range key itself

    return all_items


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[INDEX_NAME_POSITION - 1] if len(args) >= INDEX_NAME_POSITION else kwargs.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        with partition_only(self, hash_key):
            return original(self, hash_key, *args, **kwargs)

    query.__medbill_partition__ = True  # type: ignore[attr-defined]
    return query


def is_partitioned() -> bool:
    return bool(getattr(_table_class().__dict__.get("query"), "__medbill_partition__", False))


def partition_queries() -> None:
    """Idempotent: install the partition-reading Query on moto's Table."""
    check_moto_compatibility()
    table = _table_class()
    with _LOCK:
        if is_partitioned():
            return
        # Bound here, not looked up per call, so installing again over another wrapper never loops.
        current_query = table.__dict__["query"]
        current_all_items = table.__dict__["all_items"]
        _ORIGINAL.setdefault("query", current_query)
        _ORIGINAL.setdefault("all_items", current_all_items)
        table.all_items = _all_items(current_all_items)  # type: ignore[attr-defined]
        table.query = _query(current_query)  # type: ignore[attr-defined]


def whole_table_queries() -> None:
    """moto's own Query back (tests)."""
    table = _table_class()
    with _LOCK:
        if "query" in _ORIGINAL:
            table.query = _ORIGINAL.pop("query")  # type: ignore[attr-defined]
        if "all_items" in _ORIGINAL:
            table.all_items = _ORIGINAL.pop("all_items")  # type: ignore[attr-defined]
