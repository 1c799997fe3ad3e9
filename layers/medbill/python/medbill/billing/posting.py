"""Payment posting: one ERA claim payment -> one write on the claim (the ledger rules: ledger.py).

The write holds the claim (conditional on its version), its audit event, the ledger entry
(unique per source: the same remittance never posts twice) and the ERA's result for that claim
payment. Claim totals are recomputed from the whole ledger, so the ledger and the claim can never
disagree.

CLP02: 1/2/3 processed (19/20/21: and forwarded) post as payments, or as denials when nothing
was paid; 4 denied; 22 reversal undoes the entry it mirrors with the same payer claim number
(CLP07), or is held until that entry arrives; 23 not our claim; 25 predetermination (no money,
no status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from medbill.billing.claim_updates import with_lock_retry
from medbill.billing.correction_routing import posting_target
from medbill.billing.followup import AWAIT_CROSSOVER, crossover_reason
from medbill.billing.ledger import (
    STATUS_FOR,
    PaymentFacts,
    Payments,
    already_reversed,
    claim_outcome,
    claim_totals,
    in_force,
    kind_of,
    last_adjudication,
    payment_of,
    reversal_target,
    superseded_by,
)
from medbill.billing.matching import match_lines
from medbill.models.claim import Claim, RemittanceOutcome
from medbill.models.common import utcnow
from medbill.models.remittance import FORWARDED, PAYER_SEQUENCE, ClaimRemittance, LedgerEntry, LedgerKind
from medbill.models.status import ALLOWED_TRANSITIONS, AWAITING, POSTED, ClaimStatus, check_transition
from medbill.ports import (
    UNMATCHED_STATUS,
    AlreadyPosted,
    BillingStore,
    ClaimNotFound,
    ClaimStore,
    Consume,
    EraResult,
    EraStore,
    HeldReversal,
    StaleItem,
    UnmatchedRemittance,
    Workflow,
    WorkItem,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# "not_posted" is era.NOT_POSTED: the reconciliation leaves its amount out, so the ERA does not reconcile.
Result = Literal["posted", "already_posted", "unmatched", "held", "recorded", "not_posted"]


@dataclass
class PostingResult:
    claim_id: str
    era_id: str
    position: int
    result: Result
    outcome: RemittanceOutcome | None = None
    resumed: bool = False
    notes: list[str] = field(default_factory=list)
    # What a person should know (ids and codes only): also on the ERA's result and the audit event.
    problems: list[str] = field(default_factory=list)


def claim_ledger(store: BillingStore, claim_id: str) -> dict[str, Any]:
    """A claim's money and every posting on its ledger, oldest first, each saying which later
    adjudication superseded it (None while it counts): the staff API's ledger view."""
    claim = store.get_claim(claim_id)
    entries = sorted(store.ledger_entries(claim_id), key=lambda e: (e.posted_at, e.source))
    over = superseded_by(entries, payment_facts(store, entries))
    return {
        "claim_id": claim_id,
        "paid_amount": f"{claim.paid_amount:.2f}",
        "adjustment_amount": f"{claim.adjustment_amount:.2f}",
        "patient_responsibility": f"{claim.patient_responsibility:.2f}",
        "patient_balance": f"{claim.patient_balance:.2f}",
        "replaces": claim.replaces,  # corrected / void claims (workflow.corrections)
        "replaced_by": claim.replaced_by,
        "entries": [{**e.model_dump(mode="json"), "superseded_by": over.get(e.source)} for e in entries],
    }


def payment_facts(store: EraStore, entries: Sequence[LedgerEntry]) -> dict[str, PaymentFacts]:
    """The payer and payment date of the payments behind the standing adjudications, from their ERA
    records, read only when they can change the totals: a CLP02 4 beside another adjudication (which
    payer denied), or two adjudications at one level (which is the later). Most claims need none."""
    standing = [e for e in entries if in_force(e)]
    known = [PAYER_SEQUENCE[e.status_code] for e in standing if e.status_code in PAYER_SEQUENCE]
    if len(standing) < 2 or (len(known) == len(standing) and len(set(known)) == len(known)):
        return {}
    out = {}
    for key in sorted({payment_of(e) for e in entries if e.kind in ("payment", "denial")}):
        header = store.get_era(key) or {}
        trace = str(header.get("trace_number") or "")
        # No TRN03: the payer part of the key (payer + "-" + TRN02), as the ERA id was made.
        payer = str(header.get("payer_id") or "") or (
            key[: -len(trace) - 1] if trace and key.endswith(f"-{trace}") else ""
        )
        out[key] = PaymentFacts(payer=payer, date=str(header.get("payment_date") or ""))
    return out


def _entry(claim: Claim, remit: ClaimRemittance, kind: LedgerKind, now: str) -> LedgerEntry:
    lines = match_lines(claim, remit.lines, remit.service_date)
    return LedgerEntry(
        source=remit.source,
        kind=kind,
        era_id=remit.era_id,
        posted_at=now,
        status_code=remit.status_code,
        payer_claim_number=remit.payer_claim_number,
        charge=remit.charge,
        paid=remit.paid,
        patient_responsibility=remit.patient_responsibility,
        adjustments=remit.all_adjustments(),
        remarks=remit.remarks,
        lines=lines,
        payment_key=payment_of(remit),
        forwarded=remit.status_code in FORWARDED,
        position=remit.position,
        payment_date=remit.payment_date,
    )


def _result(
    remit: ClaimRemittance,
    claim_id: str,
    result: Result,
    outcome: str | None = None,
    problems: list[str] | None = None,
) -> EraResult:
    """This claim payment's result on its ERA."""
    fields = {
        "claim_id": claim_id,
        "clp01": remit.claim_id,
        "result": result,
        "outcome": outcome,
        "status_code": remit.status_code,
        "charge": f"{remit.charge:.2f}",
        "paid": f"{remit.paid:.2f}",
        "payer_claim_number": remit.payer_claim_number,
        "problems": problems or [],  # per claim payment on the ERA (GET /eras/{id}): ids and codes only
        "recorded_at": utcnow().isoformat(),
    }
    return EraResult(remit.era_id, remit.position, fields)


def _not_waiting(claim: Claim, outcome: str | None, kept: bool) -> list[str]:
    """Money posted on a claim no execution waits on (before submission, closed, failed, or past its
    wait): say so, so a person sees it. Ids and codes only."""
    problems = []
    if kept:
        problems.append(f"status kept at {claim.status.value}: remittance outcome {outcome}")
    if outcome and not claim.task_token and claim.status not in AWAITING:
        problems.append(f"claim {claim.claim_id} was not waiting for remittance (status {claim.status.value})")
    return problems


def _crossover(
    claim: Claim, entries: list[LedgerEntry], outcome: str, totals: dict[str, Any], payments: Payments
) -> dict[str, Any]:
    """CLP02 19/20/21: the payer sent the claim on to the next payer, so the patient balance is not
    the patient's to pay yet. The follow-up waits for the crossover payer's remittance (classify
    reads this); a later payer's posting clears it."""
    last = last_adjudication(entries, payments)
    if last is not None and last.status_code in FORWARDED and outcome != "paid":
        return {
            "follow_up_reason": crossover_reason(last.status_code, totals["patient_responsibility"]),
            "follow_up_action": AWAIT_CROSSOVER,
        }
    if claim.follow_up_action == AWAIT_CROSSOVER:
        return {"follow_up_reason": None, "follow_up_action": None}
    return {}


# --- posting one claim payment --------------------------------------------------------------------
@dataclass
class _Posting:
    """One claim payment on its way to the claim `target_id`."""

    store: BillingStore
    workflow: Workflow
    remit: ClaimRemittance
    target_id: str
    consume: WorkItem | None
    held_waiting: bool = False  # the last read saw a held reversal for this payer claim number
    actor: str = "posting"  # on the timeline: "posting", or the staff user who matched it

    @property
    def consumed(self) -> Consume:
        # Posted from a re-sent ERA after it was parked as unmatched: that work item goes too.
        return Consume(self.consume) if self.consume else Consume(UnmatchedRemittance(self.remit), must_exist=False)

    def result(self, claim_id: str, result: Result, **kw: Any) -> PostingResult:
        return PostingResult(claim_id, self.remit.era_id, self.remit.position, result, **kw)


def _post_to_claim(p: _Posting, claim: Claim) -> PostingResult:
    """The posting decided on the claim as read; one write (ConcurrentUpdate: read again)."""
    state = p.store.posting_state(claim.claim_id)
    p.held_waiting = any(h.remittance.payer_claim_number == p.remit.payer_claim_number for h in state.held)
    if any(e.source == p.remit.source for e in state.entries):
        raise AlreadyPosted(claim.claim_id)
    kind = kind_of(p.remit)
    if kind != "reversal":
        return _post_entry(p, claim, state.entries, _entry(claim, p.remit, kind, utcnow().isoformat()))
    original = reversal_target(state.entries, p.remit)
    if original is None:
        return _reversal_without_original(p, claim, state.entries, state.held)
    if p.consume is None:
        # Held before, and its original's held pass died: this delivery applies it, so the same write
        # takes the held copy away (else it stays on the claim's work queue, never to be applied).
        p.consume = next((h for h in state.held if _same_reversal(h, p.remit)), None)
    entry = _entry(claim, p.remit, kind, utcnow().isoformat()).model_copy(update={"reverses": original.source})
    marked = original.model_copy(update={"reversed_by": entry.source})
    entries = [marked if e.source == original.source else e for e in state.entries]
    return _post_entry(p, claim, entries, entry, reversed_entry=marked)


def _same_reversal(held: HeldReversal, remit: ClaimRemittance) -> bool:
    return held.remittance.source == remit.source and held.remittance.payer_claim_number == remit.payer_claim_number


def _reversal_without_original(
    p: _Posting, claim: Claim, ledger: list[LedgerEntry], held: list[HeldReversal]
) -> PostingResult:
    """A reversal whose original is not on the ledger: a repeat of one applied already (recorded,
    not applied twice), or early (held until its original arrives)."""
    remit = p.remit
    repeated = already_reversed(ledger, remit)
    if repeated is not None:
        # Not held (its original is here) and not applied twice: a person sees it on the ERA (which
        # then does not reconcile: its amount is on no ledger) and on the claim's timeline.
        problems = [f"reverses payment {repeated.source} already reversed by {repeated.reversed_by}: not applied twice"]
        recorded = p.store.era_result(remit.era_id, remit.position)
        if recorded is None or recorded.get("result") != "not_posted":
            detail = {"era_id": remit.era_id, "clp02": remit.status_code, "problems": problems}
            result = _result(remit, claim.claim_id, "not_posted", problems=problems)
            p.store.record_not_posted(claim, actor=p.actor, detail=detail, result=result, consume=p.consumed)
        # else: this message came again (SQS redelivery): recorded already, no second timeline event.
        return p.result(claim.claim_id, "not_posted", problems=problems)
    if any(_same_reversal(h, remit) for h in held):
        # Held already (the message came again: SQS redelivery, a file released twice, a copy of
        # the payment in another file): this ERA still records its result.
        p.store.record_era_result(_result(remit, claim.claim_id, "held"))
        return p.result(claim.claim_id, "held")
    p.store.hold_reversal(
        claim,
        remit,
        actor=p.actor,
        detail={"era_id": remit.era_id, "held_reversal": remit.payer_claim_number},
        result=_result(remit, claim.claim_id, "held"),
        consume=p.consumed,
    )
    return p.result(claim.claim_id, "held")


def _post_entry(
    p: _Posting, claim: Claim, ledger: list[LedgerEntry], entry: LedgerEntry, reversed_entry: LedgerEntry | None = None
) -> PostingResult:
    """Post `entry`: the claim's totals, outcome and status recomputed from its whole ledger."""
    remit, kind = p.remit, entry.kind
    entries = [*ledger, entry]
    payments = payment_facts(p.store, entries)
    update = claim_totals(claim, entries, payments)
    # The claim's outcome comes from its postings in force and its totals over all payers, whatever
    # order messages land in: a reversal and the corrected payment of one ERA post in parallel.
    outcome = None if kind == "predetermination" else claim_outcome(entries, update, payments)
    new_status = STATUS_FOR.get(outcome) if outcome else None
    kept = new_status is not None and new_status not in ALLOWED_TRANSITIONS[claim.status] | {claim.status}
    kept = kept or (new_status is not None and claim.status == ClaimStatus.FAILED)  # only a staff retry leaves FAILED
    if kept or new_status == claim.status:
        new_status = None  # money is always posted; a status the workflow does not allow here stays
    problems = _not_waiting(claim, outcome, kept)
    if outcome:
        update["remittance_outcome"] = outcome
        update.update(_crossover(claim, entries, outcome, update, payments))
    if remit.payer_claim_number and kind != "reversal":
        update["payer_claim_number"] = remit.payer_claim_number
    detail: dict[str, Any] = {
        "era_id": remit.era_id,
        "clp02": remit.status_code,
        "paid": f"{remit.paid:.2f}",
        "outcome": outcome,
        "kind": kind,
    }
    if entry.forwarded:
        detail["forwarded"] = True
    if problems:
        detail["problems"] = problems
    if new_status is not None:
        check_transition(claim.status, new_status)
    saved = p.store.post_ledger_entry(
        claim.model_copy(update=update),
        entry,
        actor=p.actor,
        new_status=new_status,
        detail=detail,
        result=_result(remit, claim.claim_id, "posted", outcome, problems),
        reversed_entry=reversed_entry,
        consume=p.consumed,
    )
    return p.result(
        claim.claim_id, "posted", outcome=outcome, resumed=resume_waiting(p.store, p.workflow, saved), problems=problems
    )


@dataclass
class _Posted:
    result: PostingResult
    held_pass: bool = False  # held reversals may have found their original: apply them
    resume: bool = False  # posted before: resume the claim's wait (after the held pass)


def _post_once(
    store: BillingStore,
    workflow: Workflow,
    remit: ClaimRemittance,
    target_id: str,
    consume: WorkItem | None,
    actor: str = "posting",
) -> _Posted:
    """Post one claim payment and record its result; held reversals are the caller's."""
    p = _Posting(store, workflow, remit, target_id, consume, actor=actor)
    try:
        result = with_lock_retry(store, target_id, lambda claim: _post_to_claim(p, claim))
    except ClaimNotFound:
        return _Posted(_record_unmatched(store, remit))
    except StaleItem as err:
        if consume:
            raise UnmatchedNotFound(f"{remit.era_id}~{remit.position}") from err
        raise
    except AlreadyPosted:
        # Posted before (a redelivery, or another file of the same payment): record it on this ERA,
        # and finish what a crash may have cut short: held reversals, the resume. A copy whose amounts
        # differ from what was posted (a corrected re-send under the same payer + TRN02, released) is
        # not the same claim payment: not posted, so its ERA does not reconcile and a person decides.
        problems = _differs_from_posted(store, target_id, remit)
        done: Result = "not_posted" if problems else "already_posted"
        store.record_era_result(_result(remit, target_id, done, problems=problems))
        if consume:
            store.discard_work_item(consume)
        return _Posted(p.result(target_id, done, problems=problems), held_pass=True, resume=True)
    # Only when the read saw one: most postings have no held reversal and skip the extra read.
    held_pass = result.result == "posted" and kind_of(remit) in ("payment", "denial") and p.held_waiting
    return _Posted(result, held_pass=held_pass)


def _finish(store: BillingStore, workflow: Workflow, posted: _Posted) -> PostingResult:
    result = posted.result
    if posted.resume:
        claim = store.get_claim(result.claim_id)
        result.outcome = claim.remittance_outcome
        result.resumed = resume_waiting(store, workflow, claim)
    return result


def post_remittance(
    store: BillingStore,
    workflow: Workflow,
    remit: ClaimRemittance,
    *,
    claim_id: str | None = None,
    consume: WorkItem | None = None,
    actor: str = "posting",
) -> PostingResult:
    """Post one claim payment, then the reversals held for it. `claim_id` overrides CLP01 (a person
    matched it); `consume` is the held reversal or unmatched remittance the posting takes away;
    `actor` is who the timeline names (the staff user who matched it)."""
    target = claim_id or posting_target(store, remit, remit.claim_id)  # a void's money is the original's
    posted = _post_once(store, workflow, remit, target, consume, actor)
    if posted.held_pass:
        applied = apply_held_reversals(store, workflow, posted.result.claim_id)
        posted.result.notes += [f"applied held reversal {s}" for s in applied]
    return _finish(store, workflow, posted)


def apply_held_reversals(store: BillingStore, workflow: Workflow, claim_id: str) -> list[str]:
    """Apply every held reversal whose original is now on the ledger. Safe to call any time: a
    crash after posting an original leaves nothing behind, the next delivery finishes the job."""
    state = store.posting_state(claim_id)
    ledger, applied = state.entries, []
    for held in state.held:
        if reversal_target(ledger, held.remittance) is not None:  # the same choice posting makes
            _finish(store, workflow, _post_once(store, workflow, held.remittance, claim_id, held))
            applied.append(held.remittance.source)
            ledger = store.posting_state(claim_id).entries  # two held reversals must not pick one original
    return applied


def _differs_from_posted(store: ClaimStore, claim_id: str, remit: ClaimRemittance) -> list[str]:
    """A problem (ids and amounts only) when the ledger entry of this claim payment's source holds
    other amounts (CLP03, CLP04, CLP05) than the message."""
    posted = next((e for e in store.ledger_entries(claim_id) if e.source == remit.source), None)
    if posted is None:
        return []
    theirs = (posted.charge, posted.paid, posted.patient_responsibility)
    if theirs == (remit.charge, remit.paid, remit.patient_responsibility):
        return []

    def amounts(charge: Decimal, paid: Decimal, patient: Decimal) -> str:
        return f"charge {charge:.2f} paid {paid:.2f} patient responsibility {patient:.2f}"

    return [
        f"claim payment {remit.source} was posted from {posted.era_id} with {amounts(*theirs)}; this copy has "
        f"{amounts(remit.charge, remit.paid, remit.patient_responsibility)}: not posted"
    ]


# --- unmatched remittance -------------------------------------------------------------------------
def _record_unmatched(store: ClaimStore, remit: ClaimRemittance) -> PostingResult:
    """A claim we do not know: keep the remittance in the unmatched work queue, with its amounts."""
    store.record_unmatched_remittance(
        remit, unmatched_id=unmatched_id(remit.era_id, remit.position), result=_result(remit, "", "unmatched")
    )
    return PostingResult(remit.claim_id, remit.era_id, remit.position, "unmatched")


def unmatched_id(era_id: str, position: int) -> str:
    return f"{era_id}~{position}"


class UnmatchedNotFound(Exception):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"no unmatched remittance {item_id}")


def match_unmatched(
    store: BillingStore, workflow: Workflow, item_id: str, claim_id: str, actor: str = "posting"
) -> PostingResult:
    """A person (or a claim that turned up) matches an unmatched remittance to a claim: post it."""
    era_id, _, pos = item_id.rpartition("~")
    if not era_id or not pos.isdigit():
        raise UnmatchedNotFound(item_id)
    recorded = store.era_result(era_id, int(pos))
    if recorded is None or recorded.get("result") != "unmatched":
        raise UnmatchedNotFound(item_id)
    remit = store.unmatched_remittance(str(recorded["clp01"]), era_id, int(pos))
    if remit is None:
        raise UnmatchedNotFound(item_id)
    store.get_claim(claim_id)  # ClaimNotFound -> the API says so; nothing is consumed
    return post_remittance(store, workflow, remit, claim_id=claim_id, consume=UnmatchedRemittance(remit), actor=actor)


def post_waiting_unmatched(store: BillingStore, workflow: Workflow, claim_id: str) -> list[PostingResult]:
    """Remittance that arrived before its claim was known, posted now that the claim waits for it."""
    return [
        post_remittance(store, workflow, remit, consume=UnmatchedRemittance(remit))
        for remit in store.unmatched_remittances_for(claim_id)
    ]


def resume_waiting(store: ClaimStore, workflow: Workflow, claim: Claim) -> bool:
    """Resume the claim's waiting execution with the outcome, once, and clear the token."""
    if not claim.task_token or claim.status not in POSTED or not claim.remittance_outcome:
        return False
    token = claim.task_token
    resumed = workflow.resume(token, {"outcome": claim.remittance_outcome})  # False: the wait already ended

    def clear(current: Claim) -> bool:
        if current.task_token == token:  # a newer wait's token is not ours to clear
            store.save(current.model_copy(update={"task_token": None}), actor="posting", detail={"resumed": resumed})
        return True

    with_lock_retry(store, claim.claim_id, clear)
    return resumed


__all__ = [
    "UNMATCHED_STATUS",
    "PostingResult",
    "UnmatchedNotFound",
    "apply_held_reversals",
    "claim_ledger",
    "match_unmatched",
    "payment_facts",
    "post_remittance",
    "post_waiting_unmatched",
    "resume_waiting",
    "unmatched_id",
]
