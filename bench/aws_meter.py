"""Count what a run on the local runtime would be billed for in AWS: by function, by service.

`Meter` wraps every botocore call made in this process (`BaseClient._make_api_call`, as
bench_posting does) and every handler the Lambda bridge runs, and keeps, per *caller* (the Lambda
function whose handler made the call, or a name the bench gives a phase: the SQS event source
mapping's polling, the clearinghouse exchange, the payer simulator):

- Lambda invocations and the handler's measured wall time (`handler_seconds`);
- every AWS request by service and operation;
- DynamoDB request units, computed the way on-demand DynamoDB bills them, from the items' sizes
  (moto's answer to ReturnConsumedCapacity is a constant, so the sizes are read from moto's own
  tables before and after each write): a read unit per 4 KB read strongly consistent (half for
  eventually consistent, twice in a transaction); a write unit per 1 KB of the larger of the old
  and new item (twice in a transaction); and one write to each global secondary index the old or
  new item is in (two when the index key changed: a delete and a put);
- SQS requests as SQS bills them (each 64 KB of a request's payload is one request);
- S3 requests by pricing tier, and the S3 -> SQS event notifications they cause.

The caller is thread-local: moto runs each Step Functions execution in a thread of its own, and a
handler's calls run in the thread that invoked it.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.client
import botocore.exceptions

OUTSIDE = "(outside any handler)"  # the bench's own calls: listing executions, idle checks, setup
SQS_CHUNK_BYTES = 64 * 1024
S3_TIER1 = frozenset(
    {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload", "UploadPart",
     "CompleteMultipartUpload", "PostObject"}
)  # fmt: skip
S3_TIER2 = frozenset({"GetObject", "HeadObject", "SelectObjectContent"})
DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


_Write = tuple[str, str, dict[str, Any], dict[str, Any] | None]  # kind, table, key, item put


@dataclass
class Usage:
    """What one caller used."""

    invocations: int = 0
    handler_seconds: float = 0.0
    billed_ms: int = 0  # sum of each invocation's duration rounded up to 1 ms, as Lambda bills
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation) -> calls
    read_units: float = 0.0
    write_units: float = 0.0
    sqs_requests: int = 0  # billed SQS requests (64 KB chunks)
    s3_tier1: int = 0
    s3_tier2: int = 0
    s3_notifications: int = 0  # SQS messages S3 sends for objects this caller put
    # (service, operation, what: a DynamoDB partition-key prefix or index, an S3 key prefix) -> calls:
    # the resources a caller reaches, for checking its IAM list (infra/constructs/permissions.py)
    touched: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def add(self, other: Usage) -> None:
        self.invocations += other.invocations
        self.handler_seconds += other.handler_seconds
        self.billed_ms += other.billed_ms
        self.requests.update(other.requests)
        self.read_units += other.read_units
        self.write_units += other.write_units
        self.sqs_requests += other.sqs_requests
        self.s3_tier1 += other.s3_tier1
        self.s3_tier2 += other.s3_tier2
        self.s3_notifications += other.s3_notifications
        self.touched.update(other.touched)

    def copy(self) -> Usage:
        out = Usage()
        out.add(self)
        return out

    def minus(self, earlier: Usage) -> Usage:
        out = self.copy()
        out.invocations -= earlier.invocations
        out.handler_seconds -= earlier.handler_seconds
        out.billed_ms -= earlier.billed_ms
        out.requests.subtract(earlier.requests)
        out.requests = +out.requests
        out.read_units -= earlier.read_units
        out.write_units -= earlier.write_units
        out.sqs_requests -= earlier.sqs_requests
        out.s3_tier1 -= earlier.s3_tier1
        out.s3_tier2 -= earlier.s3_tier2
        out.s3_notifications -= earlier.s3_notifications
        out.touched.subtract(earlier.touched)
        out.touched = +out.touched
        return out


# --- DynamoDB sizes, from moto's tables ----------------------------------------------------------
def item_size(item: Mapping[str, Any] | None) -> int:
    """An item's size in bytes from its wire form ({"attr": {"S": ...}}), by moto's rules (attribute
    names plus values; numbers by their digits), which follow DynamoDB's."""
    if not item:
        return 0
    from moto.dynamodb.models.dynamo_type import DynamoType, bytesize

    return sum(bytesize(name) + DynamoType(value).size() for name, value in item.items())


class DynamoTables:
    """Reads items straight from moto's in-process backend (no API call, nothing counted)."""

    def __init__(self, account_id: str, region: str) -> None:
        from moto.dynamodb.models import dynamodb_backends

        self.backend = dynamodb_backends[account_id][region]

    def item(self, table_name: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            found = self.backend.get_item(table_name, dict(key))
        except Exception:  # unknown table or malformed key: moto answers the call itself
            return None
        return None if found is None else dict(found.to_json()["Attributes"])

    def key_of(self, table_name: str, item: Mapping[str, Any]) -> dict[str, Any]:
        table = self.backend.get_table(table_name)
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return {n: item[n] for n in names if n in item}

    def index_keys(self, table_name: str) -> list[list[str]]:
        table = self.backend.get_table(table_name)
        return [[k["AttributeName"] for k in gsi.schema] for gsi in (table.global_indexes or [])]


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def write_units(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, transactional: bool) -> float:
    units = max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))
    return 2.0 * units if transactional else float(units)


def index_write_units(
    index_keys: list[list[str]], old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> float:
    """Writes to global secondary indexes (projection ALL, as both the stack and local use)."""
    units = 0.0
    for names in index_keys:
        in_old = old is not None and all(n in old for n in names)
        in_new = new is not None and all(n in new for n in names)
        if in_old and in_new and all(old[n] == new[n] for n in names):  # type: ignore[index]
            units += max(1, math.ceil(item_size(new) / 1024))
        else:
            if in_old:
                units += max(1, math.ceil(item_size(old) / 1024))
            if in_new:
                units += max(1, math.ceil(item_size(new) / 1024))
    return units


# --- the meter --------------------------------------------------------------------------------------
class Meter:
    """See the module docstring. `notifications`: S3 prefix -> True when it notifies a queue."""

    def __init__(self, *, account_id: str, region: str, notified_prefixes: tuple[str, ...] = ()) -> None:
        self.account_id = account_id
        self.region = region
        self.notified_prefixes = notified_prefixes
        self.usage: dict[str, Usage] = defaultdict(Usage)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._tables: DynamoTables | None = None

    # callers
    @property
    def caller(self) -> str:
        return getattr(self._local, "caller", OUTSIDE)

    @contextlib.contextmanager
    def calling_as(self, caller: str) -> Iterator[None]:
        previous = self.caller
        self._local.caller = caller
        try:
            yield
        finally:
            self._local.caller = previous

    def wrap_handler(self, function: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """The handler, counted as one invocation of `function` with its measured duration."""

        def metered(event: Any, context: Any) -> Any:
            with self.calling_as(function):
                start = time.perf_counter()
                try:
                    return handler(event, context)
                finally:
                    elapsed = time.perf_counter() - start
                    with self._lock:
                        usage = self.usage[function]
                        usage.invocations += 1
                        usage.handler_seconds += elapsed
                        usage.billed_ms += max(1, math.ceil(elapsed * 1000))

        return metered

    def wrap_phase(self, caller: str, fn: Callable[..., Any], *, timed: bool = False) -> Callable[..., Any]:
        """`fn`'s calls counted as `caller`'s; `timed`: its time too (billed duration, no invocation:
        a scheduled function's runs are not per claim)."""

        def phased(*args: Any, **kwargs: Any) -> Any:
            with self.calling_as(caller):
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    if timed:
                        elapsed = time.perf_counter() - start
                        with self._lock:
                            self.usage[caller].handler_seconds += elapsed
                            self.usage[caller].billed_ms += math.ceil(elapsed * 1000)

        return phased

    def snapshot(self) -> dict[str, Usage]:
        with self._lock:
            return {name: usage.copy() for name, usage in self.usage.items()}

    # the botocore hook
    @contextlib.contextmanager
    def installed(self) -> Iterator[Meter]:
        original = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009 (private, untyped)
        meter = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            before = meter._before(service, operation_name, api_params)
            try:
                response = original(client, operation_name, api_params)
            except botocore.exceptions.ClientError:
                # A refused request is billed too (a failed conditional write costs its write units).
                meter._after(service, operation_name, api_params, {}, before, failed=True)
                raise
            meter._after(service, operation_name, api_params, response, before)
            return response

        setattr(botocore.client.BaseClient, "_make_api_call", _make_api_call)  # noqa: B010
        try:
            yield self
        finally:
            setattr(botocore.client.BaseClient, "_make_api_call", original)  # noqa: B010

    @property
    def tables(self) -> DynamoTables:
        if self._tables is None:
            self._tables = DynamoTables(self.account_id, self.region)
        return self._tables

    def _writes(self, operation: str, params: Mapping[str, Any]) -> list[_Write]:
        """(kind, table, key, item put or None) for every item a write request touches."""
        if operation == "PutItem":
            table = params["TableName"]
            return [("Put", table, self.tables.key_of(table, params["Item"]), params["Item"])]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(operation[:6], params["TableName"], params["Key"], None)]
        out: list[_Write] = []
        if operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                ((kind, op),) = entry.items()
                if kind == "Put":
                    out.append(("Put", op["TableName"], self.tables.key_of(op["TableName"], op["Item"]), op["Item"]))
                else:  # Update, Delete, ConditionCheck
                    out.append((kind, op["TableName"], op["Key"], None))
        if operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        out.append(("Put", table, self.tables.key_of(table, item), item))
                    else:
                        out.append(("Delete", table, request["DeleteRequest"]["Key"], None))
        return out

    def _before(self, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        if service != "dynamodb" or operation not in DYNAMODB_WRITES:
            return None
        with contextlib.suppress(Exception):
            return [(w, self.tables.item(w[1], w[2])) for w in self._writes(operation, params)]
        return None

    def _after(
        self, service: str, operation: str, params: Mapping[str, Any], response: Any, before: Any, failed: bool = False
    ) -> None:
        usage = Usage()
        usage.requests[(service, operation)] += 1
        for what in _touched(service, operation, params, before):
            usage.touched[(service, operation, what)] += 1
        if service == "dynamodb":
            self._dynamodb(usage, operation, params, response, before, failed)
        elif service == "sqs":
            usage.sqs_requests += _sqs_requests(operation, params)
        elif service == "s3":
            if operation in S3_TIER1:
                usage.s3_tier1 += 1
            elif operation in S3_TIER2:
                usage.s3_tier2 += 1
            if operation in ("PutObject", "CopyObject", "CompleteMultipartUpload") and str(
                params.get("Key", "")
            ).startswith(self.notified_prefixes):
                usage.s3_notifications += 1
        with self._lock:
            self.usage[self.caller].add(usage)

    def _dynamodb(
        self, usage: Usage, operation: str, params: Mapping[str, Any], response: Any, before: Any, failed: bool
    ) -> None:
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            usage.read_units += read_units(item_size(response.get("Item")), consistent=consistent)
        elif operation in ("Query", "Scan"):
            # Units for the items read (sizes summed, then rounded up once): the items returned.
            # A projection or a filter makes this an under-count; our queries use neither on the
            # paths measured here.
            size = sum(item_size(i) for i in response.get("Items", []))
            usage.read_units += read_units(size, consistent=consistent)
        elif operation == "BatchGetItem":
            for items in response.get("Responses", {}).values():
                for item in items:
                    usage.read_units += read_units(item_size(item), consistent=consistent)
        elif operation == "TransactGetItems":
            for item in response.get("Responses", []):
                usage.read_units += read_units(item_size(item.get("Item")), consistent=True, transactional=True)
        elif operation in DYNAMODB_WRITES and before is not None:
            transactional = operation == "TransactWriteItems"
            for (kind, table, key, put), old in before:
                if failed:  # nothing written: the units of the item as it is
                    usage.write_units += write_units(old, old, transactional=transactional)
                    continue
                new = None if kind == "Delete" else put if put is not None else self.tables.item(table, key)
                usage.write_units += write_units(old, new, transactional=transactional)
                if kind != "ConditionCheck" and (old is not None or new is not None):
                    usage.write_units += index_write_units(self.tables.index_keys(table), old, new)


def _prefix(value: Any, separator: str) -> str:
    text = str(value)
    return text.split(separator, 1)[0] + separator if separator in text else text


def _touched(service: str, operation: str, params: Mapping[str, Any], before: Any) -> list[str]:
    """Which partitions (by key prefix), indexes or S3 prefixes a request names."""
    if service == "s3":
        key = params.get("Key", params.get("Prefix", ""))
        return [str(key).rsplit("/", 1)[0] + "/" if "/" in str(key) else str(key)]
    if service != "dynamodb":
        return []
    if before:
        return [_prefix(next(iter(key.get("pk", {"S": "?"}).values())), "#") for (_, _, key, _), _ in before]
    if "IndexName" in params:
        return [f"index {params['IndexName']}"]
    if "Key" in params:
        return [_prefix(next(iter(params["Key"].get("pk", {"S": "?"}).values())), "#")]
    values = params.get("ExpressionAttributeValues", {})
    return [_prefix(next(iter(v.values())), "#") for k, v in values.items() if "pk" in k][:1] or ["?"]


def _sqs_requests(operation: str, params: Mapping[str, Any]) -> int:
    """SQS bills each 64 KB chunk of a request's payload as one request."""
    if operation == "SendMessage":
        return max(1, math.ceil(len(str(params.get("MessageBody", "")).encode()) / SQS_CHUNK_BYTES))
    if operation == "SendMessageBatch":
        size = sum(len(str(e.get("MessageBody", "")).encode()) for e in params.get("Entries", []))
        return max(1, math.ceil(size / SQS_CHUNK_BYTES))
    return 1


def state_transitions(history: list[dict[str, Any]]) -> int:
    """Standard workflows bill every state entered (retries included): one per *StateEntered event."""
    return sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))


def as_json(usage: Mapping[str, Usage]) -> str:
    """For debugging a run: the usage by caller."""
    return json.dumps(
        {
            name: {**{k: v for k, v in u.__dict__.items() if k not in ("requests", "touched")},
                   "requests": {f"{s}:{o}": n for (s, o), n in u.requests.items()},
                   "touched": sorted(f"{s}:{o} {w}" for (s, o, w) in u.touched)}
            for name, u in usage.items()
        },
        indent=1,
    )  # fmt: skip
