"""The access audit on the single table: who read which claim, ledger or ERA, and when.

  ACCESS#<resource>#<id> / <iso ts>#<request id>#<action>   one read (user id and name, no PHI)

Append-only: a record is put once (a retried request does not double it) and never updated; the
API lists a resource's records newest first (GET /claims/{claim_id}/access-log).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.table import Table, from_item, plain, to_item
from medbill.ports import AccessRecord

_FIELDS = ("resource", "resource_id", "action", "user_id", "user_name", "at", "request_id")


class AccessAuditTable(Table):
    """Implements medbill.ports.AccessAudit."""

    def record_access(self, record: AccessRecord) -> None:
        item = {
            "pk": keys.access_pk(record.resource, record.resource_id),
            "sk": f"{record.at}#{record.request_id}#{record.action}",
            **{f: getattr(record, f) for f in _FIELDS},
        }
        try:
            self._client.put_item(
                TableName=self.table_name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def access_log(
        self, resource: str, resource_id: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[AccessRecord], str | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": keys.access_pk(resource, resource_id)}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        items, token = self._page(kwargs, next_token, ("pk", "sk"))
        records = [plain(from_item(i)) for i in items]
        return [AccessRecord(**{f: str(r[f]) for f in _FIELDS}) for r in records], token
