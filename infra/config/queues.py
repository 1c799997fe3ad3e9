"""The SQS queues: which function consumes each, which S3 prefix notifies it, who sends to it."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.functions import FUNCTIONS, PENDING_FUNCTIONS
from medbill.prefixes import (
    ACKS_PREFIX,
    ELIGIBILITY_271_PREFIX,
    ENCOUNTERS_PREFIX,
    ERA_PREFIX,
    STATUS_277_PREFIX,
)


# --- SQS ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueSpec:
    name: str
    consumer: str  # key in FUNCTIONS
    batch_size: int = 10
    max_receive_count: int = 3  # after this many failed receives a message moves to the DLQ

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"

    @property
    def visibility_timeout_seconds(self) -> int:
        # AWS guidance: at least 6x the consumer's timeout, so a retried batch never overlaps.
        return 6 * {**FUNCTIONS, **PENDING_FUNCTIONS}[self.consumer].timeout_seconds


INTAKE_QUEUE = QueueSpec(name="medbill-intake", consumer="intake", batch_size=5)
REMITTANCE_QUEUE = QueueSpec(name="medbill-remittance", consumer="remittance", batch_size=5)
# One message per claim payment: remittance fans an 835 out to it. No S3 prefix feeds it.
# (A claim that turns up late, or a person's match, posts in place: await_token and the api.)
POSTING_QUEUE = QueueSpec(name="medbill-posting", consumer="posting", batch_size=10)
# 999 and 277CA files (S3 notifications only: no function sends to it).
ACKS_QUEUE = QueueSpec(name="medbill-acks", consumer="acks", batch_size=5)
# 271s the clearinghouse exchange fetched into eligibility/271/ -> eligibility_271 (S3 notifications only).
ELIGIBILITY_271_QUEUE = QueueSpec(name="medbill-eligibility-271", consumer="eligibility_271", batch_size=5)
QUEUES = (INTAKE_QUEUE, REMITTANCE_QUEUE, POSTING_QUEUE, ACKS_QUEUE, ELIGIBILITY_271_QUEUE)
# Which S3 prefix notifies which queue.
# 277 claim status answers (status/277/) are read by the acks function too (decision 24).
NOTIFICATIONS = {
    ENCOUNTERS_PREFIX: INTAKE_QUEUE,
    ERA_PREFIX: REMITTANCE_QUEUE,
    ACKS_PREFIX: ACKS_QUEUE,
    STATUS_277_PREFIX: ACKS_QUEUE,
    ELIGIBILITY_271_PREFIX: ELIGIBILITY_271_QUEUE,
}
# Queues and notifications of PENDING_FUNCTIONS (none today): they join QUEUES / NOTIFICATIONS when
# infra/constructs builds their consumer; the local runtime runs them already (LOCAL_*).
PENDING_QUEUES: tuple[QueueSpec, ...] = ()
PENDING_NOTIFICATIONS: dict[str, QueueSpec] = {}
# What the local runtime provisions and runs: the stack's, plus the pending consumers of S3 prefixes
# (the clearinghouse function runs locally as infra/local/clearinghouse_bridge instead).
LOCAL_QUEUES = QUEUES + PENDING_QUEUES
LOCAL_FUNCTIONS = {**FUNCTIONS, **{spec.consumer: PENDING_FUNCTIONS[spec.consumer] for spec in PENDING_QUEUES}}
LOCAL_NOTIFICATIONS = {**NOTIFICATIONS, **PENDING_NOTIFICATIONS}

# Functions that send messages to a queue (besides S3 notifications). Each gets sqs:SendMessage on
# that queue only and the queue's URL in its environment (QUEUE_URL_ENV).
SENDS_TO_POSTING = frozenset({"remittance"})
# A big encounter file continues in a new message when intake's time runs low:
# {"kind": "continue_intake", "key": ..., "from_record": n}.
SENDS_TO_INTAKE = frozenset({"intake"})
# Release of a quarantined ERA (api): {"kind": "release", ...}; a big ERA's fan-out continuing in a new
# message when remittance's time runs low: {"kind": "continue_era", "source_key": ..., "file_id": ...}.
SENDS_TO_REMITTANCE = frozenset({"api", "remittance"})
QUEUE_SENDERS: dict[str, frozenset[str]] = {
    INTAKE_QUEUE.name: SENDS_TO_INTAKE,
    POSTING_QUEUE.name: SENDS_TO_POSTING,
    REMITTANCE_QUEUE.name: SENDS_TO_REMITTANCE,
}
# QueueSpec.name -> the environment variable that carries its URL.
QUEUE_URL_ENV: dict[str, str] = {
    INTAKE_QUEUE.name: "INTAKE_QUEUE_URL",
    POSTING_QUEUE.name: "POSTING_QUEUE_URL",
    REMITTANCE_QUEUE.name: "REMITTANCE_QUEUE_URL",
}


def queues_sent_to(function: str) -> tuple[QueueSpec, ...]:
    """The queues `function` (a FUNCTIONS key) sends messages to, in config.QUEUES order."""
    return tuple(spec for spec in QUEUES if function in QUEUE_SENDERS.get(spec.name, frozenset()))
