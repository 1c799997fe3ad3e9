"""The in-memory BillingStore (medbill.ports): claims, events, ledger, work items, patients and
counters here; ERA records in testkit/fake_era_store.py. Imported through testkit/fakes.py.

They keep the adapters' semantics, because the domain relies on them: a claim write is conditional
on the version read (ConcurrentUpdate) and all or nothing with its event, ledger entry, ERA result
and consumed work item; a ledger source posts once (AlreadyPosted); a consumed work item must still
be there, a reversed entry not reversed yet, an ERA result not "posted" already (StaleItem); creates
are idempotent (False the second time); listings come in the adapter's order (sort key order;
ERAs newest first) and page with opaque tokens that refuse another listing's (BadPageToken).
tests/integration/test_store_contract.py runs the same checks against this fake and DynamoDB.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from medbill.billing.worklists import worklist_of
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
    Page,
    PostingState,
    StaleItem,
    WorkItem,
)
from testkit.fake_era_store import FakeEraRecords
from testkit.fake_rows import as_stored, page_of


class FakeStore(FakeEraRecords):
    """ClaimStore and EraStore in memory (medbill.ports.BillingStore); the ERA records are
    FakeEraRecords'."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._init_era_records()
        self._claims: dict[str, Claim] = {}
        self._payees: dict[str, set[str]] = {}
        self._statements: dict[str, dict[str, dict[str, Any]]] = {}
        self._interchanges: dict[int, set[str]] = {}
        self._events: dict[str, dict[str, ClaimEvent]] = {}
        self._ledger: dict[str, dict[str, LedgerEntry]] = {}
        self._held: dict[str, dict[tuple[str, str], HeldReversal]] = {}
        self._unmatched: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._patients: dict[str, dict[str, Any]] = {}
        self._patient_keys: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._eligibility_answers: dict[tuple[str, str], dict[str, Any]] = {}
        self.writes = 0  # claim writes that committed (tests count transactions)
        self.before_write: Callable[[Claim], None] | None = None  # a hook to stage races

    # --- claims ----------------------------------------------------------------------------------
    def create_claim(self, claim: Claim, actor: str = "intake") -> bool:
        with self._lock:
            if claim.claim_id in self._claims:
                return False
            self._claims[claim.claim_id] = claim.model_copy(deep=True)
            self._event(claim, actor, None, {"source_key": claim.source_key})
            self._payees.setdefault(claim.encounter.billing_provider.npi, set()).add(claim.clinic_id)
            return True

    def payee_clinics(self, npi: str) -> list[str]:
        return sorted(self._payees.get(npi, set())) if npi else []

    def get_claim(self, claim_id: str) -> Claim:
        with self._lock:
            if claim_id not in self._claims:
                raise ClaimNotFound(claim_id)
            return self._claims[claim_id].model_copy(deep=True)

    def claim_exists(self, claim_id: str) -> bool:
        return claim_id in self._claims

    def _event(self, claim: Claim, actor: str, old: ClaimStatus | None, detail: dict[str, Any]) -> None:
        at = claim.updated_at.isoformat()
        self._events.setdefault(claim.claim_id, {})[f"{at}#{claim.version:06d}"] = ClaimEvent(
            at=at,
            actor=actor,
            old_status=old.value if old else None,
            new_status=claim.status.value,
            detail=json.loads(json.dumps(detail, sort_keys=True, default=str)),
            version=claim.version,
        )

    def save(
        self,
        claim: Claim,
        *,
        actor: str,
        new_status: ClaimStatus | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Claim:
        return self._write(claim, actor=actor, new_status=new_status, detail=detail or {})

    def _write(
        self,
        claim: Claim,
        *,
        actor: str,
        new_status: ClaimStatus | None,
        detail: dict[str, Any],
        entry: LedgerEntry | None = None,
        checks: Sequence[Callable[[], bool]] = (),
        apply: Callable[[], None] = lambda: None,
    ) -> Claim:
        """The adapter's transaction: the version condition, the ledger source, then the other
        items' conditions (`checks`), all before anything is written."""
        try:
            Claim.model_validate(claim.model_dump())
        except ValidationError as err:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in err.errors()})
            raise InvalidClaimUpdate(f"claim {claim.claim_id}: invalid {', '.join(fields)}") from None
        if self.before_write is not None:
            self.before_write(claim)
        with self._lock:
            current = self._claims.get(claim.claim_id)
            if current is None or current.version != claim.version:
                raise ConcurrentUpdate(claim.claim_id)
            if entry is not None and entry.source in self._ledger.get(claim.claim_id, {}):
                raise AlreadyPosted(claim.claim_id)
            if not all(check() for check in checks):
                raise StaleItem(claim.claim_id)
            updated = claim.model_copy(
                update={
                    "status": new_status or claim.status,
                    "version": claim.version + 1,
                    "updated_at": max(utcnow(), claim.updated_at),
                },
                deep=True,
            )
            self._claims[claim.claim_id] = updated
            self._event(updated, actor, claim.status if new_status else None, detail)
            if entry is not None:
                self._ledger.setdefault(claim.claim_id, {})[entry.source] = entry.model_copy(deep=True)
            apply()
            self.writes += 1
            return updated.model_copy(deep=True)

    def events(self, claim_id: str) -> list[ClaimEvent]:
        return [e for _, e in sorted(self._events.get(claim_id, {}).items())]

    def forget_claims(self, claim_ids: Sequence[str]) -> None:
        """Drop claims and their partition (events, ledger, held reversals) once a run has checked
        them: not a port operation (DynamoDB keeps everything), it bounds a long run's memory (the
        million-claim ERA run, testkit/era_posting_run.py). ERA records and results stay."""
        with self._lock:
            for claim_id in claim_ids:
                for items in (self._claims, self._events, self._ledger, self._held):
                    items.pop(claim_id, None)

    def list_claims(
        self, *, status: str | None = None, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page:
        # The index order: by-status sorts on updated_at, by-clinic on the date of service.
        rows: list[tuple[list[str], Claim]]
        if status:
            rows = [
                ([c.updated_at.isoformat(), c.claim_id], c) for c in self._claims.values() if c.status.value == status
            ]
            rows = [(k, c) for k, c in rows if not clinic_id or c.clinic_id == clinic_id]
        elif clinic_id:
            rows = [([c.date_of_service, c.claim_id], c) for c in self._claims.values() if c.clinic_id == clinic_id]
        else:
            rows = [([c.claim_id], c) for c in self._claims.values()]
        rows.sort(key=lambda row: row[0])
        items, token = page_of(rows, limit, next_token, f"claims:{status}:{clinic_id}")
        return Page([c.model_copy(deep=True) for c in items], token)

    def worklist(
        self, name: str, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page:
        rows = []
        for c in self._claims.values():
            on_list = worklist_of(c)
            if on_list and on_list[0] == name and (clinic_id is None or c.clinic_id == clinic_id):
                rows.append(([on_list[1]], c))
        rows.sort(key=lambda row: row[0])
        items, token = page_of(rows, limit, next_token, f"worklist:{name}:{clinic_id}")
        return Page([c.model_copy(deep=True) for c in items], token)

    # --- ledger and posting -------------------------------------------------------------------
    def ledger_entries(self, claim_id: str) -> list[LedgerEntry]:
        return [e.model_copy(deep=True) for _, e in sorted(self._ledger.get(claim_id, {}).items())]

    def ledger(self, claim_id: str) -> list[dict[str, Any]]:
        entries = sorted(self.ledger_entries(claim_id), key=lambda e: (e.posted_at, e.source))
        return [e.model_dump(mode="json") for e in entries]

    def held_reversals(self, claim_id: str) -> list[HeldReversal]:
        with self._lock:
            return [h for _, h in sorted(self._held.get(claim_id, {}).items())]

    def posting_state(self, claim_id: str) -> PostingState:
        with self._lock:
            return PostingState(self.ledger_entries(claim_id), self.held_reversals(claim_id))

    @staticmethod
    def _held_key(reversal: ClaimRemittance) -> tuple[str, str]:
        return (str(reversal.payer_claim_number), reversal.source)

    @staticmethod
    def _unmatched_key(remit: ClaimRemittance) -> tuple[str, str, int]:
        return (remit.claim_id, remit.era_id, remit.position)

    def _work_item_there(self, item: WorkItem) -> bool:
        if isinstance(item, HeldReversal):
            return self._held_key(item.remittance) in self._held.get(item.claim_id, {})
        return self._unmatched_key(item.remittance) in self._unmatched

    def discard_work_item(self, item: WorkItem) -> None:
        with self._lock:
            if isinstance(item, HeldReversal):
                self._held.get(item.claim_id, {}).pop(self._held_key(item.remittance), None)
            else:
                self._unmatched.pop(self._unmatched_key(item.remittance), None)

    def _consume(self, consume: Consume | None) -> tuple[list[Callable[[], bool]], Callable[[], None]]:
        if consume is None:
            return [], lambda: None
        checks = [lambda: self._work_item_there(consume.item)] if consume.must_exist else []
        return checks, lambda: self.discard_work_item(consume.item)

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
        checks, consumed = self._consume(consume)
        ledger = self._ledger.setdefault(claim.claim_id, {})
        if reversed_entry is not None:
            source = reversed_entry.source
            checks.append(lambda: source in ledger and ledger[source].reversed_by is None)
        checks.append(lambda: self._result_writable(result))

        def apply() -> None:
            consumed()
            if reversed_entry is not None:
                ledger[reversed_entry.source] = reversed_entry.model_copy(deep=True)
            self._put_result(result)

        return self._write(
            claim, actor=actor, new_status=new_status, detail=detail, entry=entry, checks=checks, apply=apply
        )

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
        checks, consumed = self._consume(consume)
        held = self._held.setdefault(claim.claim_id, {})
        key = self._held_key(reversal)
        checks += [lambda: key not in held, lambda: self._result_writable(result)]

        def apply() -> None:
            consumed()
            held[key] = HeldReversal(claim.claim_id, reversal)
            self._put_result(result)

        return self._write(claim, actor=actor, new_status=None, detail=detail, checks=checks, apply=apply)

    def record_not_posted(
        self, claim: Claim, *, actor: str, detail: dict[str, Any], result: EraResult, consume: Consume | None = None
    ) -> Claim:
        checks, consumed = self._consume(consume)
        checks.append(lambda: self._result_writable(result))

        def apply() -> None:
            consumed()
            self._put_result(result)

        return self._write(claim, actor=actor, new_status=None, detail=detail, checks=checks, apply=apply)

    def create_statement(self, account: str, cycle: str, record: dict[str, Any]) -> bool:
        with self._lock:
            cycles = self._statements.setdefault(account, {})
            if cycle in cycles:
                return False
            cycles[cycle] = json.loads(json.dumps(record))
            return True

    def statements_for(self, account: str) -> list[dict[str, Any]]:
        return [record for _, record in sorted(self._statements.get(account, {}).items())]

    def post_staff_entry(self, claim: Claim, entry: LedgerEntry, *, actor: str, detail: dict[str, Any]) -> Claim:
        return self._write(
            claim, actor=actor, new_status=None, detail=detail, entry=entry, checks=[], apply=lambda: None
        )

    def post_provider_adjustment(self, claim_id: str, entry: LedgerEntry) -> bool:
        with self._lock:
            ledger = self._ledger.setdefault(claim_id, {})
            if entry.source in ledger:
                return False
            ledger[entry.source] = entry.model_copy(deep=True)
            return True

    # --- unmatched remittance -----------------------------------------------------------------
    def record_unmatched_remittance(self, remittance: ClaimRemittance, *, unmatched_id: str, result: EraResult) -> bool:
        key = self._unmatched_key(remittance)
        with self._lock:
            if key in self._unmatched or not self._result_writable(result):
                return False
            self._unmatched[key] = {
                "remittance": remittance,
                "item": as_stored(
                    {
                        "status": UNMATCHED_STATUS,
                        "updated_at": utcnow().isoformat(),
                        "unmatched_id": unmatched_id,
                        "era_id": remittance.era_id,
                        "position": remittance.position,
                        "clp01": remittance.claim_id,
                        "status_code": remittance.status_code,
                        "charge": f"{remittance.charge:.2f}",
                        "paid": f"{remittance.paid:.2f}",
                        "payer_id": remittance.payer_id,
                    }
                ),
            }
            self._put_result(result)
            return True

    def unmatched_remittance(self, clp01: str, era_id: str, position: int) -> ClaimRemittance | None:
        found = self._unmatched.get((clp01, era_id, position))
        return found["remittance"] if found else None

    def unmatched_remittances_for(self, clp01: str) -> list[ClaimRemittance]:
        return [v["remittance"] for k, v in sorted(self._unmatched.items()) if k[0] == clp01]

    def list_unmatched_remittance(
        self, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        rows = sorted(
            ([v["item"]["updated_at"], *map(str, k)], copy.deepcopy(v["item"])) for k, v in self._unmatched.items()
        )
        return page_of(rows, limit, next_token, "unmatched")

    # --- patients and counters -----------------------------------------------------------------
    def patient_id_for_match_key(self, key_hash: str) -> str | None:
        return self._patient_keys.get(key_hash)

    def claim_patient_key(self, key_hash: str, patient_id: str) -> bool:
        with self._lock:
            if key_hash in self._patient_keys:
                return False
            self._patient_keys[key_hash] = patient_id
            return True

    def upsert_patient(self, patient_id: str, record: dict[str, Any]) -> bool:
        with self._lock:
            new = patient_id not in self._patients
            now = utcnow().isoformat()
            created = self._patients.get(patient_id, {}).get("created_at", now)
            self._patients[patient_id] = {
                "demographics": copy.deepcopy(record),
                "updated_at": now,
                "created_at": created,
            }
            return new

    def get_patient(self, patient_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._patients.get(patient_id))

    def next_counter(self, name: str) -> int:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + 1
            return self._counters[name]

    # --- eligibility answers kept for a day (EligibilityAnswers) -----------------------------------
    def cached_eligibility(self, key: str, day: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._eligibility_answers.get((key, day))
            return json.loads(json.dumps(record)) if record is not None else None

    def cache_eligibility(self, key: str, day: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._eligibility_answers[(key, day)] = json.loads(json.dumps(record))

    def record_interchange(self, control_number: int, claim_id: str) -> None:
        with self._lock:
            self._interchanges.setdefault(control_number, set()).add(claim_id)

    def claims_for_interchange(self, control_number: int) -> list[str]:
        return sorted(self._interchanges.get(control_number, set()))
