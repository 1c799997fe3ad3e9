"""The statuses of an ERA payment record and of its claim payments' results."""

from __future__ import annotations

from typing import Any

QUARANTINED = "QUARANTINED"
RELEASED = "RELEASED"
POSTING = "POSTING"
POSTED = "POSTED"
POSTED_WITH_UNMATCHED = "POSTED_WITH_UNMATCHED"
NOT_POSTED = "not_posted"  # result of a released claim payment that cannot become a posting message
# Encodings a person may confirm for an 835 that is not UTF-8 (X12 has no charset element: the
# clearinghouse's export decides). Both decode every ASCII byte as ASCII, so delimiters stay put.
ENCODINGS = ("latin-1", "windows-1252")
PENDING = "pending"  # a queued claim payment with no result yet (in flight, or its message is in the DLQ)


def era_status(header: dict[str, Any], recorded: int, unmatched: int) -> str:
    """The status a person sees: QUARANTINED and RELEASED as stored; a posting ERA is POSTED (or
    POSTED_WITH_UNMATCHED) once every claim payment has a result, else still POSTING."""
    stored = str(header.get("era_status") or POSTING)
    if stored != POSTING:
        return stored
    if recorded < int(header.get("claim_count", 0)):
        return POSTING
    return POSTED_WITH_UNMATCHED if unmatched else POSTED
