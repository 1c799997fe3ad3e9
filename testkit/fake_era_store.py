"""The ERA half of the in-memory store (medbill.ports.EraStore): ERA payment records, their fan-out
checkpoints, per-claim results and provider-level adjustments. FakeStore (testkit/fake_store.py)
holds the claims and builds on this; the semantics are the DynamoDB adapter's
(tests/integration/test_store_contract.py checks both)."""

from __future__ import annotations

import copy
import threading
from typing import Any

from medbill.models.common import utcnow
from medbill.ports import BadPageToken, EraResult
from testkit.fake_rows import as_stored, page_of, page_token, token_position


class FakeEraRecords:
    _lock: threading.RLock

    def _init_era_records(self) -> None:
        self._clinic_era_lists: dict[str, dict[str, str]] = {}  # billing provider NPI -> clinics (the payee directory)
        self._eras: dict[str, dict[str, Any]] = {}
        self._era_list: dict[str, str] = {}  # received_at#era_id -> era_id
        self._era_files: dict[str, set[str]] = {}
        self._results: dict[str, dict[int, dict[str, Any]]] = {}
        self._sent: dict[str, dict[int, list[tuple[int, str]]]] = {}
        self._plbs: dict[str, dict[int, dict[str, Any]]] = {}

    def payee_clinics(self, npi: str) -> list[str]:
        """The clinics billing under this NPI (the claims side knows them)."""
        raise NotImplementedError

    def _result_writable(self, result: EraResult) -> bool:
        return self._results.get(result.era_id, {}).get(result.position, {}).get("result") != "posted"

    def _put_result(self, result: EraResult) -> None:
        self._results.setdefault(result.era_id, {})[result.position] = as_stored(
            {"position": result.position, **result.fields}
        )

    def get_era(self, era_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._eras.get(era_id))

    def create_era(self, era_id: str, record: dict[str, Any]) -> bool:
        with self._lock:
            if era_id in self._eras:
                return False
            self._eras[era_id] = as_stored({"era_id": era_id, **record})
            self._era_list[f"{record['received_at']}#{era_id}"] = era_id
            for clinic in self.payee_clinics(str(record.get("payee_npi") or "")):
                self._clinic_era_lists.setdefault(clinic, {})[f"{record['received_at']}#{era_id}"] = era_id
            self._era_files.setdefault(record["file_id"], set()).add(era_id)
            return True

    def rewrite_era(self, era_id: str, record: dict[str, Any]) -> bool:
        with self._lock:
            if self._eras.get(era_id, {}).get("file_id") != record["file_id"]:
                return False
            self._eras[era_id] = as_stored({"era_id": era_id, **record})
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
            plbs[number] = as_stored(fields)
            return True

    def provider_adjustments(self, era_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(p) for _, p in sorted(self._plbs.get(era_id, {}).items())]

    def list_eras(
        self, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        listing = self._era_list if clinic_id is None else self._clinic_era_lists.get(clinic_id, {})
        rows = sorted(listing.items(), reverse=True)
        era_ids, token = page_of(rows, limit, next_token, f"eras:{clinic_id}")
        return [copy.deepcopy(self._eras[e]) for e in era_ids if e in self._eras], token

    def era_claims_token(self, era_id: str, position: int) -> str:
        return page_token(f"era:{era_id}", position)

    def era_claims_after(self, era_id: str, token: str) -> int:
        after = token_position(token, f"era:{era_id}")
        if not isinstance(after, int) or isinstance(after, bool):
            raise BadPageToken("next_token is not a token this API issued")
        return after
