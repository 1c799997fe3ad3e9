"""The ports: what the billing domain needs from the outside, as small Protocols.

The domain (models, x12, intake, coding, billing, workflow) depends on these and never on boto3 or
an adapter; `medbill.adapters` implements them with AWS services, `tests/fakes.py` in memory, and
`medbill.entry.wiring` (the composition root) decides which serves which. The errors a port raises
are declared here too, so the domain can catch them without knowing the adapter.

One module per part of billing (claims, remittance, eligibility, the clearinghouse exchange, ...);
everything is re-exported here, so `from medbill.ports import ClaimStore` is the way to import a port.
"""

from __future__ import annotations

from medbill.models.claim import Claim
from medbill.models.eligibility import EligibilityInquiry, EligibilityResult
from medbill.ports.artifacts import Artifacts, ClinicProfileFiles, ObjectStat, ObjectVersion
from medbill.ports.audit import AccessAudit, AccessRecord
from medbill.ports.claims import (
    UNMATCHED_STATUS,
    BillingStore,
    ClaimEvent,
    ClaimStore,
    Consume,
    HeldReversal,
    Page,
    PostingState,
    UnmatchedRemittance,
    WorkItem,
)
from medbill.ports.eligibility import EligibilityAnswers, EligibilityGateway
from medbill.ports.errors import (
    AlreadyPosted,
    BadPageToken,
    ClaimNotFound,
    ConcurrentUpdate,
    InvalidClaimUpdate,
    ObjectReplaced,
    QueueSendError,
    StaleItem,
)
from medbill.ports.exchange import (
    Clearinghouse,
    ClearinghouseError,
    ClearinghouseUnavailable,
    ExchangeLedger,
    Outbox,
    RemoteFile,
)
from medbill.ports.executions import Executions, Workflow, claim_of_execution, execution_name
from medbill.ports.intake import EncounterUploads, IntakeQueue
from medbill.ports.remittance import EraContinuationQueue, EraResult, EraStore, PostingQueue, ReleaseQueue

__all__ = [
    "UNMATCHED_STATUS",
    "AccessAudit",
    "AccessRecord",
    "AlreadyPosted",
    "Artifacts",
    "BadPageToken",
    "BillingStore",
    "Claim",
    "ClaimEvent",
    "ClaimNotFound",
    "ClaimStore",
    "Clearinghouse",
    "ClearinghouseError",
    "ClearinghouseUnavailable",
    "ClinicProfileFiles",
    "ConcurrentUpdate",
    "Consume",
    "EligibilityAnswers",
    "EligibilityGateway",
    "EligibilityInquiry",
    "EligibilityResult",
    "EncounterUploads",
    "EraContinuationQueue",
    "EraResult",
    "EraStore",
    "ExchangeLedger",
    "Executions",
    "HeldReversal",
    "IntakeQueue",
    "InvalidClaimUpdate",
    "ObjectReplaced",
    "ObjectStat",
    "ObjectVersion",
    "Outbox",
    "Page",
    "PostingQueue",
    "PostingState",
    "QueueSendError",
    "ReleaseQueue",
    "RemoteFile",
    "StaleItem",
    "UnmatchedRemittance",
    "WorkItem",
    "Workflow",
    "claim_of_execution",
    "execution_name",
]
