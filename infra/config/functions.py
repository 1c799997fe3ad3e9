"""The Lambda functions (name, timeout, memory, handler) and the schedules that run some of them."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.names import PROJECT


# --- Lambda functions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionSpec:
    name: str  # stage name; the directory under functions/ unless `code` names another
    timeout_seconds: int
    memory_mb: int = 512
    code: str = ""  # functions/<code>/handler.py when one handler file serves several functions
    entry: str = "handler"  # the function in that file

    @property
    def code_dir(self) -> str:
        return self.code or self.name

    @property
    def handler(self) -> str:
        return f"{self.code_dir}.handler.{self.entry}"

    @property
    def function_name(self) -> str:
        return f"{PROJECT}-{self.name}"


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("intake", timeout_seconds=120, memory_mb=1024),
        FunctionSpec("registration", timeout_seconds=30),
        FunctionSpec("eligibility", timeout_seconds=30),
        FunctionSpec("coding", timeout_seconds=30, memory_mb=1024),
        FunctionSpec("charges", timeout_seconds=30),
        FunctionSpec("submission", timeout_seconds=60),
        FunctionSpec("await_token", timeout_seconds=30),
        FunctionSpec("remittance", timeout_seconds=300, memory_mb=1024),
        # One claim payment per SQS message, fanned out by remittance.
        FunctionSpec("posting", timeout_seconds=60, memory_mb=512),
        FunctionSpec("followup", timeout_seconds=30),
        FunctionSpec("api", timeout_seconds=29),
        # Acknowledgements (999, 277CA) drive claims: S3 `acks/` -> SQS (ACKS_QUEUE) -> acks (decision 23).
        FunctionSpec("acks", timeout_seconds=120, memory_mb=512),
        # Scheduled (SCHEDULES): the clearinghouse exchange over SFTP (decision 14), the eligibility
        # checks the payer did not answer (decision 22), the daily timely-filing check and the
        # monthly patient statements (decisions 18, 21: followup's other entry points, as functions
        # of their own so each gets only its own permissions and environment).
        FunctionSpec("clearinghouse", timeout_seconds=300, memory_mb=512),
        FunctionSpec("eligibility_retry", timeout_seconds=60),
        FunctionSpec("timely_filing", timeout_seconds=300, code="followup", entry="scheduled"),
        FunctionSpec("statements", timeout_seconds=900, memory_mb=1024, code="followup", entry="statements"),
        FunctionSpec("status_inquiry", timeout_seconds=300),
        # Batch eligibility (docs/eligibility.md, decision 26): the evening 270 run (scheduled) and the
        # consumer of its 271s (S3 eligibility/271/ -> ELIGIBILITY_271_QUEUE).
        FunctionSpec("eligibility_batch", timeout_seconds=300, memory_mb=1024),
        FunctionSpec("eligibility_271", timeout_seconds=120, memory_mb=512),
    )
}


CLEARINGHOUSE_FUNCTION = FUNCTIONS["clearinghouse"]
ELIGIBILITY_RETRY_FUNCTION = FUNCTIONS["eligibility_retry"]
ACKS_FUNCTION = FUNCTIONS["acks"]
# Functions written but not yet built by the CDK stack (none today): they join FUNCTIONS, with their
# settings model in FUNCTION_SETTINGS, when infra/constructs builds them.
PENDING_FUNCTIONS: dict[str, FunctionSpec] = {}
ELIGIBILITY_BATCH_FUNCTION = FUNCTIONS["eligibility_batch"]
ELIGIBILITY_271_FUNCTION = FUNCTIONS["eligibility_271"]

# --- Schedules (EventBridge rules -> the function; each scheduled function is idempotent) ---------
CLEARINGHOUSE_SCHEDULE = "rate(5 minutes)"  # SFTP exchange: 837Ps out, answers in
# Eligibility checks the payer did not answer are asked again (docs/eligibility.md).
ELIGIBILITY_RETRY_SCHEDULE = "rate(5 minutes)"
# Daily timely-filing check (functions/followup/handler.scheduled): flags claims near their filing
# deadline onto the timely_filing worklist. 06:00 UTC, before the billing office starts.
TIMELY_FILING_SCHEDULE = "cron(0 6 * * ? *)"
TIMELY_FILING_HANDLER = FUNCTIONS["timely_filing"].handler
# Monthly patient statements (functions/followup/handler.statements): the 1st, 07:00 UTC.
STATEMENTS_SCHEDULE = "cron(0 7 1 * ? *)"
STATEMENTS_HANDLER = FUNCTIONS["statements"].handler
# Batch eligibility (docs/eligibility.md, decision 26). The evening run writes the 270 batches:
# claims table (UpdateItem on the x12-interchange COUNTER#, GetItem on ELIGANSWER#), data bucket
# (read appointments/; write rejections/appointments/, outbox/270/; read, list and conditional-put
# eligibility/batches/) and the X12_* envelope identity the submission function gets.
# 00:30 UTC = 7:30 PM US Eastern standard time (8:30 PM daylight): 270s go out before the CORE
# batch rule's 9 PM (local time) so 271s are due by 7 AM; the exchange sends within 5 minutes.
ELIGIBILITY_BATCH_SCHEDULE = "cron(30 0 * * ? *)"
# Its 271s (ELIGIBILITY_271_QUEUE): claims table (PutItem on ELIGANSWER#), idempotency table, data
# bucket (read eligibility/271/ and eligibility/batches/manifest/; write eligibility/reports/).
# permissions.ACCESS holds both grants.
# Claim status inquiry (276/277, decision 24): daily, 05:00 UTC, before the exchange's next runs; it
# writes 276s to outbox/276/ (s3:PutObject there), reads claims by status and stamps them, and takes
# interchange control numbers from the claims table's counter. The 277s come back through the
# exchange into status/277/, which notifies the acks queue (NOTIFICATIONS).
STATUS_INQUIRY_FUNCTION = FUNCTIONS["status_inquiry"]
STATUS_INQUIRY_SCHEDULE = "cron(0 5 * * ? *)"


@dataclass(frozen=True)
class ScheduleSpec:
    function: str  # key in FUNCTIONS
    expression: str  # EventBridge schedule expression (UTC)
    description: str


SCHEDULES = (
    ScheduleSpec("clearinghouse", CLEARINGHOUSE_SCHEDULE, "clearinghouse exchange: send 837Ps, fetch answers"),
    ScheduleSpec("eligibility_retry", ELIGIBILITY_RETRY_SCHEDULE, "ask again the eligibility checks not answered"),
    ScheduleSpec("timely_filing", TIMELY_FILING_SCHEDULE, "daily: claims near their timely filing deadline"),
    ScheduleSpec("statements", STATEMENTS_SCHEDULE, "monthly: patient statements"),
    ScheduleSpec("status_inquiry", STATUS_INQUIRY_SCHEDULE, "daily: 276 claim status inquiries for quiet claims"),
    ScheduleSpec("eligibility_batch", ELIGIBILITY_BATCH_SCHEDULE, "nightly: 270 eligibility batches for appointments"),
)
SCHEDULED_FUNCTIONS = frozenset(spec.function for spec in SCHEDULES)
# Scheduled runs are asynchronous invocations: an event Lambda gives up on lands in this queue.
SCHEDULED_DLQ = "medbill-scheduled-dlq"
