"""Eligibility answers kept for a day (`medbill.ports.EligibilityAnswers`):
`ELIGANSWER#<sha256 of payer + member + DOS>` / `DAY#<ISO date>`, the answer as JSON, expiring
(`expires_at`, the table's TTL attribute) two days later."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.table import Table, deserialize, to_item

KEEP_DAYS = 2


class EligibilityTable(Table):
    def cached_eligibility(self, key: str, day: str) -> dict[str, Any] | None:
        item = self._get(keys.eligibility_answer_pk(key), keys.eligibility_day_sk(day))
        if not item:
            return None
        record: dict[str, Any] = json.loads(str(deserialize(item["answer"])))
        return record

    def cache_eligibility(self, key: str, day: str, record: dict[str, Any]) -> None:
        expires = datetime.combine(date.fromisoformat(day) + timedelta(days=KEEP_DAYS), time(), UTC)
        item = {
            "pk": keys.eligibility_answer_pk(key),
            "sk": keys.eligibility_day_sk(day),
            "answer": json.dumps(record, sort_keys=True),
            "expires_at": int(expires.timestamp()),
        }
        self._client.put_item(TableName=self.table_name, Item=to_item(item))
