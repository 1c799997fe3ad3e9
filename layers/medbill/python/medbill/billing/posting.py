"""Payment posting: one ERA claim payment -> one DynamoDB transaction on the claim.

The transaction holds the claim (conditional on its version), its audit event, the ledger entry
(conditional on its source not existing: the same remittance never posts twice) and the ERA's
result for that claim payment. Claim totals are recomputed from the whole ledger, so the ledger
and the claim can never disagree.

CLP02: 1/2/3 processed (19/20/21: and forwarded) post as payments, or as denials when nothing
was paid; 4 denied; 22 reversal undoes the entry with the same payer claim number (CLP07), or
is held until that entry arrives; 23 not our claim; 25 predetermination (no money, no status).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from medbill.billing.matching import match_lines
from medbill.gateways.workflow import WorkflowGateway
from medbill.models.claim import Adjustment, Claim, RemittanceOutcome
from medbill.models.remittance import (
    DENIED,
    NOT_OUR_CLAIM,
    PREDETERMINATION,
    PROCESSED,
    REVERSAL,
    ClaimRemittance,
    LedgerEntry,
    LedgerKind,
    RemitAdjustment,
)
from medbill.store.repository import AlreadyPosted, ClaimNotFound, ClaimRepository, StaleItem, claim_pk, utcnow
from medbill.workflow.stages import with_lock_retry
from medbill.workflow.status import ALLOWED_TRANSITIONS, POSTED, ClaimStatus

ZERO = Decimal("0.00")
UNMATCHED_STATUS = "UNMATCHED_REMITTANCE"  # work-queue status in the by-status index

Result = Literal["posted", "already_posted", "unmatched", "held", "recorded"]


@dataclass
class PostingResult:
    claim_id: str
    era_id: str
    position: int
    result: Result
    outcome: RemittanceOutcome | None = None
    resumed: bool = False
    notes: list[str] = field(default_factory=list)


def kind_of(remit: ClaimRemittance) -> LedgerKind:
    code = remit.status_code
    if code == REVERSAL:
        return "reversal"
    if code == DENIED:
        return "denial"
    if code == NOT_OUR_CLAIM:
        return "not_our_claim"
    if code == PREDETERMINATION:
        return "predetermination"
    if code in PROCESSED and remit.paid == ZERO and any(_payer_side(a) for a in remit.all_adjustments()):
        return "denial"  # processed, nothing paid, the payer adjusted it away (not just to the patient)
    return "payment"


def _payer_side(adj: RemitAdjustment) -> bool:
    """An adjustment that is neither the patient's share nor the contractual write-down."""
    return bool(adj.amount) and adj.group != "PR" and not (adj.group == "CO" and adj.reason == "45")


def outcome_of(kind: LedgerKind, adjustments: list[RemitAdjustment], paid: Decimal) -> RemittanceOutcome | None:
    if kind == "reversal":
        return "reversed"
    if kind == "denial":
        return "denied"
    if kind == "payment" and paid == ZERO and not any(a.group == "PR" and a.amount for a in adjustments):
        return "denied"
    if kind == "not_our_claim":
        return "not_our_claim"
    if kind == "predetermination":
        return None
    # Contractual CO-45 alone is a normal full payment under contract; anything else is short
    # (a claim paid entirely to the deductible is short-paid: the patient owes it, it is not denied).
    shortfall = [a for a in adjustments if a.amount and not (a.group == "CO" and a.reason == "45")]
    return "short_paid" if shortfall else "paid"


STATUS_FOR: dict[str, ClaimStatus] = {
    "paid": ClaimStatus.PAID,
    "short_paid": ClaimStatus.SHORT_PAID,
    "denied": ClaimStatus.DENIED,
    "not_our_claim": ClaimStatus.DENIED,
    "reversed": ClaimStatus.REVERSED,
}


def claim_totals(claim: Claim, entries: list[LedgerEntry]) -> dict[str, Any]:
    """Claim money recomputed from its ledger: reversals carry negative amounts, so sums net out."""
    counted = [e for e in entries if e.counts_toward_claim]
    net: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in counted:
        for adj in entry.adjustments:
            net[(adj.group, adj.reason)] += adj.amount
    adjustments = [
        Adjustment.model_validate({"group": g, "reason": r, "amount": amount})
        for (g, r), amount in net.items()
        if amount
    ]
    line_paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    line_allowed: dict[int, Decimal] = {}
    for entry in counted:
        for lp in entry.lines:
            if lp.claim_line_number is None:
                continue
            line_paid[lp.claim_line_number] += lp.paid
            if lp.allowed is not None:
                line_allowed[lp.claim_line_number] = line_allowed.get(lp.claim_line_number, ZERO) + lp.allowed
    lines = [
        line.model_copy(
            update={
                "paid_amount": line_paid.get(line.line_number, ZERO),
                "allowed_amount": line_allowed.get(line.line_number),
            }
        )
        for line in claim.lines
    ]
    return {
        "paid_amount": sum((e.paid for e in counted), ZERO),
        "patient_responsibility": sum((a.amount for a in adjustments if a.group == "PR"), ZERO),
        "adjustment_amount": sum((a.amount for a in adjustments if a.group != "PR"), ZERO),
        "adjustments": adjustments,
        "lines": lines,
    }


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
    )


def _result(remit: ClaimRemittance, claim_id: str, result: Result, outcome: str | None = None) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "clp01": remit.claim_id,
        "result": result,
        "outcome": outcome,
        "status_code": remit.status_code,
        "charge": f"{remit.charge:.2f}",
        "paid": f"{remit.paid:.2f}",
        "payer_claim_number": remit.payer_claim_number,
        "recorded_at": utcnow().isoformat(),
    }


def _held_key(remit: ClaimRemittance) -> str:
    return f"HELDREV#{remit.payer_claim_number}#{remit.source}"


def post_remittance(
    repo: ClaimRepository,
    workflow: WorkflowGateway,
    remit: ClaimRemittance,
    *,
    claim_id: str | None = None,
    consume: dict[str, str] | None = None,
) -> PostingResult:
    """Post one claim payment. `claim_id` overrides CLP01 (a person matched it); `consume` is the
    key of a held-reversal or unmatched item to delete in the same transaction."""
    target_id = claim_id or remit.claim_id

    held_waiting: list[bool] = []  # the last read saw a held reversal for this payer claim number

    def step(claim: Claim) -> PostingResult:
        ledger, held_items = repo.posting_state(claim.claim_id)
        prefix = f"HELDREV#{remit.payer_claim_number}#"
        held_waiting[:] = [any(i["sk"].startswith(prefix) for i in held_items)]
        if any(e.source == remit.source for e in ledger):
            raise AlreadyPosted(claim.claim_id)
        now = utcnow().isoformat()
        kind = kind_of(remit)
        extra: list[dict[str, Any]] = []
        if consume:
            extra.append({"Delete": {"Key": repo.item(consume), "ConditionExpression": "attribute_exists(sk)"}})
        else:
            # Posted from a re-sent ERA after it was parked as unmatched: the work item goes too.
            extra.append({"Delete": {"Key": repo.item(_unmatched_key(remit))}})
        entries = list(ledger)
        if kind == "reversal":
            original = next(
                (
                    e
                    for e in ledger
                    if e.kind in ("payment", "denial")
                    and e.payer_claim_number == remit.payer_claim_number
                    and e.reversed_by is None
                ),
                None,
            )
            if original is None:
                # The original has not arrived yet: keep the reversal and apply it when it does.
                key = _held_key(remit)
                if any(i["sk"] == key for i in held_items):
                    # Held already (the message came again: SQS redelivery, a file released twice).
                    return PostingResult(claim.claim_id, remit.era_id, remit.position, "held")
                held = {
                    "pk": claim_pk(claim.claim_id),
                    "sk": key,
                    "data": remit.model_dump_json(),
                }
                extra += [
                    {"Put": {"Item": repo.item(held), "ConditionExpression": "attribute_not_exists(sk)"}},
                    repo.era_result_item(remit.era_id, remit.position, _result(remit, claim.claim_id, "held")),
                ]
                repo.save(
                    claim,
                    actor="posting",
                    detail={"era_id": remit.era_id, "held_reversal": remit.payer_claim_number},
                    extra=extra,
                )
                return PostingResult(claim.claim_id, remit.era_id, remit.position, "held")
            entry = _entry(claim, remit, kind, now).model_copy(update={"reverses": original.source})
            marked = original.model_copy(update={"reversed_by": entry.source})
            extra.append(repo.mark_reversed_item(claim.claim_id, marked))
            entries = [marked if e.source == original.source else e for e in entries]
        else:
            entry = _entry(claim, remit, kind, now)
        entries.append(entry)
        # The claim's outcome is its latest posting still in force, whatever order messages land in:
        # a reversal and the corrected payment of one ERA post in parallel.
        outcome = _current_outcome(entries) if kind == "reversal" else outcome_of(kind, entry.adjustments, entry.paid)
        new_status = STATUS_FOR.get(outcome) if outcome else None
        notes: list[str] = []
        if new_status is not None and new_status not in ALLOWED_TRANSITIONS[claim.status] | {claim.status}:
            # Money is always posted; a status the workflow does not allow here stays as it is.
            notes.append(f"status kept at {claim.status.value}: remittance outcome {outcome}")
            new_status = None
        extra.append(
            repo.era_result_item(remit.era_id, remit.position, _result(remit, claim.claim_id, "posted", outcome))
        )
        update = claim_totals(claim, entries)
        if outcome:
            update["remittance_outcome"] = outcome
        if remit.payer_claim_number and kind != "reversal":
            update["payer_claim_number"] = remit.payer_claim_number
        saved = repo.save(
            claim.model_copy(update=update),
            actor="posting",
            new_status=new_status if new_status != claim.status else None,
            detail={
                "era_id": remit.era_id,
                "clp02": remit.status_code,
                "paid": f"{remit.paid:.2f}",
                "outcome": outcome,
                "kind": kind,
            },
            ledger=[entry],
            extra=extra,
        )
        return PostingResult(
            claim.claim_id,
            remit.era_id,
            remit.position,
            "posted",
            outcome,
            resumed=resume_waiting(repo, workflow, saved),
            notes=notes,
        )

    try:
        result = with_lock_retry(repo, target_id, step)
    except ClaimNotFound:
        return _record_unmatched(repo, remit)
    except StaleItem as err:
        if consume:
            raise UnmatchedNotFound(f"{remit.era_id}~{remit.position}") from err
        raise
    except AlreadyPosted:
        # Posted before (a redelivery, or another file of the same payment): record it on this ERA,
        # and finish what a crash may have cut short: held reversals, the resume.
        repo.transact([repo.era_result_item(remit.era_id, remit.position, _result(remit, target_id, "already_posted"))])
        if consume:
            repo.transact([{"Delete": {"Key": repo.item(consume)}}])
        applied = apply_held_reversals(repo, workflow, target_id)
        claim = repo.get_claim(target_id)
        return PostingResult(
            target_id,
            remit.era_id,
            remit.position,
            "already_posted",
            claim.remittance_outcome,
            resumed=resume_waiting(repo, workflow, claim),
            notes=[f"applied held reversal {s}" for s in applied],
        )
    # Only when the read saw one: most postings have no held reversal and skip the extra read.
    if result.result == "posted" and kind_of(remit) in ("payment", "denial") and any(held_waiting):
        result.notes += [f"applied held reversal {s}" for s in apply_held_reversals(repo, workflow, target_id)]
    return result


def apply_held_reversals(repo: ClaimRepository, workflow: WorkflowGateway, claim_id: str) -> list[str]:
    """Apply every held reversal whose original is now on the ledger. Safe to call any time: a
    crash after posting an original leaves nothing behind, the next delivery finishes the job."""
    ledger, held_items = repo.posting_state(claim_id)
    open_payer_claims = {
        e.payer_claim_number for e in ledger if e.kind in ("payment", "denial") and e.reversed_by is None
    }
    applied = []
    for item in held_items:
        held = ClaimRemittance.model_validate_json(item["data"])
        if held.payer_claim_number in open_payer_claims:
            post_remittance(repo, workflow, held, claim_id=claim_id, consume={"pk": item["pk"], "sk": item["sk"]})
            applied.append(held.source)
    return applied


def _current_outcome(entries: list[LedgerEntry]) -> RemittanceOutcome | None:
    in_force = [e for e in entries if e.kind in ("payment", "denial", "not_our_claim") and e.reversed_by is None]
    if not in_force:
        return "reversed"
    latest = max(in_force, key=lambda e: (e.posted_at, e.source))
    return outcome_of(latest.kind, latest.adjustments, latest.paid)


def _unmatched_key(remit: ClaimRemittance) -> dict[str, str]:
    return {"pk": f"UNMATCHED#{remit.claim_id}", "sk": f"REMIT#{remit.era_id}#{remit.position:07d}"}


def _record_unmatched(repo: ClaimRepository, remit: ClaimRemittance) -> PostingResult:
    """A claim we do not know: keep the remittance in the unmatched work queue, with its amounts."""
    now = utcnow().isoformat()
    unmatched = {
        **_unmatched_key(remit),
        "status": UNMATCHED_STATUS,  # by-status index: the work queue
        "updated_at": now,
        "unmatched_id": unmatched_id(remit.era_id, remit.position),
        "era_id": remit.era_id,
        "position": remit.position,
        "clp01": remit.claim_id,
        "status_code": remit.status_code,
        "charge": f"{remit.charge:.2f}",
        "paid": f"{remit.paid:.2f}",
        "payer_id": remit.payer_id,
        "data": remit.model_dump_json(),
    }
    repo.transact(
        [
            {"Put": {"Item": repo.item(unmatched), "ConditionExpression": "attribute_not_exists(sk)"}},
            repo.era_result_item(remit.era_id, remit.position, _result(remit, "", "unmatched")),
        ]
    )
    return PostingResult(remit.claim_id, remit.era_id, remit.position, "unmatched")


def unmatched_id(era_id: str, position: int) -> str:
    return f"{era_id}~{position}"


class UnmatchedNotFound(Exception):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"no unmatched remittance {item_id}")


def match_unmatched(repo: ClaimRepository, workflow: WorkflowGateway, item_id: str, claim_id: str) -> PostingResult:
    """A person (or a claim that turned up) matches an unmatched remittance to a claim: post it."""
    era_id, _, pos = item_id.rpartition("~")
    if not era_id or not pos.isdigit():
        raise UnmatchedNotFound(item_id)
    results = [r for r in repo.era_items(era_id, f"CLP#{int(pos):07d}") if r.get("result") == "unmatched"]
    if not results:
        raise UnmatchedNotFound(item_id)
    key = {"pk": f"UNMATCHED#{results[0]['clp01']}", "sk": f"REMIT#{era_id}#{int(pos):07d}"}  # _unmatched_key
    items = [i for i in repo.items_under(key["pk"], key["sk"]) if i["sk"] == key["sk"]]
    if not items:
        raise UnmatchedNotFound(item_id)
    remit = ClaimRemittance.model_validate_json(items[0]["data"])
    repo.get_claim(claim_id)  # ClaimNotFound -> the API says so; nothing is consumed
    return post_remittance(repo, workflow, remit, claim_id=claim_id, consume=key)


def post_waiting_unmatched(repo: ClaimRepository, workflow: WorkflowGateway, claim_id: str) -> list[PostingResult]:
    """Remittance that arrived before its claim was known, posted now that the claim waits for it."""
    out = []
    for item in repo.items_under(f"UNMATCHED#{claim_id}", "REMIT#"):
        remit = ClaimRemittance.model_validate_json(item["data"])
        out.append(post_remittance(repo, workflow, remit, consume={"pk": item["pk"], "sk": item["sk"]}))
    return out


def resume_waiting(repo: ClaimRepository, workflow: WorkflowGateway, claim: Claim) -> bool:
    """Resume the claim's waiting execution with the outcome, once, and clear the token."""
    if not claim.task_token or claim.status not in POSTED or not claim.remittance_outcome:
        return False
    token = claim.task_token
    resumed = workflow.resume(token, {"outcome": claim.remittance_outcome})  # False: the wait already ended

    def clear(current: Claim) -> bool:
        if current.task_token == token:  # a newer wait's token is not ours to clear
            repo.save(current.model_copy(update={"task_token": None}), actor="posting", detail={"resumed": resumed})
        return True

    with_lock_retry(repo, claim.claim_id, clear)
    return resumed
