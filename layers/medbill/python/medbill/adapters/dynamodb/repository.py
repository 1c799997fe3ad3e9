"""DynamoDB single-table repository: claims, their audit events, ledger entries, patients, ERA files.

Item layout (see docs/architecture.md):
  CLAIM#<id> / CLAIM                      the claim (status, version, totals, pending task token)
  CLAIM#<id> / EVENT#<iso ts>#<version>   append-only audit trail
  CLAIM#<id> / LEDGER#<source>           one posting (payment, denial, reversal, PLB), unique per source
  CLAIM#<id> / HELDREV#<payer claim no>#<source>   a reversal that arrived before its original
  PATIENT#<id> / PATIENT                  demographics and coverages
  PATIENTKEY#<sha256> / PATIENTKEY        match key (name, DOB, member id) -> random patient id; stays here
  ERA#<era id> / ERA                      one ERA payment (BPR/TRN): totals, status, problems
  ERA#<era id> / CLP#<position>           what became of each claim payment (posted, unmatched, held)
  ERA#<era id> / SENT#<first position>    claim payments queued for posting (positions, CLP01s)
  ERA#<era id> / PLB#<n>                  provider-level adjustments
  ERALIST / <received at>#<era id>        the list of ERA payments, newest first (GET /eras)
  ERAFILE#<file id> / ERA#<era id>        the ERA records a file (by content) created
  UNMATCHED#<CLP01> / REMIT#<era id>#<position>   remittance for a claim we do not know (yet)
  COUNTER#<name> / COUNTER                atomic counters (X12 control numbers)

Every status change is a conditional write on `version`, committed in one transaction with its
audit event (and ledger entries when money moves).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import ValidationError

from medbill.models.claim import Claim
from medbill.models.common import utcnow
from medbill.models.remittance import LedgerEntry
from medbill.models.status import ClaimStatus, check_transition
from medbill.ports import (
    AlreadyPosted,
    BadPageToken,
    ClaimEvent,
    ClaimNotFound,
    ConcurrentUpdate,
    InvalidClaimUpdate,
    Page,
    StaleItem,
)

_ser = TypeSerializer()
_de = TypeDeserializer()

CLAIM_SK = "CLAIM"
ERA_LIST_PK = "ERALIST"  # ERALIST / <received_at>#<era id>: every ERA payment, for GET /eras


def claim_pk(claim_id: str) -> str:
    return f"CLAIM#{claim_id}"


def _to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in data.items() if v is not None}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB returns Decimal for every number; turn whole numbers back into int for pydantic."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class ClaimRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client: Any = client or boto3.client("dynamodb")

    # --- claims ----------------------------------------------------------------------------
    @staticmethod
    def _claim_item(claim: Claim) -> dict[str, Any]:
        data = claim.model_dump(mode="json")
        data["pk"] = claim_pk(claim.claim_id)
        data["sk"] = CLAIM_SK
        # GSI keys: by-status (status, updated_at) and by-clinic (clinic_id, date_of_service).
        data["date_of_service"] = claim.date_of_service
        return _to_item(data)

    def _event_put(self, claim: Claim, actor: str, old: ClaimStatus | None, detail: dict[str, Any]) -> dict:
        at = claim.updated_at.isoformat()
        item = {
            "pk": claim_pk(claim.claim_id),
            "sk": f"EVENT#{at}#{claim.version:06d}",
            "at": at,
            "actor": actor,
            "old_status": old.value if old else None,
            "new_status": claim.status.value,
            "version": claim.version,
            "detail": json.dumps(detail, sort_keys=True, default=str),
        }
        return {"Put": {"TableName": self.table_name, "Item": _to_item(item)}}

    def create_claim(self, claim: Claim, actor: str = "intake") -> bool:
        """Create the claim and its first event. False if it already exists (a redelivered file)."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": self._claim_item(claim),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    self._event_put(claim, actor, None, {"source_key": claim.source_key}),
                ]
            )
        except ClientError as err:
            if _cancelled_by_condition(err):
                return False
            raise
        return True

    def get_claim(self, claim_id: str) -> Claim:
        resp = self._client.get_item(
            TableName=self.table_name,
            Key=_to_item({"pk": claim_pk(claim_id), "sk": CLAIM_SK}),
            ConsistentRead=True,
        )
        if "Item" not in resp:
            raise ClaimNotFound(claim_id)
        return self._claim_from(resp["Item"])

    @staticmethod
    def _claim_from(item: dict[str, Any]) -> Claim:
        data = _plain(_from_item(item))
        for key in ("pk", "sk", "date_of_service"):
            data.pop(key, None)
        try:
            return Claim.model_validate(data)
        except ValidationError as err:
            # pydantic quotes the failing input (names, DOBs) and the message would travel into the
            # Step Functions error cause and the logs: name the fields only.
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in err.errors()})
            raise InvalidClaimUpdate(
                f"stored claim {data.get('claim_id')} does not validate: {', '.join(fields)}"
            ) from None

    def save(
        self,
        claim: Claim,
        *,
        actor: str,
        new_status: ClaimStatus | None = None,
        detail: dict[str, Any] | None = None,
        ledger: Iterable[LedgerEntry] = (),
        extra: Iterable[dict[str, Any]] = (),
    ) -> Claim:
        """Write a changed claim: conditional on the version read, with its event, ledger entries
        and any `extra` transaction items (ERA results, reversal marks), all or nothing.

        `claim` is the caller's modified copy (still carrying the version it was read at).
        Raises ConcurrentUpdate if the claim (or an extra item's condition) moved on, and
        AlreadyPosted if a ledger entry with the same source exists.
        """
        old_status = claim.status
        read_version = claim.version
        if new_status is not None:
            check_transition(old_status, new_status)
        try:  # model_copy does not validate: never store a claim that could not be read back
            Claim.model_validate(claim.model_dump())
        except ValidationError as err:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in err.errors()})
            raise InvalidClaimUpdate(f"claim {claim.claim_id}: invalid {', '.join(fields)}") from None
        updated = claim.model_copy(
            update={
                "status": new_status or old_status,
                "version": read_version + 1,
                "updated_at": max(utcnow(), claim.updated_at),
            }
        )
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": self._claim_item(updated),
                    "ConditionExpression": "#v = :v",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":v": _ser.serialize(read_version)},
                }
            },
            self._event_put(updated, actor, old_status if new_status else None, detail or {}),
        ]
        entries = list(ledger)
        for entry in entries:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": self.ledger_item(claim.claim_id, entry),
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                }
            )
        ledger_slots = range(2, 2 + len(entries))
        items.extend(self._with_table(item) for item in extra)
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as err:
            reasons = _cancellation_codes(err)
            failed = [i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
            if "TransactionConflict" in reasons or 0 in failed:
                raise ConcurrentUpdate(claim.claim_id) from err  # another writer got there first: re-read
            if failed and any(i in ledger_slots for i in failed):
                raise AlreadyPosted(claim.claim_id) from err
            if failed:
                raise StaleItem(claim.claim_id) from err
            raise
        return updated

    def _with_table(self, item: dict[str, Any]) -> dict[str, Any]:
        ((op, body),) = item.items()
        return {op: {"TableName": self.table_name, **body}}

    # --- ledger ------------------------------------------------------------------------------
    @staticmethod
    def ledger_fields(claim_id: str, entry: LedgerEntry) -> dict[str, Any]:
        return {
            "pk": claim_pk(claim_id),
            "sk": f"LEDGER#{entry.source}",
            "kind": entry.kind,
            "era_id": entry.era_id,
            "reversed_by": entry.reversed_by,
            "data": entry.model_dump_json(),
        }

    @classmethod
    def ledger_item(cls, claim_id: str, entry: LedgerEntry) -> dict[str, Any]:
        return _to_item(cls.ledger_fields(claim_id, entry))

    def mark_reversed_item(self, claim_id: str, entry: LedgerEntry) -> dict[str, Any]:
        """Transaction item: the entry, now carrying `reversed_by`, only if nothing reversed it yet."""
        return {
            "Put": {
                "Item": self.ledger_item(claim_id, entry),
                "ConditionExpression": "attribute_exists(sk) AND attribute_not_exists(reversed_by)",
            }
        }

    def posting_state(self, claim_id: str) -> tuple[list[LedgerEntry], list[dict[str, Any]]]:
        """The claim's ledger entries and held reversals, in one strongly consistent query.

        Posting recomputes claim totals from this read, so it must see every committed entry:
        the claim's version condition does not cover the ledger items. `HELDREV#` sorts right
        before `LEDGER#`, so one range read returns both.
        """
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": _to_item({":pk": claim_pk(claim_id), ":lo": "HELDREV#", ":hi": "LEDGER$"}),
            "ConsistentRead": True,
        }
        entries: list[LedgerEntry] = []
        held: list[dict[str, Any]] = []
        while True:
            resp = self._client.query(**kwargs)
            for raw in resp.get("Items", []):
                item = _from_item(raw)
                if item["sk"].startswith("LEDGER#"):
                    entries.append(LedgerEntry.model_validate_json(item["data"]))
                elif item["sk"].startswith("HELDREV#"):
                    held.append(_plain(item))
            if "LastEvaluatedKey" not in resp:
                return entries, held
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def ledger_entries(self, claim_id: str) -> list[LedgerEntry]:
        return [
            LedgerEntry.model_validate_json(item["data"]) for item in self._query_prefix(claim_pk(claim_id), "LEDGER#")
        ]

    def events(self, claim_id: str) -> list[ClaimEvent]:
        out = []
        for item in self._query_prefix(claim_pk(claim_id), "EVENT#"):
            out.append(
                ClaimEvent(
                    at=item["at"],
                    actor=item["actor"],
                    old_status=item.get("old_status"),
                    new_status=item["new_status"],
                    detail=json.loads(item.get("detail") or "{}"),
                    version=int(item["version"]),
                )
            )
        return out

    def ledger(self, claim_id: str) -> list[dict[str, Any]]:
        """The claim's ledger as JSON-ready dicts, oldest posting first."""
        entries = sorted(self.ledger_entries(claim_id), key=lambda e: (e.posted_at, e.source))
        return [e.model_dump(mode="json") for e in entries]

    def _query_prefix(self, pk: str, sk_prefix: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": _to_item({":pk": pk, ":p": sk_prefix}),
        }
        while True:
            resp = self._client.query(**kwargs)
            for item in resp.get("Items", []):
                yield _from_item(item)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def list_claims(
        self,
        *,
        status: str | None = None,
        clinic_id: str | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> Page:
        """A page of claims: by status (oldest update first), by clinic (by date of service), or all."""
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        key_attrs = ["pk", "sk"]
        if status:
            key_attrs += ["status", "updated_at"]
            kwargs.update(
                IndexName="by-status",
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_item({":s": status}),
            )
            if clinic_id:
                kwargs["FilterExpression"] = "clinic_id = :c"
                kwargs["ExpressionAttributeValues"].update(_to_item({":c": clinic_id}))
            call = self._client.query
        elif clinic_id:
            key_attrs += ["clinic_id", "date_of_service"]
            kwargs.update(
                IndexName="by-clinic",
                KeyConditionExpression="clinic_id = :c",
                ExpressionAttributeValues=_to_item({":c": clinic_id}),
            )
            call = self._client.query
        else:
            # No filter: scan claim items only. Fine for a clinic's volume; work queues use the GSIs.
            kwargs.update(FilterExpression="sk = :sk", ExpressionAttributeValues=_to_item({":sk": CLAIM_SK}))
            call = self._client.scan
        if next_token:
            start = _decode_token(next_token, tuple(key_attrs))
            # A token from another listing (another status or clinic) would start this query anywhere.
            partition = ("status", status) if status else ("clinic_id", clinic_id) if clinic_id else None
            if partition and start[partition[0]].get("S") != partition[1]:
                raise BadPageToken("next_token belongs to another listing")
            if not start["pk"].get("S", "").startswith("CLAIM#") or start["sk"].get("S") != CLAIM_SK:
                raise BadPageToken("next_token is not a token this API issued")
            kwargs["ExclusiveStartKey"] = start
        # DynamoDB applies Limit before the filter, so keep reading until the page is full.
        items: list[dict[str, Any]] = []
        while True:
            resp = _paged(call, kwargs, Limit=max(limit, 25))
            for raw in resp.get("Items", []):
                items.append(raw)
                if len(items) == limit:
                    last = {k: raw[k] for k in key_attrs}
                    return Page([self._claim_from(i) for i in items], _encode_token(last))
            if "LastEvaluatedKey" not in resp:
                return Page([self._claim_from(i) for i in items], None)
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # --- patients --------------------------------------------------------------------------
    def upsert_patient(self, patient_id: str, record: dict[str, Any]) -> bool:
        """Create or refresh the patient. True when the patient was new."""
        now = utcnow().isoformat()
        resp = self._client.update_item(
            TableName=self.table_name,
            Key=_to_item({"pk": f"PATIENT#{patient_id}", "sk": "PATIENT"}),
            UpdateExpression=("SET demographics = :d, updated_at = :u, created_at = if_not_exists(created_at, :u)"),
            ExpressionAttributeValues=_to_item({":d": record, ":u": now}),
            ReturnValues="UPDATED_OLD",
        )
        return "created_at" not in resp.get("Attributes", {})

    def get_patient(self, patient_id: str) -> dict[str, Any] | None:
        resp = self._client.get_item(
            TableName=self.table_name, Key=_to_item({"pk": f"PATIENT#{patient_id}", "sk": "PATIENT"})
        )
        return _from_item(resp["Item"]) if "Item" in resp else None

    # The match-key lookup item, PATIENTKEY#<sha256 hex of name + DOB + member id> / PATIENTKEY, maps
    # a person to their random patient id. The hash is derived from PHI: it stays in this table and
    # is never returned, logged or put in an event.
    @staticmethod
    def _patient_key(key_hash: str) -> dict[str, Any]:
        return _to_item({"pk": f"PATIENTKEY#{key_hash}", "sk": "PATIENTKEY"})

    def patient_id_for_match_key(self, key_hash: str) -> str | None:
        """The patient id recorded for this match key (consistent read), or None."""
        resp = self._client.get_item(
            TableName=self.table_name,
            Key=self._patient_key(key_hash),
            ConsistentRead=True,
            ProjectionExpression="patient_id",
        )
        return str(_de.deserialize(resp["Item"]["patient_id"])) if "Item" in resp else None

    def claim_patient_key(self, key_hash: str, patient_id: str) -> bool:
        """Record `patient_id` for this match key unless one is already there. False if it was."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={**self._patient_key(key_hash), **_to_item({"patient_id": patient_id})},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # --- counters --------------------------------------------------------------------------
    def next_counter(self, name: str) -> int:
        """Atomic counter (X12 interchange control numbers must be unique and persistent)."""
        resp = self._client.update_item(
            TableName=self.table_name,
            Key=_to_item({"pk": f"COUNTER#{name}", "sk": "COUNTER"}),
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": "value"},
            ExpressionAttributeValues=_to_item({":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        return int(_de.deserialize(resp["Attributes"]["value"]))

    # --- ERA payments, results and provider adjustments ------------------------------------------
    @staticmethod
    def _era_key(era_id: str) -> dict[str, Any]:
        return _to_item({"pk": f"ERA#{era_id}", "sk": "ERA"})

    def create_era(self, era_id: str, record: dict[str, Any]) -> bool:
        """Create the ERA payment header (BPR/TRN), its entry in the ERA list and its file link, in
        one transaction. False, and nothing written, if the header already exists: whoever created
        it first owns the plain id (a concurrent file for the same payment must find out)."""
        header = {"pk": f"ERA#{era_id}", "sk": "ERA", "era_id": era_id, **record}
        # One partition lists every ERA, newest first: a few hundred payments a day fit easily and
        # the list needs no table scan and no GSI.
        listed = {"pk": ERA_LIST_PK, "sk": f"{record['received_at']}#{era_id}", "era_id": era_id}
        # Which ERA records a file made: a release that finds the file changed re-quarantines them.
        by_file = {"pk": f"ERAFILE#{record['file_id']}", "sk": f"ERA#{era_id}", "era_id": era_id}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _to_item(header),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self.table_name, "Item": _to_item(listed)}},
                    {"Put": {"TableName": self.table_name, "Item": _to_item(by_file)}},
                ]
            )
        except ClientError as err:
            if _cancelled_by_condition(err):
                return False
            raise
        return True

    def rewrite_era(self, era_id: str, record: dict[str, Any]) -> bool:
        """Replace a header this file created (same file id), e.g. when a later payment of the file
        lost a race and the file's problems changed. False if the header belongs to another file."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=_to_item({"pk": f"ERA#{era_id}", "sk": "ERA", "era_id": era_id, **record}),
                ConditionExpression="file_id = :f",
                ExpressionAttributeValues=_to_item({":f": record["file_id"]}),
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_era_duplicate(self, era_id: str, source_key: str) -> None:
        """Note that the same file was delivered again under another key (a set: idempotent)."""
        self._client.update_item(
            TableName=self.table_name,
            Key=self._era_key(era_id),
            UpdateExpression="ADD duplicate_keys :k SET updated_at = :u",
            ExpressionAttributeValues={
                ":k": {"SS": [source_key]},
                ":u": _ser.serialize(utcnow().isoformat()),
            },
            ConditionExpression="attribute_exists(pk)",
        )

    def requarantine_era(self, era_id: str, file_id: str, problem: str) -> bool:
        """A released ERA whose file changed before it was posted: back to QUARANTINED with
        `problem`, only if it is still RELEASED for that file. False otherwise."""
        header = self.get_era(era_id)
        if header is None:
            return False
        problems = list(header.get("problems") or [])
        if problem not in problems:
            problems.append(problem)
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=self._era_key(era_id),
                UpdateExpression="SET era_status = :q, problems = :p, updated_at = :u",
                ConditionExpression="era_status = :r AND file_id = :f",
                ExpressionAttributeValues=_to_item(
                    {
                        ":q": "QUARANTINED",
                        ":r": "RELEASED",
                        ":p": problems,
                        ":f": file_id,
                        ":u": utcnow().isoformat(),
                    }
                ),
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def era_ids_for_file(self, file_id: str) -> list[str]:
        """The ERA records a file (by content id) created."""
        return [str(i["era_id"]) for i in self._query_prefix(f"ERAFILE#{file_id}", "ERA#")]

    def update_era_status(self, era_id: str, status: str, expected: str | None = None) -> bool:
        """Set the header status; with `expected`, only from that status. False if the condition failed."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": _to_item({"pk": f"ERA#{era_id}", "sk": "ERA"}),
            "UpdateExpression": "SET era_status = :s, updated_at = :u",
            "ExpressionAttributeValues": _to_item({":s": status, ":u": utcnow().isoformat()}),
        }
        if expected:
            kwargs["ConditionExpression"] = "era_status = :e"
            kwargs["ExpressionAttributeValues"].update(_to_item({":e": expected}))
        try:
            self._client.update_item(**kwargs)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_era(self, era_id: str) -> dict[str, Any] | None:
        resp = self._client.get_item(
            TableName=self.table_name, Key=_to_item({"pk": f"ERA#{era_id}", "sk": "ERA"}), ConsistentRead=True
        )
        return _plain(_from_item(resp["Item"])) if "Item" in resp else None

    def era_items(self, era_id: str, prefix: str) -> list[dict[str, Any]]:
        """`CLP#` results or `PLB#` provider adjustments of one ERA payment."""
        return [_plain(i) for i in self._query_prefix(f"ERA#{era_id}", prefix)]

    @staticmethod
    def era_result_item(era_id: str, position: int, result: dict[str, Any]) -> dict[str, Any]:
        """Transaction item: what became of the claim payment at `position`. Once "posted" it is
        final; "unmatched" or "held" may be replaced when the payment is later posted."""
        return {
            "Put": {
                "Item": _to_item({"pk": f"ERA#{era_id}", "sk": f"CLP#{position:07d}", "position": position, **result}),
                "ConditionExpression": "attribute_not_exists(sk) OR #r <> :posted",
                "ExpressionAttributeNames": {"#r": "result"},
                "ExpressionAttributeValues": {":posted": _ser.serialize("posted")},
            }
        }

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        """A standalone conditional put (provider adjustments, unmatched remittance). False if present."""
        try:
            self._client.put_item(
                TableName=self.table_name, Item=_to_item(item), ConditionExpression="attribute_not_exists(sk)"
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def transact(self, items: list[dict[str, Any]]) -> bool:
        """Raw items in one transaction (table name added). False if a condition failed."""
        try:
            self._client.transact_write_items(TransactItems=[self._with_table(i) for i in items])
        except ClientError as err:
            if _cancelled_by_condition(err):
                return False
            raise
        return True

    @staticmethod
    def item(data: dict[str, Any]) -> dict[str, Any]:
        return _to_item(data)

    def record_era_sent(self, era_id: str, sent: list[tuple[int, str]]) -> None:
        """Claim payments (position, CLP01) about to be queued for posting: a position with no
        result later is still pending (or its message is in the DLQ), and the ERA can say which.
        Keyed by the first position, so a redelivered fan-out writes the same item again."""
        if not sent:
            return
        self._client.put_item(
            TableName=self.table_name,
            Item=_to_item(
                {
                    "pk": f"ERA#{era_id}",
                    "sk": f"SENT#{sent[0][0]:07d}",
                    "positions": [p for p, _ in sent],
                    "clp01s": [c for _, c in sent],
                }
            ),
        )

    def era_result_counts(self, era_id: str) -> tuple[int, int]:
        """(claim payments with a result, of which unmatched) without returning the items."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "FilterExpression": "#r = :u",
            "ExpressionAttributeNames": {"#r": "result"},
            "ExpressionAttributeValues": _to_item({":pk": f"ERA#{era_id}", ":p": "CLP#", ":u": "unmatched"}),
            "Select": "COUNT",
        }
        recorded = unmatched = 0
        while True:
            resp = self._client.query(**kwargs)
            recorded += int(resp.get("ScannedCount", 0))
            unmatched += int(resp.get("Count", 0))
            if "LastEvaluatedKey" not in resp:
                return recorded, unmatched
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def list_eras(self, *, limit: int = 50, next_token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of ERA headers, newest first: a query of the ERA list partition, then one batch read."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": _to_item({":pk": ERA_LIST_PK}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if next_token:
            start = _decode_token(next_token, ("pk", "sk"))
            if start["pk"]["S"] != ERA_LIST_PK:  # a token of another listing, or forged
                raise BadPageToken("next_token is not a token this API issued")
            kwargs["ExclusiveStartKey"] = start
        resp = _paged(self._client.query, kwargs)
        era_ids = [str(_de.deserialize(i["era_id"])) for i in resp.get("Items", [])]
        token = _encode_token(resp["LastEvaluatedKey"]) if "LastEvaluatedKey" in resp else None
        return self._era_headers(era_ids), token

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
                item = _plain(_from_item(raw))
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
        return _encode_token({"pk": {"S": f"ERA#{era_id}"}, "sk": {"S": f"CLP#{position:07d}"}})

    @staticmethod
    def era_claims_after(era_id: str, token: str) -> int:
        """The position a token of `era_id`'s claim listing continues after; BadPageToken otherwise."""
        key = _decode_token(token, ("pk", "sk"))
        sk = key["sk"]["S"]
        digits = sk.removeprefix("CLP#")
        if key["pk"]["S"] != f"ERA#{era_id}" or digits == sk or not (digits.isascii() and digits.isdigit()):
            raise BadPageToken("next_token is not a token this API issued")
        return int(digits)

    def query_status(
        self, status: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict], str | None]:
        """Items of any kind in the by-status index (work queues beyond claims)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": "by-status",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": _to_item({":s": status}),
            "Limit": limit,
        }
        if next_token:
            kwargs["ExclusiveStartKey"] = _decode_token(next_token, ("pk", "sk", "status", "updated_at"))
        resp = _paged(self._client.query, kwargs)
        token = _encode_token(resp["LastEvaluatedKey"]) if "LastEvaluatedKey" in resp else None
        return [_plain(_from_item(i)) for i in resp.get("Items", [])], token

    def items_under(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        return [_plain(i) for i in self._query_prefix(pk, prefix)]


def _cancellation_codes(err: ClientError) -> list[str]:
    if err.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    reasons = err.response.get("CancellationReasons")
    if reasons:
        return [r.get("Code", "None") for r in reasons]
    # Some emulators only put the reasons in the message: "... [ConditionalCheckFailed, None]".
    message = err.response.get("Error", {}).get("Message", "")
    if "[" in message:
        return [c.strip() for c in message[message.rindex("[") + 1 : message.rindex("]")].split(",")]
    return []


def _cancelled_by_condition(err: ClientError) -> bool:
    return "ConditionalCheckFailed" in _cancellation_codes(err)


def _encode_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _paged(call: Any, kwargs: dict[str, Any], **extra: Any) -> Any:
    """A page read; a start key DynamoDB refuses (a forged or stale token) is the caller's error."""
    try:
        return call(**kwargs, **extra)
    except ClientError as err:
        if "ExclusiveStartKey" in kwargs and err.response.get("Error", {}).get("Code") == "ValidationException":
            raise BadPageToken("next_token is not a token this API issued") from None
        raise


def _decode_token(token: str, key_attrs: tuple[str, ...]) -> dict[str, Any]:
    """The start key a token carries; it must hold exactly the keys of the index being read."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as err:
        raise BadPageToken("next_token is not a token this API issued") from err
    if (
        not isinstance(key, dict)
        or set(key) != set(key_attrs)
        or not all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values())
    ):
        raise BadPageToken("next_token is not a token this API issued")
    return key
