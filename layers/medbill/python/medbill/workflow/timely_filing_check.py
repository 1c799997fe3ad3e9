"""The daily timely-filing check: flag claims whose filing deadline is near and that are not filed
yet (held, or denied and waiting for a corrected claim), so they show on the `timely_filing`
worklist; clear the flag of claims that no longer need it. Reads by status (the by-status index),
never a scan. Ids and counts only in what it returns."""

from __future__ import annotations

from datetime import date
from typing import Any

from medbill.billing.claim_updates import save_claim
from medbill.billing.timely_filing import NOT_YET_FILED, filing_deadline, near_deadline
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus
from medbill.ports import ClaimStore, ConcurrentUpdate

CHECKED_STATUSES = (*sorted(NOT_YET_FILED), ClaimStatus.FOLLOW_UP)


def _claims(repo: ClaimStore, status: ClaimStatus) -> Any:
    token: str | None = None
    while True:
        page = repo.list_claims(status=status.value, limit=100, next_token=token)
        yield from page.items
        token = page.next_token
        if not token:
            return


def _update(repo: ClaimStore, claim: Claim, want: date | None) -> bool:
    try:
        save_claim(
            repo,
            claim.model_copy(update={"timely_filing_alert": want}),
            actor="timely_filing",
            detail={"timely_filing_alert": want.isoformat() if want else None},
        )
    except ConcurrentUpdate:
        return False  # someone changed it meanwhile: tomorrow's run looks again
    return True


def check_timely_filing(repo: ClaimStore, today: date) -> dict[str, int]:
    flagged = cleared = checked = 0
    for status in CHECKED_STATUSES:
        for claim in _claims(repo, status):
            checked += 1
            want = filing_deadline(claim) if near_deadline(claim, today) else None
            if claim.timely_filing_alert == want:
                continue
            if _update(repo, claim, want):
                flagged += want is not None
                cleared += want is None
    return {"checked": checked, "flagged": flagged, "cleared": cleared}
