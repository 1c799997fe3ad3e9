"""The HIPAA access audit: who read which claim, ledger or ERA, and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AccessRecord:
    """One read of a claim, its ledger or an ERA by a staff user (HIPAA access audit): who, when,
    what. Ids only: the user's Cognito subject and user name, the resource's id."""

    resource: str  # "claim" or "era"
    resource_id: str
    action: str  # "read_claim", "read_ledger", "read_era"
    user_id: str
    user_name: str
    at: str  # ISO 8601 UTC
    request_id: str


class AccessAudit(Protocol):
    """The application's access audit: append-only, newest first per resource."""

    def record_access(self, record: AccessRecord) -> None:
        """Store the record; the same request recorded twice (a retry) is stored once."""
        ...

    def access_log(
        self, resource: str, resource_id: str, *, limit: int = 50, next_token: str | None = None
    ) -> tuple[list[AccessRecord], str | None]: ...
