"""Claims in the table: the claim item, its audit events, its ledger, held reversals, the
unmatched-remittance work items, statements, patients and counters (key layout: keys.py). The
listings and work queues that read claims by index are in worklists.py; the payee directory a new
claim records is in payees.py.

Every write of a claim is conditional on the version it was read at and commits, in one
transaction, with its audit event and whatever else the change brings (ledger entry, ERA result,
a consumed work item)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from medbill.adapters.dynamodb import keys
from medbill.adapters.dynamodb.claim_items import claim_from, claim_item, invalid_fields
from medbill.adapters.dynamodb.payees import payee_put
from medbill.adapters.dynamodb.table import (
    Table,
    TransactionCancelled,
    deserialize,
    from_item,
    serialize,
    to_item,
)
from medbill.models.claim import Claim
from medbill.models.common import utcnow
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus
from medbill.ports import (
    UNMATCHED_STATUS,
    AlreadyPosted,
    ClaimEvent,
    ClaimNotFound,
    ConcurrentUpdate,
    Consume,
    EraResult,
    HeldReversal,
    InvalidClaimUpdate,
    PostingState,
    StaleItem,
    WorkItem,
)


def era_result_put(result: EraResult) -> dict[str, Any]:
    """Transaction item: what became of one claim payment. Once "posted" it is final; "unmatched"
    or "held" may be replaced when the payment is later posted."""
    item = {"pk": keys.era_pk(result.era_id), "sk": keys.result_sk(result.position), "position": result.position}
    return {
        "Put": {
            "Item": to_item({**item, **result.fields}),
            "ConditionExpression": "attribute_not_exists(sk) OR #r <> :posted",
            "ExpressionAttributeNames": {"#r": "result"},
            "ExpressionAttributeValues": {":posted": serialize("posted")},
        }
    }


class ClaimTable(Table):
    # --- claims ----------------------------------------------------------------------------
    @staticmethod
    def _event_put(claim: Claim, actor: str, old: ClaimStatus | None, detail: dict[str, Any]) -> dict[str, Any]:
        at = claim.updated_at.isoformat()
        item = {
            "pk": keys.claim_pk(claim.claim_id),
            "sk": f"{keys.EVENT}{at}#{claim.version:06d}",
            "at": at,
            "actor": actor,
            "old_status": old.value if old else None,
            "new_status": claim.status.value,
            "version": claim.version,
            "detail": json.dumps(detail, sort_keys=True, default=str),
        }
        return {"Put": {"Item": to_item(item)}}

    def create_claim(self, claim: Claim, actor: str = "intake") -> bool:
        """Create the claim and its first event. False if it already exists (a redelivered file).
        The clinic bills under the claim's billing provider NPI: the payee directory notes it, so ERAs
        paying that NPI are the clinic's."""
        return self._transact_if(
            [
                {"Put": {"Item": claim_item(claim), "ConditionExpression": "attribute_not_exists(pk)"}},
                self._event_put(claim, actor, None, {"source_key": claim.source_key}),
                payee_put(claim.encounter.billing_provider.npi, claim.clinic_id),
            ]
        )

    def get_claim(self, claim_id: str) -> Claim:
        item = self._get(keys.claim_pk(claim_id), keys.CLAIM_SK)
        if item is None:
            raise ClaimNotFound(claim_id)
        return claim_from(item)

    def claim_exists(self, claim_id: str) -> bool:
        return (
            self._get(keys.claim_pk(claim_id), keys.CLAIM_SK, consistent=False, ProjectionExpression="pk") is not None
        )

    def save(
        self,
        claim: Claim,
        *,
        actor: str,
        new_status: ClaimStatus | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Claim:
        """Write a changed claim (the caller's modified copy, still carrying the version it was read
        at) with its audit event. The caller has checked the status transition."""
        return self._write_claim(claim, actor=actor, new_status=new_status, detail=detail or {})

    def _write_claim(
        self,
        claim: Claim,
        *,
        actor: str,
        new_status: ClaimStatus | None,
        detail: dict[str, Any],
        ledger: Iterable[LedgerEntry] = (),
        extra: Iterable[dict[str, Any]] = (),
    ) -> Claim:
        """The claim (conditional on its version), its event, ledger entries and `extra` items, all
        or nothing. ConcurrentUpdate if the claim moved on; AlreadyPosted if a ledger entry with the
        same source exists; StaleItem if another item's condition failed."""
        old_status = claim.status
        read_version = claim.version
        try:  # model_copy does not validate: never store a claim that could not be read back
            Claim.model_validate(claim.model_dump())
        except ValidationError as err:
            raise InvalidClaimUpdate(f"claim {claim.claim_id}: invalid {invalid_fields(err)}") from None
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
                    "Item": claim_item(updated),
                    "ConditionExpression": "#v = :v",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":v": serialize(read_version)},
                }
            },
            self._event_put(updated, actor, old_status if new_status else None, detail),
        ]
        entries = list(ledger)
        for entry in entries:
            items.append(
                {
                    "Put": {
                        "Item": self._ledger_item(claim.claim_id, entry),
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                }
            )
        ledger_slots = range(2, 2 + len(entries))
        items.extend(extra)
        try:
            self._transact(items)
        except TransactionCancelled as cancelled:
            if cancelled.conflict or 0 in cancelled.failed:
                raise ConcurrentUpdate(claim.claim_id) from cancelled.error  # another writer got there first
            if any(i in ledger_slots for i in cancelled.failed):
                raise AlreadyPosted(claim.claim_id) from cancelled.error
            raise StaleItem(claim.claim_id) from cancelled.error
        return updated

    def events(self, claim_id: str) -> list[ClaimEvent]:
        return [
            ClaimEvent(
                at=item["at"],
                actor=item["actor"],
                old_status=item.get("old_status"),
                new_status=item["new_status"],
                detail=json.loads(item.get("detail") or "{}"),
                version=int(item["version"]),
            )
            for item in self._query_prefix(keys.claim_pk(claim_id), keys.EVENT)
        ]

    # --- ledger and posting -------------------------------------------------------------------
    @staticmethod
    def _ledger_fields(claim_id: str, entry: LedgerEntry) -> dict[str, Any]:
        return {
            "pk": keys.claim_pk(claim_id),
            "sk": keys.ledger_sk(entry.source),
            "kind": entry.kind,
            "era_id": entry.era_id,
            "reversed_by": entry.reversed_by,
            "data": entry.model_dump_json(),
        }

    @classmethod
    def _ledger_item(cls, claim_id: str, entry: LedgerEntry) -> dict[str, Any]:
        return to_item(cls._ledger_fields(claim_id, entry))

    def ledger_entries(self, claim_id: str) -> list[LedgerEntry]:
        return [
            LedgerEntry.model_validate_json(item["data"])
            for item in self._query_prefix(keys.claim_pk(claim_id), keys.LEDGER)
        ]

    def ledger(self, claim_id: str) -> list[dict[str, Any]]:
        """The claim's ledger as JSON-ready dicts, oldest posting first."""
        entries = sorted(self.ledger_entries(claim_id), key=lambda e: (e.posted_at, e.source))
        return [e.model_dump(mode="json") for e in entries]

    def posting_state(self, claim_id: str) -> PostingState:
        """The claim's ledger entries and held reversals, in one strongly consistent query.

        Posting recomputes claim totals from this read, so it must see every committed entry:
        the claim's version condition does not cover the ledger items. `HELDREV#` sorts right
        before `LEDGER#`, so one range read returns both.
        """
        state = PostingState(entries=[])
        for item in self._query_range(keys.claim_pk(claim_id), keys.HELDREV, "LEDGER$", consistent=True):
            if item["sk"].startswith(keys.LEDGER):
                state.entries.append(LedgerEntry.model_validate_json(item["data"]))
            elif item["sk"].startswith(keys.HELDREV):
                state.held.append(HeldReversal(claim_id, ClaimRemittance.model_validate_json(item["data"])))
        return state

    def held_reversals(self, claim_id: str) -> list[HeldReversal]:
        return [
            HeldReversal(claim_id, ClaimRemittance.model_validate_json(item["data"]))
            for item in self._query_prefix(keys.claim_pk(claim_id), keys.HELDREV)
        ]

    def _work_item_key(self, item: WorkItem) -> dict[str, Any]:
        if isinstance(item, HeldReversal):
            return to_item({"pk": keys.claim_pk(item.claim_id), "sk": keys.held_sk(item.remittance)})
        return to_item(keys.unmatched_key(item.remittance))

    def _consume_delete(self, consume: Consume | None) -> list[dict[str, Any]]:
        if consume is None:
            return []
        delete: dict[str, Any] = {"Key": self._work_item_key(consume.item)}
        if consume.must_exist:
            delete["ConditionExpression"] = "attribute_exists(sk)"
        return [{"Delete": delete}]

    def post_ledger_entry(
        self,
        claim: Claim,
        entry: LedgerEntry,
        *,
        actor: str,
        detail: dict[str, Any],
        result: EraResult,
        new_status: ClaimStatus | None = None,
        reversed_entry: LedgerEntry | None = None,
        consume: Consume | None = None,
    ) -> Claim:
        """The posting: the claim with its new totals, the entry (once per source), the entry it
        reverses marked (only if nothing reversed it yet), the ERA's result and the consumed work item."""
        extra = self._consume_delete(consume)
        if reversed_entry is not None:
            extra.append(
                {
                    "Put": {
                        "Item": self._ledger_item(claim.claim_id, reversed_entry),
                        "ConditionExpression": "attribute_exists(sk) AND attribute_not_exists(reversed_by)",
                    }
                }
            )
        extra.append(era_result_put(result))
        return self._write_claim(claim, actor=actor, new_status=new_status, detail=detail, ledger=[entry], extra=extra)

    def hold_reversal(
        self,
        claim: Claim,
        reversal: ClaimRemittance,
        *,
        actor: str,
        detail: dict[str, Any],
        result: EraResult,
        consume: Consume | None = None,
    ) -> Claim:
        """Keep a reversal on the claim until its original arrives (StaleItem if held already)."""
        held = {"pk": keys.claim_pk(claim.claim_id), "sk": keys.held_sk(reversal), "data": reversal.model_dump_json()}
        extra = [
            *self._consume_delete(consume),
            {"Put": {"Item": to_item(held), "ConditionExpression": "attribute_not_exists(sk)"}},
            era_result_put(result),
        ]
        return self._write_claim(claim, actor=actor, new_status=None, detail=detail, extra=extra)

    def record_not_posted(
        self, claim: Claim, *, actor: str, detail: dict[str, Any], result: EraResult, consume: Consume | None = None
    ) -> Claim:
        """A claim payment that moves no money on the claim: its event and the ERA's result."""
        extra = [*self._consume_delete(consume), era_result_put(result)]
        return self._write_claim(claim, actor=actor, new_status=None, detail=detail, extra=extra)

    def create_statement(self, account: str, cycle: str, record: dict[str, Any]) -> bool:
        """One statement per account and cycle: a conditional put (False if it is there)."""
        item = {"pk": keys.statement_pk(account), "sk": f"{keys.CYCLE}{cycle}", "data": json.dumps(record)}
        return self.put_if_absent(item)

    def statements_for(self, account: str) -> list[dict[str, Any]]:
        items = self._query_prefix(keys.statement_pk(account), keys.CYCLE)
        return [json.loads(item["data"]) for item in items]

    def post_staff_entry(self, claim: Claim, entry: LedgerEntry, *, actor: str, detail: dict[str, Any]) -> Claim:
        """A staff or patient entry with the claim and its event, in one transaction, once per source."""
        return self._write_claim(claim, actor=actor, new_status=None, detail=detail, ledger=[entry])

    def post_provider_adjustment(self, claim_id: str, entry: LedgerEntry) -> bool:
        """A PLB on the claim's ledger, once per source (the claim item is not touched). False if there."""
        return self.put_if_absent(self._ledger_fields(claim_id, entry))

    # --- unmatched remittance -----------------------------------------------------------------
    def record_unmatched_remittance(self, remittance: ClaimRemittance, *, unmatched_id: str, result: EraResult) -> bool:
        """Park a claim payment for a claim we do not know, with the ERA's result. False if parked already."""
        item = {
            **keys.unmatched_key(remittance),
            "status": UNMATCHED_STATUS,  # by-status index: the work queue
            "updated_at": utcnow().isoformat(),
            "unmatched_id": unmatched_id,
            "era_id": remittance.era_id,
            "position": remittance.position,
            "clp01": remittance.claim_id,
            "status_code": remittance.status_code,
            "charge": f"{remittance.charge:.2f}",
            "paid": f"{remittance.paid:.2f}",
            "payer_id": remittance.payer_id,
            "data": remittance.model_dump_json(),
        }
        return self._transact_if(
            [
                {"Put": {"Item": to_item(item), "ConditionExpression": "attribute_not_exists(sk)"}},
                era_result_put(result),
            ]
        )

    def unmatched_remittance(self, clp01: str, era_id: str, position: int) -> ClaimRemittance | None:
        item = self._get(keys.unmatched_pk(clp01), keys.unmatched_sk(era_id, position), consistent=False)
        return ClaimRemittance.model_validate_json(from_item(item)["data"]) if item else None

    def unmatched_remittances_for(self, clp01: str) -> list[ClaimRemittance]:
        return [
            ClaimRemittance.model_validate_json(item["data"])
            for item in self._query_prefix(keys.unmatched_pk(clp01), keys.REMIT)
        ]

    def discard_work_item(self, item: WorkItem) -> None:
        """Delete a held reversal or unmatched remittance (gone already is fine)."""
        self._client.delete_item(TableName=self.table_name, Key=self._work_item_key(item))

    # --- patients --------------------------------------------------------------------------
    def upsert_patient(self, patient_id: str, record: dict[str, Any]) -> bool:
        """Create or refresh the patient. True when the patient was new."""
        now = utcnow().isoformat()
        resp = self._client.update_item(
            TableName=self.table_name,
            Key=to_item({"pk": keys.patient_pk(patient_id), "sk": keys.PATIENT_SK}),
            UpdateExpression=("SET demographics = :d, updated_at = :u, created_at = if_not_exists(created_at, :u)"),
            ExpressionAttributeValues=to_item({":d": record, ":u": now}),
            # ALL_OLD, not UPDATED_OLD: moto leaves an attribute that if_not_exists kept out of
            # UPDATED_OLD, so every registration looked new there (the store contract test caught it).
            ReturnValues="ALL_OLD",
        )
        return "created_at" not in resp.get("Attributes", {})

    def get_patient(self, patient_id: str) -> dict[str, Any] | None:
        item = self._get(keys.patient_pk(patient_id), keys.PATIENT_SK, consistent=False)
        return from_item(item) if item else None

    # The match-key lookup item, PATIENTKEY#<sha256 hex of name + DOB + member id> / PATIENTKEY, maps
    # a person to their random patient id. The hash is derived from PHI: it stays in this table and
    # is never returned, logged or put in an event.
    def patient_id_for_match_key(self, key_hash: str) -> str | None:
        """The patient id recorded for this match key (consistent read), or None."""
        item = self._get(keys.patient_key_pk(key_hash), keys.PATIENTKEY_SK, ProjectionExpression="patient_id")
        return str(deserialize(item["patient_id"])) if item else None

    def claim_patient_key(self, key_hash: str, patient_id: str) -> bool:
        """Record `patient_id` for this match key unless one is already there. False if it was."""
        item = {"pk": keys.patient_key_pk(key_hash), "sk": keys.PATIENTKEY_SK, "patient_id": patient_id}
        return self._conditional("put_item", Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")

    # --- counters --------------------------------------------------------------------------
    def next_counter(self, name: str) -> int:
        """Atomic counter (X12 interchange control numbers must be unique and persistent)."""
        resp = self._client.update_item(
            TableName=self.table_name,
            Key=to_item({"pk": keys.counter_pk(name), "sk": keys.COUNTER_SK}),
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": "value"},
            ExpressionAttributeValues=to_item({":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        return int(deserialize(resp["Attributes"]["value"]))
