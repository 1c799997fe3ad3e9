"""ERA payments in the table: headers, the ERA list, file links, per-claim results, queued
positions and provider-level adjustments (key layout: keys.py)."""

from __future__ import annotations

import time
from typing import Any

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.claims import era_result_put
from medbill.adapters.dynamodb.payees import PayeeDirectoryTable
from medbill.adapters.dynamodb.table import (
    decode_token,
    deserialize,
    encode_token,
    from_item,
    serialize,
    to_item,
    without_keys,
)
from medbill.models.common import utcnow
from medbill.ports import BadPageToken, EraResult

_NOT_OUR_TOKEN = "next_token is not a token this API issued"  # noqa: S105 - a message, not a secret


class EraTable(PayeeDirectoryTable):
    """ERA records; an ERA is listed for the clinics of its payee (the payee directory)."""

    def _era_key(self, era_id: str) -> dict[str, Any]:
        return to_item({"pk": keys.era_pk(era_id), "sk": keys.ERA_SK})

    def create_era(self, era_id: str, record: dict[str, Any]) -> bool:
        """Create the ERA payment header (BPR/TRN), its entry in the ERA list and its file link, in
        one transaction. False, and nothing written, if the header already exists: whoever created
        it first owns the plain id (a concurrent file for the same payment must find out)."""
        header = {"pk": keys.era_pk(era_id), "sk": keys.ERA_SK, "era_id": era_id, **record}
        # One partition lists every ERA, newest first: a few hundred payments a day fit easily and
        # the list needs no table scan and no GSI.
        listed = {"pk": keys.ERA_LIST_PK, "sk": f"{record['received_at']}#{era_id}", "era_id": era_id}
        # Which ERA records a file made: a release that finds the file changed re-quarantines them.
        by_file = {"pk": keys.era_file_pk(record["file_id"]), "sk": f"ERA#{era_id}", "era_id": era_id}
        # The ERA belongs to the clinics of its payee (billing provider NPI): listed for each, so a
        # clinic's staff read their ERAs by key (GET /eras). An unknown payee: the office list only.
        clinics = self.payee_clinics(str(record.get("payee_npi") or ""))
        per_clinic = [{**listed, "pk": keys.era_list_pk(c)} for c in clinics]
        return self._transact_if(
            [
                {"Put": {"Item": to_item(header), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": to_item(listed)}},
                {"Put": {"Item": to_item(by_file)}},
                *({"Put": {"Item": to_item(item)}} for item in per_clinic),
            ]
        )

    def rewrite_era(self, era_id: str, record: dict[str, Any]) -> bool:
        """Replace a header this file created (same file id), e.g. when a later payment of the file
        lost a race and the file's problems changed. False if the header belongs to another file."""
        return self._conditional(
            "put_item",
            Item=to_item({"pk": keys.era_pk(era_id), "sk": keys.ERA_SK, "era_id": era_id, **record}),
            ConditionExpression="file_id = :f",
            ExpressionAttributeValues=to_item({":f": record["file_id"]}),
        )

    def add_era_duplicate(self, era_id: str, source_key: str) -> None:
        """Note that the same file was delivered again under another key (a set: idempotent)."""
        self._client.update_item(
            TableName=self.table_name,
            Key=self._era_key(era_id),
            UpdateExpression="ADD duplicate_keys :k SET updated_at = :u",
            ExpressionAttributeValues={":k": {"SS": [source_key]}, ":u": serialize(utcnow().isoformat())},
            ConditionExpression="attribute_exists(pk)",
        )

    def requarantine_era(self, era_id: str, file_id: str, problems: list[str]) -> bool:
        """Back to QUARANTINED with `problems`, only if it is still RELEASED for that file."""
        return self._conditional(
            "update_item",
            Key=self._era_key(era_id),
            UpdateExpression="SET era_status = :q, problems = :p, updated_at = :u",
            ConditionExpression="era_status = :r AND file_id = :f",
            ExpressionAttributeValues=to_item(
                {":q": "QUARANTINED", ":r": "RELEASED", ":p": problems, ":f": file_id, ":u": utcnow().isoformat()}
            ),
        )

    def era_ids_for_file(self, file_id: str) -> list[str]:
        """The ERA records a file (by content id) created."""
        return [str(i["era_id"]) for i in self._query_prefix(keys.era_file_pk(file_id), "ERA#")]

    def advance_era_fanout(self, era_id: str, file_id: str, done: int) -> bool:
        """Checkpoint of a chunked fan-out (`done` steps finished): forward only, this file's record only."""
        return self._conditional(
            "update_item",
            Key=self._era_key(era_id),
            UpdateExpression="SET fanout_done = :d, updated_at = :u",
            ConditionExpression="file_id = :f AND (attribute_not_exists(fanout_done) OR fanout_done < :d)",
            ExpressionAttributeValues=to_item({":d": done, ":f": file_id, ":u": utcnow().isoformat()}),
        )

    def update_era_status(self, era_id: str, status: str, expected: str | None = None) -> bool:
        """Set the header status; with `expected`, only from that status. False if the condition failed."""
        kwargs: dict[str, Any] = {
            "Key": self._era_key(era_id),
            "UpdateExpression": "SET era_status = :s, updated_at = :u",
            "ExpressionAttributeValues": to_item({":s": status, ":u": utcnow().isoformat()}),
        }
        if expected:
            kwargs["ConditionExpression"] = "era_status = :e"
            kwargs["ExpressionAttributeValues"].update(to_item({":e": expected}))
        return self._conditional("update_item", **kwargs)

    def get_era(self, era_id: str) -> dict[str, Any] | None:
        item = self._get(keys.era_pk(era_id), keys.ERA_SK)
        return without_keys(from_item(item)) if item else None

    # --- per-claim results, queued positions, provider adjustments -------------------------------
    def record_era_result(self, result: EraResult) -> bool:
        """What became of one claim payment. False if it was recorded "posted" already (final)."""
        return self._transact_if([era_result_put(result)])

    def era_result(self, era_id: str, position: int) -> dict[str, Any] | None:
        sk = keys.result_sk(position)
        found = [i for i in self._query_prefix(keys.era_pk(era_id), sk) if i["sk"] == sk]
        return without_keys(found[0]) if found else None

    def era_results(self, era_id: str) -> list[dict[str, Any]]:
        """Every claim payment's result, by position."""
        return [without_keys(i) for i in self._query_prefix(keys.era_pk(era_id), keys.CLP)]

    def record_era_sent(self, era_id: str, sent: list[tuple[int, str]]) -> None:
        """Claim payments (position, CLP01) about to be queued for posting: a position with no
        result later is still pending (or its message is in the DLQ), and the ERA can say which.
        Keyed by the first position, so a redelivered fan-out writes the same item again."""
        if not sent:
            return
        self._put(
            {
                "pk": keys.era_pk(era_id),
                "sk": f"{keys.SENT}{sent[0][0]:07d}",
                "positions": [p for p, _ in sent],
                "clp01s": [c for _, c in sent],
            }
        )

    def era_sent(self, era_id: str) -> list[tuple[int, str]]:
        """Every (position, CLP01) queued for posting, in the order queued."""
        out: list[tuple[int, str]] = []
        for item in self._query_prefix(keys.era_pk(era_id), keys.SENT):
            out += [(int(p), str(c)) for p, c in zip(item["positions"], item["clp01s"], strict=True)]
        return out

    def era_result_counts(self, era_id: str) -> tuple[int, int]:
        """(claim payments with a result, of which unmatched) without returning the items."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "FilterExpression": "#r = :u",
            "ExpressionAttributeNames": {"#r": "result"},
            "ExpressionAttributeValues": to_item({":pk": keys.era_pk(era_id), ":p": keys.CLP, ":u": "unmatched"}),
            "Select": "COUNT",
        }
        recorded = unmatched = 0
        for resp in self._pages(self._client.query, kwargs):
            recorded += int(resp.get("ScannedCount", 0))
            unmatched += int(resp.get("Count", 0))
        return recorded, unmatched

    def record_provider_adjustment(self, era_id: str, number: int, fields: dict[str, Any]) -> bool:
        """The `number`th PLB adjustment of the payment, once. False if recorded already."""
        return self.put_if_absent({"pk": keys.era_pk(era_id), "sk": f"{keys.PLB}{number:04d}", **fields})

    def provider_adjustments(self, era_id: str) -> list[dict[str, Any]]:
        return [without_keys(i) for i in self._query_prefix(keys.era_pk(era_id), keys.PLB)]

    # --- listing --------------------------------------------------------------------------------
    def list_eras(
        self, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of ERA headers, newest first: a query of the ERA list partition (the office's, or
        one clinic's), then one batch read."""
        pk = keys.era_list_pk(clinic_id)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": pk}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if next_token and decode_token(next_token, ("pk", "sk"))["pk"]["S"] != pk:
            raise BadPageToken(_NOT_OUR_TOKEN)  # a token of another listing, or forged
        items, token = self._page(kwargs, next_token, ("pk", "sk"))
        return self._era_headers([str(deserialize(i["era_id"])) for i in items]), token

    def _era_headers(self, era_ids: list[str]) -> list[dict[str, Any]]:
        """Headers in the order given (BatchGetItem returns them in any order, maybe in parts)."""
        if not era_ids:
            return []
        found: dict[str, dict[str, Any]] = {}
        pending: dict[str, Any] = {
            self.table_name: {"Keys": [self._era_key(e) for e in era_ids], "ConsistentRead": True}
        }
        for attempt in range(8):
            resp = self._client.batch_get_item(RequestItems=pending)
            for raw in resp.get("Responses", {}).get(self.table_name, []):
                item = without_keys(from_item(raw))
                found[item["era_id"]] = item
            pending = resp.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError("DynamoDB left ERA headers unprocessed (throttled); retry the request")
        return [found[e] for e in era_ids if e in found]

    @staticmethod
    def era_claims_token(era_id: str, position: int) -> str:
        """The page token after the claim payment at `position` of one ERA (GET /eras/{id})."""
        return encode_token({"pk": {"S": keys.era_pk(era_id)}, "sk": {"S": keys.result_sk(position)}})

    @staticmethod
    def era_claims_after(era_id: str, token: str) -> int:
        """The position a token of `era_id`'s claim listing continues after; BadPageToken otherwise."""
        key = decode_token(token, ("pk", "sk"))
        sk = key["sk"]["S"]
        digits = sk.removeprefix(keys.CLP)
        if key["pk"]["S"] != keys.era_pk(era_id) or digits == sk or not (digits.isascii() and digits.isdigit()):
            raise BadPageToken(_NOT_OUR_TOKEN)
        return int(digits)
