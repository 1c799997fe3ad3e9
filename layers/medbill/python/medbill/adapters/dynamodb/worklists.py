"""The work queues and listings read from the table's indexes: claims by status (oldest update
first, `by-status`), by clinic (by date of service, `by-clinic`), the follow-up worklists (money at
stake, then age: `by-worklist`, one clinic's part `by-clinic-worklist`), and any item on a by-status
work queue (the unmatched remittance). Reads only: the claim writes (claims.py) put the GSI keys."""

from __future__ import annotations

from typing import Any

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.claim_items import claim_from
from medbill.adapters.dynamodb.table import Table, decode_token, encode_token, from_item, plain, to_item
from medbill.ports import UNMATCHED_STATUS, BadPageToken, Page


class WorklistTable(Table):
    def list_claims(
        self,
        *,
        status: str | None = None,
        clinic_id: str | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> Page:
        """A page of claims: by status (oldest update first), by clinic (by date of service), or all."""
        kwargs: dict[str, Any] = {}
        key_attrs = ["pk", "sk"]
        if status:
            key_attrs += ["status", "updated_at"]
            kwargs.update(
                IndexName="by-status",
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":s": status}),
            )
            if clinic_id:
                kwargs["FilterExpression"] = "clinic_id = :c"
                kwargs["ExpressionAttributeValues"].update(to_item({":c": clinic_id}))
            call = self._client.query
        elif clinic_id:
            key_attrs += ["clinic_id", "date_of_service"]
            kwargs.update(
                IndexName="by-clinic",
                KeyConditionExpression="clinic_id = :c",
                ExpressionAttributeValues=to_item({":c": clinic_id}),
            )
            call = self._client.query
        else:
            # No filter: scan claim items only. Fine for a clinic's volume; work queues use the GSIs.
            kwargs.update(FilterExpression="sk = :sk", ExpressionAttributeValues=to_item({":sk": keys.CLAIM_SK}))
            call = self._client.scan
        if next_token:
            start = decode_token(next_token, tuple(key_attrs))
            # A token from another listing (another status or clinic) would start this query anywhere.
            partition = ("status", status) if status else ("clinic_id", clinic_id) if clinic_id else None
            if partition and start[partition[0]].get("S") != partition[1]:
                raise BadPageToken("next_token belongs to another listing")
            if not start["pk"].get("S", "").startswith("CLAIM#") or start["sk"].get("S") != keys.CLAIM_SK:
                raise BadPageToken("next_token is not a token this API issued")
            kwargs["ExclusiveStartKey"] = start
        # DynamoDB applies Limit before the filter, so keep reading until the page is full.
        items: list[dict[str, Any]] = []
        for resp in self._pages(call, kwargs, Limit=max(limit, 25)):
            for raw in resp.get("Items", []):
                items.append(raw)
                if len(items) == limit:
                    last = {k: raw[k] for k in key_attrs}
                    return Page([claim_from(i) for i in items], encode_token(last))
        return Page([claim_from(i) for i in items], None)

    def worklist(
        self, name: str, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page:
        """One page of a follow-up worklist, money at stake then age: the whole office's from the
        by-worklist index, one clinic's from by-clinic-worklist (both keyed queries)."""
        if clinic_id is None:
            index, attr, value = "by-worklist", "worklist", name
        else:
            index, attr, value = "by-clinic-worklist", "clinic_worklist", keys.clinic_worklist(clinic_id, name)
        key_attrs = ("pk", "sk", attr, "worklist_order")
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": "#w = :w",
            "ExpressionAttributeNames": {"#w": attr},
            "ExpressionAttributeValues": to_item({":w": value}),
            "Limit": limit,
        }
        if next_token:
            start = decode_token(next_token, key_attrs)
            if start[attr].get("S") != value:
                raise BadPageToken("next_token belongs to another listing")
            kwargs["ExclusiveStartKey"] = start
        resp = next(self._pages(self._client.query, kwargs))
        items = resp.get("Items", [])
        last = resp.get("LastEvaluatedKey")
        return Page([claim_from(i) for i in items], encode_token(last) if last else None)

    def list_unmatched_remittance(
        self, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        return self.query_status(UNMATCHED_STATUS, limit=limit, next_token=next_token)

    def query_status(
        self, status: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Items of any kind in the by-status index (work queues beyond claims)."""
        kwargs: dict[str, Any] = {
            "IndexName": "by-status",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item({":s": status}),
            "Limit": limit,
        }
        items, token = self._page(kwargs, next_token, ("pk", "sk", "status", "updated_at"))
        return [plain(from_item(i)) for i in items], token
