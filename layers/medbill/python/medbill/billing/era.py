"""ERA (X12 835) payments: the one import for handlers and tests.

The work is split by role: `era_messages` (a claim payment as a posting message, and why one cannot
become one), `era_ingestion` (a file checked whole), `era_fanout` (its claim payments queued a chunk at a time,
resumable), `era_limits` (sizes that keep every item under DynamoDB's limits), `era_queries` (list,
reconciliation, release) and `era_records` (statuses).
"""

from __future__ import annotations

from medbill.billing.era_fanout import CHUNK_CLAIMS, SEND_EVERY, StagingError
from medbill.billing.era_ingestion import (
    CREATE_ATTEMPTS,
    EraFileSummary,
    EraRecordConflict,
    continue_era_file,
    receive_era_file,
)
from medbill.billing.era_limits import HEADER_PROBLEMS
from medbill.billing.era_messages import era_id_for, era_ids_for, file_id_for, posting_problems, to_remittance
from medbill.billing.era_queries import (
    PENDING_SHOWN,
    EraNotFound,
    EraNotReleasable,
    list_eras,
    reconciliation,
    release_era,
)
from medbill.billing.era_records import (
    NOT_POSTED,
    PENDING,
    POSTED,
    POSTED_WITH_UNMATCHED,
    POSTING,
    QUARANTINED,
    RELEASED,
    era_status,
)

__all__ = [
    "CHUNK_CLAIMS",
    "CREATE_ATTEMPTS",
    "HEADER_PROBLEMS",
    "NOT_POSTED",
    "PENDING",
    "PENDING_SHOWN",
    "POSTED",
    "POSTED_WITH_UNMATCHED",
    "POSTING",
    "QUARANTINED",
    "RELEASED",
    "SEND_EVERY",
    "EraFileSummary",
    "EraNotFound",
    "EraNotReleasable",
    "EraRecordConflict",
    "StagingError",
    "continue_era_file",
    "era_id_for",
    "era_ids_for",
    "era_status",
    "file_id_for",
    "list_eras",
    "posting_problems",
    "receive_era_file",
    "reconciliation",
    "release_era",
    "to_remittance",
]
