"""The errors a store or queue port raises, so the domain catches them without knowing which
adapter raised them.
"""

from __future__ import annotations


class ClaimNotFound(Exception):
    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim {claim_id} not found")
        self.claim_id = claim_id


class ConcurrentUpdate(Exception):
    """Someone else changed the claim since we read it (optimistic lock): re-read and retry."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim {claim_id} was changed concurrently")
        self.claim_id = claim_id


class StaleItem(Exception):
    """A condition on another item of the transaction failed (e.g. a work item already consumed)."""


class InvalidClaimUpdate(ValueError):
    """A change would store a claim that no longer validates; names the fields, never the values."""


class AlreadyPosted(Exception):
    """A ledger entry with this source key already exists: the remittance was posted before."""


class QueueSendError(Exception):
    """A message could not be queued (the queue is not configured, or sending kept failing)."""


class ObjectReplaced(Exception):
    """The object at a key is no longer the version a reader started on (replaced or deleted since).
    Names the key only."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} was replaced or deleted since it was first read")
        self.key = key


class BadPageToken(ValueError):
    """A page token that is not one this listing issued."""
