"""Names, key schemas, queue settings and timeouts shared by the CDK stack and the local runtime.

Both `infra/stack.py` and `infra/local/` read this module, and `tests/infra/test_config_parity.py`
holds the synthesized template and this module side by side so the cloud and the laptop cannot drift.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError

from medbill.entry.settings import (
    DEMO_IDENTITY,
    FUNCTION_SETTINGS,
    IDENTITY_VARIABLES,
    PENDING_FUNCTION_SETTINGS,
    EnvelopeSettings,
    SettingsError,
    variables,
)
from medbill.entry.settings import ClearinghouseSettings as _ClearinghouseSettings

PROJECT = "medbill"
REPO_ROOT = Path(__file__).resolve().parent.parent
ASL_PATH = REPO_ROOT / "infra" / "statemachine" / "claim.asl.json"
LAYER_PATH = REPO_ROOT / "layers" / "medbill"
FUNCTIONS_PATH = REPO_ROOT / "functions"

# --- S3: one data bucket, one prefix per kind of file -------------------------------------------
DATA_BUCKET = "medbill-data"  # local name; the CDK stack lets CloudFormation name the bucket
from medbill.prefixes import (  # noqa: E402  (the Lambda code and the infra share one definition)
    ACK_277CA_PREFIX,
    ACK_999_PREFIX,
    ACKS_PREFIX,
    APPOINTMENTS_PREFIX,
    CLEARINGHOUSE_QUARANTINE_PREFIX,
    CLINIC_PROFILES_PREFIX,
    ELIGIBILITY_271_PREFIX,
    ELIGIBILITY_BATCH_LEDGER_PREFIX,
    ELIGIBILITY_REPORTS_PREFIX,
    ENCOUNTERS_PREFIX,
    ERA_PREFIX,
    ERA_REPORTS_PREFIX,
    ERA_WORK_PREFIX,
    EXCHANGE_LEDGER_PREFIX,
    FHIR_API_PREFIX,
    OUTBOX_270_PREFIX,
    OUTBOX_276_PREFIX,
    OUTBOX_837_PREFIX,
    OUTBOX_PREFIXES,
    REJECTIONS_PREFIX,
    STATUS_277_PREFIX,
)

__all__ = [
    "ACKS_PREFIX",
    "ACK_277CA_PREFIX",
    "ACK_999_PREFIX",
    "APPOINTMENTS_PREFIX",
    "CLEARINGHOUSE_QUARANTINE_PREFIX",
    "CLINIC_PROFILES_PREFIX",
    "ELIGIBILITY_271_PREFIX",
    "ELIGIBILITY_BATCH_LEDGER_PREFIX",
    "ELIGIBILITY_REPORTS_PREFIX",
    "ENCOUNTERS_PREFIX",
    "ERA_PREFIX",
    "ERA_REPORTS_PREFIX",
    "ERA_WORK_PREFIX",
    "EXCHANGE_LEDGER_PREFIX",
    "FHIR_API_PREFIX",
    "OUTBOX_270_PREFIX",
    "OUTBOX_276_PREFIX",
    "OUTBOX_837_PREFIX",
    "OUTBOX_PREFIXES",
    "REJECTIONS_PREFIX",
    "STATUS_277_PREFIX",
]


# --- DynamoDB -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GsiSpec:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    partition_key: str
    sort_key: str | None
    gsis: tuple[GsiSpec, ...] = ()
    ttl_attribute: str | None = None


CLAIMS_TABLE = TableSpec(
    name="medbill-claims",
    partition_key="pk",
    sort_key="sk",
    gsis=(
        # Work queues: every claim in a status, oldest first. Only claim items carry these keys.
        GsiSpec(name="by-status", partition_key="status", sort_key="updated_at"),
        # Clinic views: a clinic's claims by date of service.
        GsiSpec(name="by-clinic", partition_key="clinic_id", sort_key="date_of_service"),
        # Follow-up worklists: a list's claims, money at stake first, then oldest (sparse: only
        # claims on a worklist carry the keys; billing.worklists.worklist_of).
        GsiSpec(name="by-worklist", partition_key="worklist", sort_key="worklist_order"),
        # The same lists per clinic (`<clinic>#<worklist>`): a clinic's staff read theirs by key.
        GsiSpec(name="by-clinic-worklist", partition_key="clinic_worklist", sort_key="worklist_order"),
    ),
    # Eligibility answers (`ELIGANSWER#` items, adapters/dynamodb/eligibility.py) expire on `expires_at`
    # (epoch seconds, two days after the day they answer for); no other item carries it.
    ttl_attribute="expires_at",
)

# The data bucket's CORS for the staff console's presigned uploads (POST /clinics/{id}/uploads):
# the console's origin only (CloudFront's in AWS, the local server's on the laptop), a form POST.
CONSOLE_UPLOAD_CORS: tuple[dict[str, Any], ...] = (
    {"AllowedMethods": ["POST"], "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
)

# Powertools idempotency table: its default key and TTL attribute names.
IDEMPOTENCY_TABLE = TableSpec(name="medbill-idempotency", partition_key="id", sort_key=None, ttl_attribute="expiration")


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

# --- Secrets Manager (values are put by an operator after deploy: docs/operations.md) ------------
CLEARINGHOUSE_SECRET_NAME = f"{PROJECT}/clearinghouse/sftp"  # adapters.sftp.SftpSecret
ELIGIBILITY_SECRET_NAME = f"{PROJECT}/clearinghouse/core"  # adapters.eligibility_core.CoreSecret
# Secret (by name) -> the variable that carries its ARN, and the functions that read it.
SECRET_VARIABLES = {
    CLEARINGHOUSE_SECRET_NAME: "CLEARINGHOUSE_SECRET_ID",
    ELIGIBILITY_SECRET_NAME: "ELIGIBILITY_SECRET_ID",
}


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


# --- Step Functions -------------------------------------------------------------------------------
STATE_MACHINE_NAME = "medbill-claim"


@dataclass(frozen=True)
class WorkflowTimeouts:
    """Waits in the claim state machine. Days in production, seconds in tests."""

    remittance_wait_seconds: int  # Submit -> 835 posted; then the claim goes to follow-up
    staff_hold_seconds: int  # a claim on hold waits this long for a person
    retry_interval_seconds: int  # first Lambda retry interval (backoff 2x)
    # Longest wait between retries of our transient errors (ConcurrentUpdate, AwsThrottled, ...):
    # 4 attempts with full jitter, 2x backoff, capped here.
    retry_max_delay_seconds: int = 2

    @classmethod
    def production(cls) -> WorkflowTimeouts:
        return cls(
            remittance_wait_seconds=45 * 24 * 3600,
            staff_hold_seconds=30 * 24 * 3600,
            retry_interval_seconds=2,
            retry_max_delay_seconds=60,
        )

    @classmethod
    def local(cls) -> WorkflowTimeouts:
        return cls(remittance_wait_seconds=120, staff_hold_seconds=600, retry_interval_seconds=1)


# ASL placeholder -> FUNCTIONS key. The ASL file names every Lambda through these.
ASL_FUNCTION_SUBSTITUTIONS = {
    "RegistrationFunctionArn": "registration",
    "EligibilityFunctionArn": "eligibility",
    "CodingFunctionArn": "coding",
    "ChargesFunctionArn": "charges",
    "SubmissionFunctionArn": "submission",
    "AwaitTokenFunctionArn": "await_token",
    "FollowupFunctionArn": "followup",
}


def asl_substitutions(function_arns: dict[str, str], timeouts: WorkflowTimeouts) -> dict[str, str]:
    """Values for every `${Name}` placeholder in claim.asl.json."""
    subs = {placeholder: function_arns[fn] for placeholder, fn in ASL_FUNCTION_SUBSTITUTIONS.items()}
    subs["RemittanceWaitSeconds"] = str(timeouts.remittance_wait_seconds)
    subs["StaffHoldSeconds"] = str(timeouts.staff_hold_seconds)
    subs["RetryIntervalSeconds"] = str(timeouts.retry_interval_seconds)
    subs["RetryMaxDelaySeconds"] = str(timeouts.retry_max_delay_seconds)
    return subs


def render_asl(substitutions: dict[str, str]) -> str:
    """The ASL text with placeholders filled, as CloudFormation's DefinitionSubstitutions would."""
    text = ASL_PATH.read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        raise ValueError("claim.asl.json has a placeholder with no value: " + text[text.index("${") :][:40])
    return text


# --- Clearinghouse envelope (837P ISA/GS): defined with the Lambda settings, re-exported here ----
ClearinghouseSettings = _ClearinghouseSettings


# --- Deployment stage and the 837P envelope identity -------------------------------------------
# The shell that runs `cdk synth` / `cdk deploy` (or the local runtime) names the stage and the
# clearinghouse identity with the same X12_* variables the submission function reads (README,
# "Deploying"). A prod stage writes ISA15=P and refuses to synthesize without a real identity; any
# other stage (demo, dev, test) writes T, whatever X12_USAGE_INDICATOR says.
STAGE_VARIABLE = "MEDBILL_STAGE"
PRODUCTION_STAGES = frozenset({"prod", "production"})


class ProductionIdentityMissing(RuntimeError):
    """A production stage without a real envelope identity: names the variables, never values."""


def deployment_stage(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(STAGE_VARIABLE, "demo").strip().lower() or "demo"


def envelope_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The X12_* variables for the submission function, from the deploying environment."""
    env = os.environ if environ is None else environ
    production = deployment_stage(env) in PRODUCTION_STAGES
    values = {name: env[name] for name in sorted(variables(EnvelopeSettings)) if env.get(name)}
    values["X12_USAGE_INDICATOR"] = "P" if production else "T"
    if production:
        demo = {var: getattr(DEMO_IDENTITY, attr) for var, attr in IDENTITY_VARIABLES.items()}
        left = [var for var, value in demo.items() if values.get(var, value) == value]
        if left:
            raise ProductionIdentityMissing(
                f"{STAGE_VARIABLE}={deployment_stage(env)} writes ISA15=P: set a real "
                f"clearinghouse identity in {', '.join(left)} (README, Deploying)"
            )
    try:
        EnvelopeSettings.model_validate({name.lower(): value for name, value in values.items()})
    except ValidationError as err:  # a bad qualifier or phone: names the variables only
        bad = sorted({str(e["loc"][0]).upper() for e in err.errors(include_input=False) if e["loc"]})
        raise SettingsError(f"envelope variables invalid: {', '.join(bad)}") from None
    return values


# --- Environment passed to every Lambda ----------------------------------------------------------
# Each function gets the variables its settings model (medbill.entry.settings.FUNCTION_SETTINGS)
# reads, and no others: the model is the one list, loaded and checked at the function's cold start.
@dataclass(frozen=True)
class LambdaEnvironment:
    table_name: str
    idempotency_table_name: str
    data_bucket: str
    state_machine_arn: str
    extra: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)  # QueueSpec.name -> queue URL
    secret_ids: dict[str, str] = field(default_factory=dict)  # variable (SECRET_VARIABLES) -> secret ARN
    # X12_* for the functions whose settings read them (submission), from the deploying environment.
    envelope: dict[str, str] = field(default_factory=envelope_environment)

    def values(self) -> dict[str, str]:
        """Every variable this environment can give, by name (queue URLs only where known)."""
        known = {
            "TABLE_NAME": self.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
            "DATA_BUCKET": self.data_bucket,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            **self.envelope,
        }
        # Queues nobody sends to (the acks queue: S3 notifications only) have no URL variable.
        urls = {name: url for name, url in self.queue_urls.items() if url and name in QUEUE_URL_ENV}
        known.update({QUEUE_URL_ENV[name]: url for name, url in urls.items()})
        known.update({name: value for name, value in self.secret_ids.items() if value})
        return known

    def as_env(self, function: FunctionSpec) -> dict[str, str]:
        wanted = variables({**FUNCTION_SETTINGS, **PENDING_FUNCTION_SETTINGS}[function.name])
        env = {name: value for name, value in self.values().items() if name in wanted}
        env.update(
            {
                "POWERTOOLS_SERVICE_NAME": f"{PROJECT}-{function.name}",
                "POWERTOOLS_METRICS_NAMESPACE": PROJECT,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # X-Ray keeps traces outside our KMS key and retention: record timings and errors, not
                # the handlers' responses (claims carry diagnoses and dates of service).
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            }
        )
        env.update(self.extra)
        return env


# Functions that start executions (their settings read STATE_MACHINE_ARN). Functions inside the
# state machine cannot be among them: their ARN would make a dependency cycle (state machine ->
# function -> state machine) in CloudFormation; they resume executions by task token, no ARN needed.
STARTS_OR_READS_EXECUTIONS = frozenset(
    name for name, model in FUNCTION_SETTINGS.items() if "STATE_MACHINE_ARN" in variables(model)
)


# --- Deployment options (cdk context or environment; none of them changes the local runtime) -----
@dataclass(frozen=True)
class DeployOptions:
    """What a deployment chooses. `from_context` reads `cdk deploy -c name=value` first, then the
    environment variable, then the default."""

    alarm_email: str | None = None  # medbill:alarm-email / MEDBILL_ALARM_EMAIL: subscribes to the alarm topic
    vpc: bool = False  # medbill:vpc / MEDBILL_VPC: functions in private subnets behind VPC endpoints
    clearinghouse_egress: bool = False  # medbill:clearinghouse-egress: NAT + SFTP egress (network.py)

    CONTEXT_KEYS: ClassVar[dict[str, tuple[str, str]]] = {
        "alarm_email": ("medbill:alarm-email", "MEDBILL_ALARM_EMAIL"),
        "vpc": ("medbill:vpc", "MEDBILL_VPC"),
        "clearinghouse_egress": ("medbill:clearinghouse-egress", "MEDBILL_CLEARINGHOUSE_EGRESS"),
    }

    @classmethod
    def from_context(cls, context: Callable[[str], object], environ: Mapping[str, str]) -> DeployOptions:
        def get(field_name: str) -> str | None:
            context_key, env_key = cls.CONTEXT_KEYS[field_name]
            value = context(context_key)
            if value is None:
                value = environ.get(env_key)
            return None if value is None or str(value).strip() == "" else str(value).strip()

        def flag(field_name: str) -> bool:
            return (get(field_name) or "").lower() in ("1", "true", "yes", "on")

        options = cls(
            alarm_email=get("alarm_email"), vpc=flag("vpc"), clearinghouse_egress=flag("clearinghouse_egress")
        )
        if options.clearinghouse_egress and not options.vpc:
            raise ValueError("medbill:clearinghouse-egress needs medbill:vpc=true")
        return options
