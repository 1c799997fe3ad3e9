"""An ERA payment's claim payments fanned out to the posting queue a chunk at a time, resumable.

The check (`era_ingestion`) turns every claim payment into one line: `M` + its posting message
(ERA ids filled in here), or `N` + the result of one that cannot be posted. A file of at most
`CHUNK_CLAIMS` claim payments keeps its lines in memory and is fanned out at once, as before. A
bigger one writes them to `era-work/<file id>/<payment>/<chunk>.jsonl` as they fill (memory stays
flat whatever the file's size), and the ERA record says how many chunks there are
(`fanout_chunks`) and how many steps are done (`fanout_done`: each chunk is a step, the provider
adjustments the last). Before each step the caller's clock is asked; out of time, the remittance
Lambda queues a `continue_era` message and the next invocation resumes at the checkpoint.

Redelivery is harmless: a step done again re-sends messages whose ledger entries exist (posting
is idempotent by source) and re-records the same results; the checkpoint only moves forward.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from medbill.billing.era_records import NOT_POSTED
from medbill.models.common import utcnow
from medbill.models.remittance import ClaimRemittance, LedgerEntry
from medbill.ports import Artifacts, BillingStore, EraResult, PostingQueue
from medbill.prefixes import ERA_WORK_PREFIX
from medbill.x12.remittance835 import ProviderAdjustment

CHUNK_CLAIMS = 5000  # claim payments per chunk (a step): ~500 SendMessageBatch calls
SEND_EVERY = 500  # posting messages recorded as sent (one item) and queued together
MESSAGE = "M"
NOT_POSTABLE = "N"

OutOfTime = Callable[[], bool]


class StagingError(Exception):
    """A chunk of posting messages could not be written to (or read from) S3: a retry can help."""


def never() -> bool:
    return False


class Budget:
    """The caller's clock, asked before each step but the first of an invocation: every invocation
    moves the fan-out on by at least one step, so continuations always finish."""

    def __init__(self, out_of_time: OutOfTime) -> None:
        self._out_of_time = out_of_time
        self.steps = 0

    def exhausted(self) -> bool:
        return self.steps > 0 and self._out_of_time()


class ChunkStore:
    """The lines of one file's payments, a chunk per `CHUNK_CLAIMS`: in memory while the whole file
    fits in one chunk, else written to S3 as each fills (`staged`)."""

    def __init__(self, store: Artifacts, file_id: str, *, written: dict[int, int] | None = None) -> None:
        """`written`: the chunks a check already wrote, per payment (a resumed fan-out reads them)."""
        self.store = store
        self.file_id = file_id
        self.staged = written is not None
        self._open: dict[int, list[str]] = {}  # the chunk being filled, per payment
        self._written: dict[int, int] = dict(written or {})  # chunks written, per payment
        self._total = 0

    def key(self, payment: int, chunk: int) -> str:
        return f"{ERA_WORK_PREFIX}{self.file_id}/{payment:04d}/{chunk:06d}.jsonl"

    def _plb_key(self, payment: int) -> str:
        return f"{ERA_WORK_PREFIX}{self.file_id}/{payment:04d}/plb.json"

    def add(self, payment: int, line: str) -> None:
        if not self.staged and self._total >= CHUNK_CLAIMS:
            self.staged = True  # past one chunk: what is held goes to S3, and every chunk from now on
            for p in list(self._open):
                self._flush(p)
        lines = self._open.setdefault(payment, [])
        lines.append(line)
        self._total += 1
        if self.staged and len(lines) >= CHUNK_CLAIMS:
            self._flush(payment)

    def _flush(self, payment: int) -> None:
        lines = self._open.pop(payment, [])
        if lines:
            n = self._written.get(payment, 0)
            try:
                self.store.write(self.key(payment, n), "\n".join(lines).encode(), "application/x-ndjson")
            except Exception as err:
                what = f"chunk {n} of payment {payment}"
                raise StagingError(f"{what} could not be written ({type(err).__name__})") from err
            self._written[payment] = n + 1

    def finish(self, plbs: dict[int, list[ProviderAdjustment]]) -> None:
        """The file is read: write what is left (staged files), and each payment's PLBs for a resumed fan-out."""
        if not self.staged:
            return
        for payment in list(self._open):
            self._flush(payment)
        try:
            for payment, adjustments in plbs.items():
                self.store.write_json(self._plb_key(payment), {"plb": [_plb_fields(a) for a in adjustments]})
        except Exception as err:
            raise StagingError(f"provider adjustments could not be written ({type(err).__name__})") from err

    def count(self, payment: int) -> int:
        return self._written.get(payment, 0) + (1 if self._open.get(payment) else 0)

    def read(self, payment: int, chunk: int) -> list[str]:
        if not self.staged:
            return list(self._open.get(payment, [])) if chunk == 0 else []
        return self.store.read(self.key(payment, chunk)).decode().split("\n")

    def plbs(self, payment: int, known: list[ProviderAdjustment] | None) -> list[ProviderAdjustment]:
        if known is not None:
            return known
        document = json.loads(self.store.read(self._plb_key(payment)))
        return [ProviderAdjustment(**{**f, "amount": Decimal(f["amount"])}) for f in document["plb"]]


def _plb_fields(plb: ProviderAdjustment) -> dict[str, Any]:
    return {
        "provider_id": plb.provider_id,
        "fiscal_period_date": plb.fiscal_period_date,
        "reason": plb.reason,
        "reference": plb.reference,
        "amount": str(plb.amount),
    }


class FanOut:
    """One ERA payment's fan-out: `run` does the steps from `start` until done (True) or out of time."""

    def __init__(
        self,
        repo: BillingStore,
        queue: PostingQueue,
        chunks: ChunkStore,
        *,
        payment: int,
        era_id: str,
        payment_key: str,
        plbs: list[ProviderAdjustment] | None = None,
    ) -> None:
        self.repo, self.queue, self.chunks = repo, queue, chunks
        self.payment, self.era_id = payment, era_id
        # As to_remittance's validation would have set them (our models strip whitespace).
        self.ids = {"era_id": era_id.strip(), "payment_key": (payment_key or era_id).strip()}
        self.payment_key = payment_key
        self.plbs = plbs
        self.queued = 0
        self.provider_adjustments = 0

    def run(self, start: int, budget: Budget) -> bool:
        total = self.chunks.count(self.payment)
        for step in range(start, total + 1):
            if self.chunks.staged and budget.exhausted():
                return False
            if step < total:
                self._chunk(step)
            else:
                self._provider_adjustments(total)
            if self.chunks.staged:
                self.repo.advance_era_fanout(self.era_id, self.chunks.file_id, step + 1)
            budget.steps += 1
        return True

    def _chunk(self, chunk: int) -> None:
        batch: list[ClaimRemittance] = []
        for line in self.chunks.read(self.payment, chunk):
            if line[:1] == NOT_POSTABLE:
                # Only a released file gets here (the check quarantines it otherwise): this claim payment
                # cannot be posted. Its result says why; the file's other claims post.
                fields = json.loads(line[1:])
                position = fields.pop("position")
                fields.update(result=NOT_POSTED, outcome=None, claim_id="", recorded_at=utcnow().isoformat())
                self.repo.record_era_result(EraResult(self.era_id, position, fields))
                continue
            batch.append(ClaimRemittance.model_validate_json(line[1:]).model_copy(update=self.ids))
            if len(batch) >= SEND_EVERY:
                self._send(batch)
                batch = []
        self._send(batch)

    def _send(self, batch: list[ClaimRemittance]) -> None:
        if not batch:
            return
        # Noted before the send: a message that never yields a result (it ended in the DLQ) shows as pending.
        self.repo.record_era_sent(self.era_id, [(r.position, r.claim_id) for r in batch])
        self.queued += self.queue.send(batch)

    def _provider_adjustments(self, total: int) -> None:
        plbs = self.chunks.plbs(self.payment, self.plbs)
        self.provider_adjustments = record_provider_adjustments(
            self.repo, self.era_id, self.payment_key, plbs, lambda wanted: self._by_pcn(total, wanted)
        )

    def _by_pcn(self, total: int, wanted: set[str]) -> dict[str, set[str]]:
        """The CLP01s of the claim payments whose CLP07 is one of `wanted` (read from the chunks only
        when a PLB reference names no claim of ours by CLP01)."""
        needles = [f'"payer_claim_number":{json.dumps(w)}' for w in wanted]
        found: dict[str, set[str]] = {}
        for chunk in range(total):
            for line in self.chunks.read(self.payment, chunk):
                if any(n in line for n in needles):
                    fields = json.loads(line[1:])
                    clp01 = fields.get("claim_id") or fields.get("clp01") or ""
                    found.setdefault(fields["payer_claim_number"], set()).add(clp01)
        return found


def not_postable_line(position: int, fields: dict[str, Any]) -> str:
    return NOT_POSTABLE + json.dumps({"position": position, **fields}, separators=(",", ":"))


def resume_file(
    repo: BillingStore,
    store: Artifacts,
    queue: PostingQueue,
    file_id: str,
    out_of_time: OutOfTime,
) -> tuple[int, int, list[str], bool]:
    """Continue the chunked fan-outs of a file's posting ERA records from their checkpoints.
    Returns (claim payments queued, provider adjustments recorded, ERA ids, finished)."""
    queued = plbs = 0
    era_ids: list[str] = []
    budget = Budget(out_of_time)
    for era_id in repo.era_ids_for_file(file_id):
        header = repo.get_era(era_id)
        if header is None or header.get("file_id") != file_id or header.get("era_status") != "POSTING":
            continue
        if "fanout_chunks" not in header:
            continue  # a small file: fanned out whole by the delivery that checked it
        done = int(header.get("fanout_done", 0))
        if done > int(header["fanout_chunks"]):
            continue
        era_ids.append(era_id)
        payment = int(header["payment_index"])
        fan = FanOut(
            repo,
            queue,
            ChunkStore(store, file_id, written={payment: int(header["fanout_chunks"])}),
            payment=payment,
            era_id=era_id,
            payment_key=str(header.get("payment_key") or era_id),
        )
        finished = fan.run(done, budget)
        queued += fan.queued
        plbs += fan.provider_adjustments
        if not finished:
            return queued, plbs, era_ids, False
    return queued, plbs, era_ids, True


# --- provider-level adjustments (PLB) ---------------------------------------------------------------
def _reference_candidates(reference: str) -> list[str]:
    """A PLB reference often carries a claim number, sometimes followed by other text: the whole
    reference and its first token."""
    whole = reference.strip()
    first = whole.split(" ")[0].split(":")[0]
    # PLB03-2 is AN 1-50: a longer candidate names no claim (and would pass a key's size limit).
    return [c for c in dict.fromkeys((whole, first)) if 0 < len(c) <= 50]


PcnLookup = Callable[[set[str]], dict[str, set[str]]]


def _claim_named_by(repo: BillingStore, reference: str, by_pcn: PcnLookup) -> tuple[str | None, str | None]:
    """The claim a PLB reference names, and how: our claim id (CLP01), else the payer claim number
    (CLP07) of exactly one claim in the same payment (WO/FB recoveries name the payer's number)."""
    candidates = _reference_candidates(reference)
    for candidate in candidates:
        if repo.claim_exists(candidate):
            return candidate, "CLP01"
    named_by = by_pcn(set(candidates))
    for candidate in candidates:
        named = named_by.get(candidate, set())
        if len(named) == 1:
            (claim_id,) = named
            if repo.claim_exists(claim_id):
                return claim_id, "CLP07"
    return None, None


def record_provider_adjustments(
    repo: BillingStore,
    era_id: str,
    payment_key: str,
    adjustments: list[ProviderAdjustment],
    by_pcn: PcnLookup,
) -> int:
    seen: dict[tuple[str, str], int] = {}
    for n, plb in enumerate(adjustments, start=1):
        # On the claim's ledger a PLB is named by its payment and content, like a claim payment: a
        # re-sent payment released under its own ERA record (`~<file id>`) does not add it twice.
        seen[(plb.reason, plb.reference)] = occurrence = seen.get((plb.reason, plb.reference), 0) + 1
        claim_id, linked_by = _claim_named_by(repo, plb.reference, by_pcn) if plb.reference else (None, None)
        repo.record_provider_adjustment(
            era_id,
            n,
            {
                "reason": plb.reason,
                "reference": plb.reference[:50],  # PLB03-2 is AN 1-50 (a longer one is cut, never a key)
                "amount": f"{plb.amount:.2f}",
                "provider_id": plb.provider_id[:50],
                "fiscal_period_date": plb.fiscal_period_date[:8],
                "claim_id": claim_id,
                "linked_by": linked_by,
            },
        )
        if claim_id:
            entry = LedgerEntry(
                source=f"{payment_key}#PLB#{plb.reason}#{plb.reference[:50]}#{occurrence}",
                kind="provider_adjustment",
                era_id=era_id,
                posted_at=utcnow().isoformat(),
                paid=-plb.amount,  # a positive PLB amount is taken from the payment
                plb_reason=plb.reason,
                plb_reference=plb.reference,
            )
            repo.post_provider_adjustment(claim_id, entry)
    return len(adjustments)
