"""Interchanges in the table: which claims each 837P we wrote carried, so a 999 (which names our
GS06 and ST02, never a claim) finds its claims (key layout: keys.py)."""

from __future__ import annotations

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.table import Table, to_item


class InterchangeTable(Table):
    def record_interchange(self, control_number: int, claim_id: str) -> None:
        """Idempotent: the same claim under the same control number is one item."""
        item = {"pk": keys.interchange_pk(control_number), "sk": f"{keys.INTERCHANGE_CLAIM}{claim_id}"}
        self._client.put_item(TableName=self.table_name, Item=to_item({**item, "claim_id": claim_id}))

    def claims_for_interchange(self, control_number: int) -> list[str]:
        items = self._query_prefix(keys.interchange_pk(control_number), keys.INTERCHANGE_CLAIM)
        return sorted(str(item["claim_id"]) for item in items)
