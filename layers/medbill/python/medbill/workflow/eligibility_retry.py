"""Asking again: a schedule (EventBridge -> a small Lambda, see docs/eligibility.md) calls
`retry_due_checks`; each held claim whose check went unanswered (`eligibility_retry_at` passed)
has its execution resumed, which runs the eligibility stage again. A batch 271 whose answers cover
a claim held that way resumes it at once (`resume_answered`, called by eligibility_271) instead of
leaving it to the schedule; the stage then uses the kept answer. Both resume through
`stages.recheck_hold`, which clears the task token only once SendTaskSuccess has succeeded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.ports import ClaimStore, Workflow
from medbill.workflow.eligibility import visit_service_type
from medbill.workflow.eligibility_cache import answer_key
from medbill.workflow.stages import NotOnHold, recheck_hold

if TYPE_CHECKING:
    from medbill.workflow.eligibility_batch import KeptAnswer


def retry_due_checks(repo: ClaimStore, workflow: Workflow, now: datetime, limit: int = 100) -> list[str]:
    """Resume the held executions whose check went unanswered and whose retry time has come (a
    schedule calls this): the execution runs eligibility again. The claim ids resumed."""
    resumed: list[str] = []
    for claim in _held(repo, limit):
        due = claim.eligibility_retry_at
        if due is None or due > now or not claim.task_token:
            continue
        if _resume(repo, workflow, claim, "eligibility-retry"):
            resumed.append(claim.claim_id)
    return resumed


def resume_answered(repo: ClaimStore, workflow: Workflow, kept: Iterable[KeptAnswer], limit: int = 100) -> list[str]:
    """Resume the claims held because the payer did not answer (`eligibility_retry_at` set) that an
    answer just kept covers: the same payer, member and date of service (the answer's key), asked as
    the claim's billing provider (the clinic's NPI, 2100B) for the visit's service type. Safe to run
    again (a redelivered 271): a resumed claim holds no task token, so nothing resumes twice."""
    covering: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for answer in kept:
        covering[answer.key].add((answer.provider_npi, answer.service_type))
    resumed: list[str] = []
    if not covering:
        return resumed
    for claim in _held(repo, limit):
        if claim.eligibility_retry_at is None or not claim.task_token:
            continue  # held for another reason (a person fixes those), or resumed already
        enc = claim.encounter
        key = answer_key(enc.coverage.payer_id, enc.coverage.member_id, enc.date_of_service)
        if (enc.billing_provider.npi, visit_service_type(claim)) not in covering.get(key, set()):
            continue
        if _resume(repo, workflow, claim, "eligibility-271"):
            resumed.append(claim.claim_id)
    return resumed


def _held(repo: ClaimStore, limit: int) -> Iterator[Claim]:
    token: str | None = None
    while True:
        page = repo.list_claims(status=S.ELIGIBILITY_HOLD.value, limit=limit, next_token=token)
        yield from page.items
        token = page.next_token
        if not token:
            return


def _resume(repo: ClaimStore, workflow: Workflow, claim: Claim, actor: str) -> bool:
    try:
        recheck_hold(repo, workflow, claim.claim_id, actor=actor)
    except NotOnHold:
        return False
    return True
