"""The exchange ledger and the 837P outbox listing, in the data bucket.

`S3ExchangeLedger` keeps one small JSON object per record under `exchange-ledger/`, written with
S3's conditional put (`If-None-Match: *`): the first writer wins, a second gets 412 and `False`, so
two runs can never both record the same file as theirs. (The claims table could hold the same
records with `attribute_not_exists(pk)`; the bucket keeps the exchange independent of the table's
owner and is as strongly consistent.) Records carry names, sizes, times and hashes, never contents.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from medbill.prefixes import EXCHANGE_LEDGER_PREFIX, OUTBOX_PREFIXES

# 412: the object exists. 409: another conditional write of the same key is in flight (its
# writer wins; ours is the second).
_LOST = {"PreconditionFailed", "ConditionalRequestConflict"}


class S3ExchangeLedger:
    """`medbill.ports.ExchangeLedger` on S3 conditional writes."""

    def __init__(self, bucket: str, client: Any | None = None, prefix: str = EXCHANGE_LEDGER_PREFIX) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client = client or boto3.client("s3")

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        record = json.loads(body)
        return record if isinstance(record, dict) else {"value": record}

    def put_if_absent(self, key: str, record: dict[str, Any]) -> bool:
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=json.dumps(record, sort_keys=True, default=str).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _LOST:
                return False
            raise
        return True

    def recorded(self, prefix: str) -> set[str]:
        keys: set[str] = set()
        start = len(self.prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.update(obj["Key"][start:].removesuffix(".json") for obj in page.get("Contents", []))
        return keys


class S3Outbox:
    """`medbill.ports.Outbox`: the files under each outbox prefix (`OUTBOX_PREFIXES`: 837Ps, 276s),
    prefix by prefix, in key order within each."""

    def __init__(self, bucket: str, client: Any | None = None, prefixes: Sequence[str] = OUTBOX_PREFIXES) -> None:
        self.bucket = bucket
        self.prefixes = tuple(prefixes)
        self._client = client or boto3.client("s3")

    def waiting(self) -> Sequence[str]:
        out: list[str] = []
        for prefix in self.prefixes:
            keys: list[str] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(obj["Key"] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
            out += sorted(keys)
        return out
