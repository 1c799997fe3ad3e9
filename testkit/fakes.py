"""In-memory fakes of every port (medbill.ports), for domain tests and benchmarks that need no AWS
emulator (tests import them through tests/fakes.py too).

They keep the adapters' semantics, because the domain relies on them: a claim write is conditional
on the version read (ConcurrentUpdate) and all or nothing with its event, ledger entry, ERA result
and consumed work item; a ledger source posts once (AlreadyPosted); a consumed work item must still
be there, a reversed entry not reversed yet, an ERA result not "posted" already (StaleItem); creates
are idempotent (False the second time); listings come in the adapter's order (sort key order;
ERAs newest first) and page with opaque tokens that refuse another listing's (BadPageToken).
tests/integration/test_store_contract.py runs the same checks against this fake and DynamoDB.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from medbill.billing.worklists import worklist_of
from medbill.models.claim import Claim
from medbill.models.common import utcnow
from medbill.models.eligibility import EligibilityInquiry, EligibilityResult
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.models.status import ClaimStatus
from medbill.ports import (
    UNMATCHED_STATUS,
    AccessRecord,
    AlreadyPosted,
    BadPageToken,
    ClaimEvent,
    ClaimNotFound,
    ConcurrentUpdate,
    Consume,
    EraResult,
    HeldReversal,
    InvalidClaimUpdate,
    ObjectReplaced,
    ObjectStat,
    ObjectVersion,
    Page,
    PostingState,
    QueueSendError,
    StaleItem,
    WorkItem,
    execution_name,
)


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """As DynamoDB keeps a map: no None attributes, whole numbers read back as int."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, float):
            raise TypeError("DynamoDB takes no float: money is Decimal")
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in copy.deepcopy(data).items() if v is not None}


def _token(listing: str, after: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"l": listing, "a": after}).encode()).decode()


def _after(token: str | None, listing: str) -> Any:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as err:
        raise BadPageToken("next_token is not a token this API issued") from err
    if not isinstance(data, dict) or data.get("l") != listing:
        raise BadPageToken("next_token belongs to another listing")
    return data["a"]


def _page(rows: list[tuple[Any, Any]], limit: int, token: str | None, listing: str) -> tuple[list[Any], str | None]:
    """rows: (sort key, item) in listing order; the page after the token's sort key."""
    after = _after(token, listing)
    if after is not None:
        keys = [json.loads(json.dumps(k)) for k, _ in rows]
        rows = rows[next((i + 1 for i, k in enumerate(keys) if k == after), len(rows)) :]
    page = rows[:limit]
    more = len(rows) > limit
    return [item for _, item in page], _token(listing, page[-1][0]) if more and page else None


class FakeStore:
    """ClaimStore and EraStore in memory (medbill.ports.BillingStore)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._claims: dict[str, Claim] = {}
        self._payees: dict[str, set[str]] = {}
        self._clinic_era_lists: dict[str, dict[str, str]] = {}  # billing provider NPI -> clinics (the payee directory)
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
        self._eras: dict[str, dict[str, Any]] = {}
        self._era_list: dict[str, str] = {}  # received_at#era_id -> era_id
        self._era_files: dict[str, set[str]] = {}
        self._results: dict[str, dict[int, dict[str, Any]]] = {}
        self._sent: dict[str, dict[int, list[tuple[int, str]]]] = {}
        self._plbs: dict[str, dict[int, dict[str, Any]]] = {}
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
        items, token = _page(rows, limit, next_token, f"claims:{status}:{clinic_id}")
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
        items, token = _page(rows, limit, next_token, f"worklist:{name}:{clinic_id}")
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

    def _result_writable(self, result: EraResult) -> bool:
        return self._results.get(result.era_id, {}).get(result.position, {}).get("result") != "posted"

    def _put_result(self, result: EraResult) -> None:
        self._results.setdefault(result.era_id, {})[result.position] = _stored(
            {"position": result.position, **result.fields}
        )

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
                "item": _stored(
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
        return _page(rows, limit, next_token, "unmatched")

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

    # --- ERA payments ----------------------------------------------------------------------------
    def get_era(self, era_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._eras.get(era_id))

    def create_era(self, era_id: str, record: dict[str, Any]) -> bool:
        with self._lock:
            if era_id in self._eras:
                return False
            self._eras[era_id] = _stored({"era_id": era_id, **record})
            self._era_list[f"{record['received_at']}#{era_id}"] = era_id
            for clinic in self.payee_clinics(str(record.get("payee_npi") or "")):
                self._clinic_era_lists.setdefault(clinic, {})[f"{record['received_at']}#{era_id}"] = era_id
            self._era_files.setdefault(record["file_id"], set()).add(era_id)
            return True

    def rewrite_era(self, era_id: str, record: dict[str, Any]) -> bool:
        with self._lock:
            if self._eras.get(era_id, {}).get("file_id") != record["file_id"]:
                return False
            self._eras[era_id] = _stored({"era_id": era_id, **record})
            return True

    def add_era_duplicate(self, era_id: str, source_key: str) -> None:
        with self._lock:
            header = self._eras[era_id]  # KeyError: the adapter's condition (the header exists) failed
            header["duplicate_keys"] = set(header.get("duplicate_keys") or set()) | {source_key}
            header["updated_at"] = utcnow().isoformat()

    def requarantine_era(self, era_id: str, file_id: str, problems: list[str]) -> bool:
        with self._lock:
            header = self._eras.get(era_id)
            if header is None or header.get("era_status") != "RELEASED" or header.get("file_id") != file_id:
                return False
            header.update(era_status="QUARANTINED", problems=list(problems), updated_at=utcnow().isoformat())
            return True

    def update_era_status(self, era_id: str, status: str, expected: str | None = None) -> bool:
        with self._lock:
            header = self._eras.get(era_id)
            if expected and (header is None or header.get("era_status") != expected):
                return False
            header = self._eras.setdefault(era_id, {})  # an update creates the item, as DynamoDB's does
            header.update(era_status=status, updated_at=utcnow().isoformat())
            return True

    def era_ids_for_file(self, file_id: str) -> list[str]:
        return sorted(self._era_files.get(file_id, set()))

    def advance_era_fanout(self, era_id: str, file_id: str, done: int) -> bool:
        with self._lock:
            header = self._eras.get(era_id)
            if header is None or header.get("file_id") != file_id or int(header.get("fanout_done", -1)) >= done:
                return False
            header.update(fanout_done=done, updated_at=utcnow().isoformat())
            return True

    def record_era_sent(self, era_id: str, sent: list[tuple[int, str]]) -> None:
        if sent:
            self._sent.setdefault(era_id, {})[sent[0][0]] = list(sent)

    def era_sent(self, era_id: str) -> list[tuple[int, str]]:
        return [pair for _, batch in sorted(self._sent.get(era_id, {}).items()) for pair in batch]

    def record_era_result(self, result: EraResult) -> bool:
        with self._lock:
            if not self._result_writable(result):
                return False
            self._put_result(result)
            return True

    def era_result(self, era_id: str, position: int) -> dict[str, Any] | None:
        return copy.deepcopy(self._results.get(era_id, {}).get(position))

    def era_results(self, era_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for _, r in sorted(self._results.get(era_id, {}).items())]

    def era_result_counts(self, era_id: str) -> tuple[int, int]:
        results = self._results.get(era_id, {}).values()
        return len(results), sum(1 for r in results if r.get("result") == "unmatched")

    def record_provider_adjustment(self, era_id: str, number: int, fields: dict[str, Any]) -> bool:
        with self._lock:
            plbs = self._plbs.setdefault(era_id, {})
            if number in plbs:
                return False
            plbs[number] = _stored(fields)
            return True

    def provider_adjustments(self, era_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(p) for _, p in sorted(self._plbs.get(era_id, {}).items())]

    def list_eras(
        self, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        listing = self._era_list if clinic_id is None else self._clinic_era_lists.get(clinic_id, {})
        rows = sorted(listing.items(), reverse=True)
        era_ids, token = _page(rows, limit, next_token, f"eras:{clinic_id}")
        return [copy.deepcopy(self._eras[e]) for e in era_ids if e in self._eras], token

    def era_claims_token(self, era_id: str, position: int) -> str:
        return _token(f"era:{era_id}", position)

    def era_claims_after(self, era_id: str, token: str) -> int:
        after = _after(token, f"era:{era_id}")
        if not isinstance(after, int) or isinstance(after, bool):
            raise BadPageToken("next_token is not a token this API issued")
        return after


# --- artifacts, workflow, queues, eligibility ------------------------------------------------------
class FakeArtifacts:
    """Artifacts (S3) in memory; reading a key never written fails, as S3's NoSuchKey does. Each write
    is a new version (ETag: the MD5 of the bytes, as S3's for a single-part upload); `versioned` keeps
    the earlier ones readable by version id, as a versioned bucket does. A read pinned to a version the
    key no longer holds raises ObjectReplaced, as the S3 adapter does."""

    def __init__(self, chunk_size: int = 64 * 1024, *, versioned: bool = False) -> None:
        self.files: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.chunk_size = chunk_size
        self.versioned = versioned
        self.versions: dict[str, dict[str, bytes]] = {}  # key -> version id -> bytes (versioned only)
        self.current_version: dict[str, str] = {}
        self.bytes_read = 0  # bytes handed out by read() and open()
        self.heads = 0

    def read(self, key: str) -> bytes:
        if key not in self.files:
            raise KeyError(f"no object {key}")
        self.bytes_read += len(self.files[key])
        return self.files[key]

    def stat(self, key: str) -> ObjectStat:
        if key not in self.files:
            raise KeyError(f"no object {key}")
        self.heads += 1
        return ObjectStat(size=len(self.files[key]), version=self._version(key))

    def _version(self, key: str) -> ObjectVersion:
        etag = hashlib.md5(self.files[key], usedforsecurity=False).hexdigest()
        return ObjectVersion(etag=etag, version_id=self.current_version.get(key))

    def _body(self, key: str, version: ObjectVersion | None) -> bytes:
        if version is None:
            if key not in self.files:
                raise KeyError(f"no object {key}")
            return self.files[key]
        if version.version_id:
            if version.version_id not in self.versions.get(key, {}):
                raise ObjectReplaced(key)
            return self.versions[key][version.version_id]
        if key not in self.files or self._version(key).etag != version.etag:
            raise ObjectReplaced(key)  # If-Match failed
        return self.files[key]

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterator[bytes]:
        """Chunks of `chunk_size` from `start`; `bytes_read` counts what a reader took."""
        body = memoryview(self._body(key, version))
        for at in range(start, len(body), self.chunk_size):
            chunk = bytes(body[at : at + self.chunk_size])
            self.bytes_read += len(chunk)
            yield chunk

    def delete(self, key: str) -> None:
        self.files.pop(key, None)
        self.current_version.pop(key, None)

    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        self.files[key] = body.encode() if isinstance(body, str) else body
        self.content_types[key] = content_type
        if self.versioned:
            version_id = f"v{sum(len(v) for v in self.versions.values()) + 1}"
            self.versions.setdefault(key, {})[version_id] = self.files[key]
            self.current_version[key] = version_id

    def write_json(self, key: str, document: dict[str, Any]) -> None:
        self.write(key, json.dumps(document, indent=2, sort_keys=True, default=str), "application/json")

    def read_json(self, key: str) -> Any:
        return json.loads(self.read(key))

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.files if k.startswith(prefix))


class FakeClinicProfileFiles:
    """ClinicProfileFiles (config/clinics/<clinic_id>.json) in memory; `reads` counts the port's reads."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.reads = 0

    def read_profile(self, clinic_id: str) -> bytes | None:
        self.reads += 1
        return self.files.get(clinic_id)

    def write_profile(self, clinic_id: str, body: bytes) -> None:
        self.files[clinic_id] = body


class FakeWorkflow:
    """Workflow (Step Functions): executions named by claim id, started once; every resume recorded.
    A token in `ended` has timed out or been used: resume says False, as SendTaskSuccess's errors do."""

    def __init__(self) -> None:
        self.started: dict[str, str] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.ended: set[str] = set()
        self.statuses: dict[str, str] = {}  # execution name -> status (set by tests)
        self.resume_error: Exception | None = None  # SendTaskSuccess fails (throttled, unavailable)
        self.start_error: Exception | None = None  # StartExecution fails
        self._lock = threading.Lock()

    def start_claim(self, claim_id: str, clinic_id: str) -> bool:
        with self._lock:
            if claim_id in self.started:
                return False
            self.started[claim_id] = clinic_id
            return True

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        with self._lock:
            if self.resume_error is not None:
                raise self.resume_error
            if task_token in self.ended:
                return False
            self.resumed.append((task_token, output))
            return True

    # Executions (workflow.recovery): an execution's status is RUNNING once started, until a test
    # sets it in `statuses` (by execution name).
    def start_attempt(self, claim_id: str, clinic_id: str, attempt: int) -> bool:
        name = execution_name(claim_id, attempt)
        with self._lock:
            if self.start_error is not None:
                raise self.start_error
            if name in self.started:
                return False
            self.started[name] = clinic_id
            self.statuses[name] = "RUNNING"
            return True

    def execution_status(self, claim_id: str, attempt: int) -> str | None:
        name = execution_name(claim_id, attempt)
        with self._lock:
            return self.statuses.get(name, "RUNNING" if name in self.started else None)

    def failed_executions(self) -> list[str]:
        with self._lock:
            return [n for n, st in self.statuses.items() if st in ("FAILED", "TIMED_OUT", "ABORTED")]


@dataclass
class CollectingQueue:
    """PostingQueue that keeps the messages, so the test posts them when and how it likes."""

    messages: list[ClaimRemittance] = field(default_factory=list)
    sends: int = 0
    fail: bool = False

    def send(self, remittances: Sequence[ClaimRemittance]) -> int:
        if self.fail:
            raise QueueSendError(f"{len(remittances)} posting messages could not be queued")
        self.sends += 1
        # Round-trip through JSON exactly as SQS would carry the message.
        self.messages.extend(ClaimRemittance.model_validate_json(r.model_dump_json()) for r in remittances)
        return len(remittances)

    def take(self) -> list[ClaimRemittance]:
        out, self.messages = self.messages, []
        return out


@dataclass
class ReleaseRequests:
    """ReleaseQueue: the release requests a person made."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def release(
        self, source_key: str, file_id: str, released_by: str, *, encoding: str | None = None, recheck: bool = False
    ) -> None:
        if self.fail:
            raise QueueSendError("REMITTANCE_QUEUE_URL is not configured for this function")
        request: dict[str, Any] = {"source_key": source_key, "file_id": file_id, "released_by": released_by}
        if encoding:
            request.update(encoding=encoding, recheck=recheck)
        self.requests.append(request)


@dataclass
class IntakeContinuations:
    """IntakeQueue: where long encounter files continue."""

    continuations: list[tuple[str, int]] = field(default_factory=list)
    resumes: list[dict[str, Any] | None] = field(default_factory=list)
    versions: list[dict[str, Any] | None] = field(default_factory=list)

    def send_continuation(
        self,
        key: str,
        from_record: int,
        resume: dict[str, Any] | None = None,
        version: dict[str, Any] | None = None,
    ) -> None:
        self.continuations.append((key, from_record))
        self.resumes.append(resume)
        self.versions.append(version)


@dataclass
class FakeEligibility:
    """EligibilityGateway: active unless a (payer, member) answer says otherwise."""

    answers: dict[tuple[str, str], EligibilityResult] = field(default_factory=dict)
    checked: list[tuple[str, str, date]] = field(default_factory=list)

    def check(self, payer_id: str, member_id: str, date_of_service: date) -> EligibilityResult:
        self.checked.append((payer_id, member_id, date_of_service))
        return self.answers.get((payer_id, member_id), EligibilityResult(active=True, plan="PPO"))

    def verify(self, inquiry: EligibilityInquiry) -> EligibilityResult:
        """As the CORE adapter answers: the result is for the service type asked (EQ01)."""
        result = self.check(inquiry.payer_id, inquiry.member_id, inquiry.date_of_service)
        return replace(result, service_type=result.service_type or inquiry.service_type)


@contextmanager
def racing(store: FakeStore, claim_id: str, rival: Callable[[], None]) -> Iterator[None]:
    """Run `rival` (another writer) once, just before the next write of `claim_id` commits: that
    write then loses the version race, as a concurrent Lambda's would."""
    done = False

    def hook(claim: Claim) -> None:
        nonlocal done
        if claim.claim_id == claim_id and not done:
            done = True
            store.before_write = None
            rival()
            store.before_write = hook

    store.before_write = hook
    try:
        yield
    finally:
        store.before_write = None


if TYPE_CHECKING:  # the fakes implement the ports (mypy testkit/fakes.py checks it)
    from medbill.ports import (
        Artifacts,
        BillingStore,
        EligibilityAnswers,
        EligibilityGateway,
        Executions,
        IntakeQueue,
        PostingQueue,
        ReleaseQueue,
        Workflow,
    )

    _store: BillingStore = FakeStore()
    _artifacts: Artifacts = FakeArtifacts()
    _workflow: Workflow = FakeWorkflow()
    _executions: Executions = FakeWorkflow()
    _posting: PostingQueue = CollectingQueue()
    _release: ReleaseQueue = ReleaseRequests()
    _intake: IntakeQueue = IntakeContinuations()
    _eligibility: EligibilityGateway = FakeEligibility()
    _answers: EligibilityAnswers = FakeStore()


class FakeAccessAudit:
    """medbill.ports.AccessAudit in memory: append-only, newest first, one record per request."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, AccessRecord]] = {}

    def record_access(self, record: AccessRecord) -> None:
        key = f"{record.at}#{record.request_id}#{record.action}"
        self.records.setdefault((record.resource, record.resource_id), {}).setdefault(key, record)

    def access_log(
        self, resource: str, resource_id: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[AccessRecord], str | None]:
        rows = sorted(self.records.get((resource, resource_id), {}).items(), reverse=True)
        start = int(next_token) if next_token else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return [r for _, r in page], str(start + limit) if more else None
