"""A person resolves a re-sent encounter that changed (workflow.intake_resend put the claim on the
`resent_changed` worklist with the changed field names).

`keep`: the claim's first copy stands (the clinic re-sent in error, or the change does not matter to
the bill). `corrected`: staff corrected the claim (for an adjudicated claim, a corrected claim through
`POST /claims/{id}/corrections`; its id is recorded when there is one). Either way the claim leaves
the worklist and its timeline records who resolved which fields (names, never values) and how.
"""

from __future__ import annotations

from typing import Any, Literal

from medbill.billing.claim_updates import with_lock_retry
from medbill.models.claim import Claim
from medbill.models.common import Model
from medbill.ports import ClaimStore

RESENT_RESOLVED = "resent_changes_resolved"


class ResentChangesResolution(Model):
    action: Literal["keep", "corrected"]


class NothingToResolve(ValueError):
    """The claim has no re-sent changes waiting (ids only)."""


def resolve_resent_changes(
    repo: ClaimStore, claim_id: str, request: ResentChangesResolution, actor: str
) -> dict[str, Any]:
    def resolve(claim: Claim) -> dict[str, Any]:
        if not claim.resent_changes:
            raise NothingToResolve(f"claim {claim_id} has no re-sent changes waiting to be resolved")
        fields = claim.resent_changes
        detail: dict[str, Any] = {"event": RESENT_RESOLVED, "action": request.action, "fields": fields}
        if request.action == "corrected" and claim.replaced_by:
            detail["corrected_by"] = claim.replaced_by
        claim.resent_changes, claim.resent_changed_at = [], None
        repo.save(claim, actor=actor, detail=detail)
        return {"claim_id": claim_id, **{k: v for k, v in detail.items() if k != "event"}}

    return with_lock_retry(repo, claim_id, resolve)
