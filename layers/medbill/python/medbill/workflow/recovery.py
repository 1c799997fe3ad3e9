"""Recovery: a person retries a FAILED claim from its last good stage; stuck claims are found.

A retry puts the claim back in the status it failed from (`Claim.failed_from`, recorded by
`stages.fail`) and starts a new execution, `<claim id>-r<n>` (Step Functions keeps an ended
execution's name, and moto has no RedriveExecution). The new execution starts at Register, but every
stage skips the work the claim is already past (stages.py), so it carries on where the failed one
stopped: an 837P already written is never written again, a posted payment never posted again.

A claim is *stuck* when its current execution ended (failed, timed out, aborted) but the claim is
not FAILED: MarkFailed itself failed (the `MarkFailedFailed` state, which alarms), so the claim kept
its old status and sits on no work queue. `stuck_claims` finds them from the failed executions, and
`retry_claim` recovers them the same way.

Ids, statuses and error names only: never PHI in the audit detail or the messages.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from medbill.billing.claim_updates import save_claim
from medbill.billing.ledger import STATUS_FOR
from medbill.models.claim import Claim
from medbill.models.status import AWAITING, HOLD_STATUSES
from medbill.models.status import ClaimStatus as S
from medbill.ports import ClaimNotFound, ClaimStore, ConcurrentUpdate, Executions, claim_of_execution, execution_name

ENDED_BADLY = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
RETRY_NOT_STARTED = "RetryNotStarted"  # the error name a claim gets back when its retry could not start


class NotRetryable(Exception):
    """The claim is neither FAILED nor stuck: its workflow is running or ended well (409)."""


@dataclass(frozen=True)
class StuckClaim:
    claim_id: str
    clinic_id: str
    status: str
    attempt: int
    execution: str


def restore_status(claim: Claim) -> S:
    """Where a retry puts a FAILED claim back: the status it failed from, or, when a payment was
    posted while it was FAILED (posting keeps FAILED), the status that payment stands for, so the new
    execution's remittance wait resumes at once instead of waiting for an 835 already posted."""
    restored = claim.failed_from or S.RECEIVED
    if restored in AWAITING and claim.remittance_outcome in STATUS_FOR:
        return STATUS_FOR[claim.remittance_outcome]
    return restored


def retry_claim(repo: ClaimStore, executions: Executions, claim_id: str, actor: str) -> dict[str, Any]:
    """Retry a FAILED (or stuck) claim: restore its status, count the attempt, start `<id>-r<n>`.

    The claim is saved before the execution starts (its first stage must see the restored status);
    if the start fails, the claim is made FAILED again with `RetryNotStarted`, so nothing is lost and
    the person can retry once more. The audit event names the staff actor and the execution."""
    claim = repo.get_claim(claim_id)
    if claim.status == S.FAILED:
        if claim.failed_from is None:
            raise NotRetryable(f"claim {claim_id} is FAILED with no recorded stage: fix it by hand")
        restored = restore_status(claim)
    else:
        state = executions.execution_status(claim_id, claim.attempt)
        if state not in ENDED_BADLY:
            raise NotRetryable(f"claim {claim_id} is {claim.status.value}; its workflow is {state or 'not started'}")
        restored = claim.status  # stuck: MarkFailed failed, the claim kept the status it had
    attempt = claim.attempt + 1
    name = execution_name(claim_id, attempt)
    detail = {"retry_by": actor, "attempt": attempt, "execution": name, "from": claim.status.value}
    update: dict[str, Any] = {"attempt": attempt, "failed_from": None, "failure": None}
    if restored not in HOLD_STATUSES:  # a hold keeps its reason: its stage runs again and rewrites it
        update["hold_reasons"] = []
    new_status = restored if restored != claim.status else None
    # Conditional on the version read: two people retrying at once start one execution, not two.
    saved = save_claim(repo, claim.model_copy(update=update), actor=actor, new_status=new_status, detail=detail)
    try:
        started = executions.start_attempt(claim_id, claim.clinic_id, attempt)
    except Exception:
        _not_started(repo, claim_id, saved.version)
        raise
    return {"claim_id": claim_id, "status": restored.value, "attempt": attempt, "execution": name, "started": started}


def _not_started(repo: ClaimStore, claim_id: str, version: int) -> None:
    claim = repo.get_claim(claim_id)
    if claim.version != version:  # the new execution did start after all and moved the claim
        return
    update: dict[str, Any] = {"failed_from": claim.status, "failure": RETRY_NOT_STARTED}
    update["hold_reasons"] = [f"workflow error: {RETRY_NOT_STARTED}"]
    failed = claim.model_copy(update=update)
    # ConcurrentUpdate: something moved the claim meanwhile, so it is not sitting unseen.
    with contextlib.suppress(ConcurrentUpdate):
        save_claim(repo, failed, actor="workflow", new_status=S.FAILED, detail={"error": RETRY_NOT_STARTED})


def stuck_claims(repo: ClaimStore, executions: Executions) -> list[StuckClaim]:
    """Claims whose current execution ended badly but that are not FAILED (MarkFailed failed)."""
    stuck: list[StuckClaim] = []
    seen: set[str] = set()
    for name in sorted(executions.failed_executions()):
        claim_id, attempt = claim_of_execution(name)
        if claim_id in seen:
            continue
        try:
            claim = repo.get_claim(claim_id)
        except ClaimNotFound:
            continue
        if claim.attempt != attempt or claim.status == S.FAILED:
            continue  # an older attempt, or a failure the claim shows already
        seen.add(claim_id)
        stuck.append(StuckClaim(claim_id, claim.clinic_id, claim.status.value, attempt, name))
    return stuck
