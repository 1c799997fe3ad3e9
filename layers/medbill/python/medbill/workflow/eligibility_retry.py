"""Asking again: a schedule (EventBridge -> a small Lambda, see docs/eligibility.md) calls
`retry_due_checks`; each held claim whose check went unanswered (`eligibility_retry_at` passed)
has its execution resumed, which runs the eligibility stage again."""

from __future__ import annotations

from datetime import datetime

from medbill.models.status import ClaimStatus as S
from medbill.ports import ClaimStore, Workflow
from medbill.workflow.stages import NotOnHold, recheck_hold


def retry_due_checks(repo: ClaimStore, workflow: Workflow, now: datetime, limit: int = 100) -> list[str]:
    """Resume the held executions whose check went unanswered and whose retry time has come (a
    schedule calls this): the execution runs eligibility again. The claim ids resumed."""
    resumed: list[str] = []
    token: str | None = None
    while True:
        page = repo.list_claims(status=S.ELIGIBILITY_HOLD.value, limit=limit, next_token=token)
        for claim in page.items:
            due = claim.eligibility_retry_at
            if due is None or due > now or not claim.task_token:
                continue
            try:
                recheck_hold(repo, workflow, claim.claim_id, actor="eligibility-retry")
            except NotOnHold:
                continue
            resumed.append(claim.claim_id)
        token = page.next_token
        if not token:
            return resumed
