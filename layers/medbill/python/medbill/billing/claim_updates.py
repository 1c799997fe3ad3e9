"""Changing a claim through the claim store: read, decide, write, retry on a lost race.

Below both billing and the workflow stages, so neither imports the other for it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus, check_transition
from medbill.ports import ClaimStore, ConcurrentUpdate

MAX_LOCK_RETRIES = 5
T = TypeVar("T")


def with_lock_retry(store: ClaimStore, claim_id: str, step: Callable[[Claim], T]) -> T:
    """Read the claim and run `step`; on a concurrent update, back off a little, read again, retry."""
    for attempt in range(MAX_LOCK_RETRIES):
        try:
            return step(store.get_claim(claim_id))
        except ConcurrentUpdate:
            time.sleep(random.uniform(0, 0.02 * (2**attempt)))  # jitter: racing writers spread out
    raise ConcurrentUpdate(claim_id)


def save_claim(
    store: ClaimStore,
    claim: Claim,
    *,
    actor: str,
    new_status: ClaimStatus | None = None,
    detail: dict[str, Any] | None = None,
) -> Claim:
    """Write a changed claim; a status change must be one the workflow allows (InvalidTransition),
    checked here, before the store is called."""
    if new_status is not None:
        check_transition(claim.status, new_status)
    return store.save(claim, actor=actor, new_status=new_status, detail=detail)
