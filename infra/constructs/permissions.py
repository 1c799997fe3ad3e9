"""What each function may do: the one list. `functions.py` grants exactly this, and
`tests/infra/test_permissions.py` holds every role in the synthesized template against it.

How the lists were made: the handlers in functions/ and what they call through
`medbill.entry.wiring` (the repository methods, the artifact store, the queues, the workflow
gateway), checked against the AWS calls each handler made in tests/e2e and tests/integration (a
recording of every botocore call by calling handler, see docs/operations.md "Permissions").

DynamoDB: base-table actions carry a `dynamodb:LeadingKeys` condition (the partition-key prefixes
the function's items live under, `ForAllValues:StringLike`); a Query on an index is granted on that
index only (its partition key is a status or clinic, not an item key, so no leading-key condition).
Transactions authorize as their per-item actions (Put/Update/Delete/ConditionCheck).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import config

STATEMENTS_PREFIX = "statements/"  # medbill.workflow.statements.STATEMENTS_PREFIX (a test holds them equal)

# Partition-key prefixes of the claims table (medbill.adapters.dynamodb.repository and billing/).
CLAIM = "CLAIM#*"  # claim, its events (EVENT#), ledger (LEDGER#), held reversals (HELDREV#)
PATIENT = "PATIENT#*"
PATIENT_KEY = "PATIENTKEY#*"
COUNTER = "COUNTER#*"  # interchange control numbers
INTERCHANGE = "INTERCHANGE#*"  # the claims each 837P carried (a 999 names only our control numbers)
ERA = "ERA#*"  # ERA header, claim results (CLP#), sends (SENT#)
ERA_LIST = "ERALIST"
CLINIC_ERA_LIST = "ERALIST#*"  # one clinic's ERAs (paid to a payee it bills under)
PAYEE = "PAYEE#*"  # the payee directory: billing provider NPI -> clinics (written with each claim)
ACCESS_AUDIT = "ACCESS#*"  # who read a claim, ledger or ERA (the staff API's access audit)
ERA_FILE = "ERAFILE#*"
UNMATCHED = "UNMATCHED#*"  # remittance that found no claim yet
ELIGANSWER = "ELIGANSWER#*"  # eligibility answers kept for their day (TTL expires_at)
STATEMENT = "STATEMENT#*"  # patient statement records per account and cycle

GET = "dynamodb:GetItem"
BATCH_GET = "dynamodb:BatchGetItem"
QUERY = "dynamodb:Query"
PUT = "dynamodb:PutItem"
UPDATE = "dynamodb:UpdateItem"
DELETE = "dynamodb:DeleteItem"
SCAN = "dynamodb:Scan"

# Powertools idempotency: get, conditional put, update on success, delete on failure.
IDEMPOTENCY_ACTIONS = (GET, PUT, UPDATE, DELETE)
# KMS through the services that encrypt for the function (conditioned on kms:ViaService).
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
TASK_RESPONSE_ACTIONS = ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat")
# Recovery (workflow.recovery): is a claim's execution over, and which executions failed.
READ_EXECUTION_ACTIONS = ("states:DescribeExecution", "states:ListExecutions")
SQS_CONSUMER_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
LIST_BUCKET = "s3:ListBucket"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


@dataclass(frozen=True)
class Access:
    """What one function may do. Everything not listed is denied (no role has other grants)."""

    claims_actions: tuple[str, ...]  # on the claims table, with leading keys (none: no table access)
    leading_keys: tuple[str, ...]
    index_queries: tuple[str, ...] = ()  # GSI names it queries
    scan_claims: bool = False  # dynamodb:Scan on the claims table (unfiltered claim lists)
    idempotency: bool = False  # Powertools idempotency table
    read_prefixes: tuple[str, ...] = ()  # s3:GetObject
    # s3:GetObjectVersion: reads pinned to a VersionId (intake reads one version of a file in every pass)
    read_version_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()  # s3:PutObject
    start_executions: bool = False  # states:StartExecution on the claim state machine
    task_response: bool = False  # states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat
    read_executions: bool = False  # states:DescribeExecution/ListExecutions (retry, stuck claims)
    # s3:ListBucket on the data bucket: listing these prefixes, and a 404 (not 403) for a missing
    # object, which the exchange ledger reads as "not recorded yet" (S3 answers 404 only to a caller
    # allowed to list the bucket, whatever prefix it names).
    list_prefixes: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()  # Secrets Manager secrets it reads (config.SECRET_VARIABLES names)

    @property
    def kms_via_services(self) -> tuple[str, ...]:
        """The services that use the data key for this function (kms:ViaService)."""
        services = ["dynamodb"] if self.claims_actions else []
        if self.read_prefixes or self.read_version_prefixes or self.write_prefixes:
            services.append("s3")
        if self.secrets:
            services.append("secretsmanager")
        if self.start_executions or self.task_response:
            services.append("states")
        return (*services, "sqs")  # SQS: every consumer and sender (and the scheduled DLQ); harmless for the others


# Every stage's claim step: read the claim, write it back with its event in one transaction
# (conditional Puts on the claim's version; no stage updates, deletes or batch-writes claim items).
_CLAIM_STEP = (GET, PUT)

ACCESS: dict[str, Access] = {
    # Creates claims (transaction: claim + event, conditional, and the payee directory entry),
    # reads one back on a duplicate.
    "intake": Access(
        claims_actions=(GET, PUT),
        leading_keys=(CLAIM, PAYEE),
        idempotency=True,
        # A file continued in a new message merges its rejections into the report already written.
        read_prefixes=(config.ENCOUNTERS_PREFIX, config.REJECTIONS_PREFIX, config.CLINIC_PROFILES_PREFIX),
        # Every pass of a file reads the version its notification named (decision 40).
        read_version_prefixes=(config.ENCOUNTERS_PREFIX,),
        write_prefixes=(config.REJECTIONS_PREFIX,),
        start_executions=True,
    ),
    # Matches the patient (name + DOB + member id key), upserts them, puts the patient id on the claim.
    "registration": Access(
        claims_actions=(GET, PUT, UPDATE),
        leading_keys=(CLAIM, PATIENT, PATIENT_KEY),
    ),
    # The claim step, today's answer for member + payer + date (ELIGANSWER#, asked once a day), and
    # the clearinghouse's CORE endpoint credentials.
    "eligibility": Access(
        claims_actions=_CLAIM_STEP, leading_keys=(CLAIM, ELIGANSWER), secrets=(config.ELIGIBILITY_SECRET_NAME,)
    ),
    "coding": Access(claims_actions=_CLAIM_STEP, leading_keys=(CLAIM,)),
    "charges": Access(claims_actions=_CLAIM_STEP, leading_keys=(CLAIM,)),
    # Takes the next interchange control number (a counter item), files the 837P and records which
    # claims the interchange carried (INTERCHANGE#, read by acks and the exchange).
    "submission": Access(
        claims_actions=(GET, PUT, UPDATE),
        leading_keys=(CLAIM, COUNTER, INTERCHANGE),
        write_prefixes=(config.OUTBOX_837_PREFIX,),
    ),
    # Parks the task token on the claim; resumes it itself when the 835 was posted before the wait
    # began, and posts remittance that waited unmatched for this claim (posting's writes).
    "await_token": Access(
        claims_actions=(GET, QUERY, PUT, DELETE),
        leading_keys=(CLAIM, ERA, UNMATCHED),
        task_response=True,
    ),
    # Checks an 835 whole, records the ERA (header, list entry, file index, claim results, sends),
    # quarantines or fans out one posting message per claim payment.
    # An ERA is listed for each clinic of its payee (a query of the payee directory first).
    "remittance": Access(
        claims_actions=(GET, QUERY, PUT, UPDATE),
        leading_keys=(ERA, ERA_LIST, CLINIC_ERA_LIST, ERA_FILE, PAYEE),
        idempotency=True,
        read_prefixes=(config.ERA_PREFIX,),
        write_prefixes=(config.ERA_REPORTS_PREFIX,),
    ),
    # One claim payment per message (the message carries the data: no S3): ledger entry, claim,
    # ERA claim result, unmatched item, in one transaction; resumes the claim's waiting execution.
    "posting": Access(
        claims_actions=(GET, QUERY, PUT, DELETE),
        leading_keys=(CLAIM, ERA, UNMATCHED),
        task_response=True,
    ),
    # Routes the claim (follow-up action, FAILED); corrected claims are not filed yet: no S3.
    "followup": Access(claims_actions=_CLAIM_STEP, leading_keys=(CLAIM,)),
    # Staff API: reads claims, ERAs and work queues; rechecks holds, releases ERAs (a message to the
    # remittance queue), matches unmatched remittance (posting's writes). It reads no S3 object.
    "api": Access(
        claims_actions=(GET, BATCH_GET, QUERY, PUT, UPDATE, DELETE),
        # Claims (corrections and FHIR bundles create them, with their payee directory entry), ERAs
        # and their lists (the office's and each clinic's), unmatched remittance, the access audit.
        leading_keys=(CLAIM, ERA, ERA_LIST, CLINIC_ERA_LIST, UNMATCHED, PAYEE, ACCESS_AUDIT),
        index_queries=tuple(gsi.name for gsi in config.CLAIMS_TABLE.gsis),
        # No scan: every listing is a keyed query (an admin's unfiltered claim list walks by-status).
        task_response=True,
        # Clinic profiles, POST /fhir/Bundle (the bundle, its report, its claims), the intake report of
        # a console upload (rejections/encounters/...), and the presigned POST of the upload itself: S3
        # authorizes it as a PutObject by this role, on the clinic's folder under encounters/.
        read_prefixes=(config.CLINIC_PROFILES_PREFIX, config.REJECTIONS_PREFIX),
        write_prefixes=(
            config.CLINIC_PROFILES_PREFIX,
            config.FHIR_API_PREFIX,
            config.REJECTIONS_PREFIX,
            config.ENCOUNTERS_PREFIX,
        ),
        start_executions=True,
        read_executions=True,  # POST /claims/{id}/retry, GET /worklists/stuck-claims
    ),
    # 999 / 277CA files (S3 acks/ -> SQS): the interchange's claims (999), each claim's acknowledgement
    # saved once (by file key), a rejected claim's waiting execution resumed to follow-up.
    "acks": Access(
        claims_actions=(GET, QUERY, PUT),
        leading_keys=(CLAIM, INTERCHANGE),
        idempotency=True,
        read_prefixes=(config.ACK_999_PREFIX, config.ACK_277CA_PREFIX, config.STATUS_277_PREFIX),  # + 277s
        task_response=True,
    ),
    # --- scheduled (config.SCHEDULES) ---
    # SFTP exchange: 837Ps from the outbox out, answers into their prefixes (quarantine when
    # unclassified), every file recorded once in the exchange ledger (S3 conditional puts); each
    # sent file stamped on the claims it carried (proof of filing: INTERCHANGE#, then the claim).
    "clearinghouse": Access(
        claims_actions=(GET, QUERY, PUT),
        leading_keys=(CLAIM, INTERCHANGE),
        read_prefixes=(config.OUTBOX_837_PREFIX, config.OUTBOX_276_PREFIX, config.EXCHANGE_LEDGER_PREFIX),
        write_prefixes=(
            config.ACK_999_PREFIX,
            config.ACK_277CA_PREFIX,
            config.STATUS_277_PREFIX,
            config.ERA_PREFIX,
            config.ELIGIBILITY_271_PREFIX,
            config.CLEARINGHOUSE_QUARANTINE_PREFIX,
            config.EXCHANGE_LEDGER_PREFIX,
        ),
        list_prefixes=(config.OUTBOX_837_PREFIX, config.OUTBOX_276_PREFIX, config.EXCHANGE_LEDGER_PREFIX),
        secrets=(config.CLEARINGHOUSE_SECRET_NAME,),
    ),
    # Held claims whose check is due (the by-status queue), cleared token saved, execution resumed.
    "eligibility_retry": Access(
        claims_actions=_CLAIM_STEP, leading_keys=(CLAIM,), index_queries=("by-status",), task_response=True
    ),
    # Unfiled and follow-up claims (by-status), the alert saved on those near their deadline.
    "timely_filing": Access(claims_actions=_CLAIM_STEP, leading_keys=(CLAIM,), index_queries=("by-status",)),
    # Quiet claims (by-status) get a 276 each, in files under outbox/276/ with the next interchange
    # control numbers (COUNTER#); each claim stamped with its inquiry.
    "status_inquiry": Access(
        claims_actions=(GET, PUT, UPDATE),
        leading_keys=(CLAIM, COUNTER),
        index_queries=("by-status",),
        write_prefixes=(config.OUTBOX_276_PREFIX,),
    ),
    # Batch eligibility (decision 26). The evening run: each appointments file not batched yet (listed)
    # becomes a 270 in outbox/270/ with its rejection report; the next interchange control number
    # (COUNTER#, shared with the 837Ps); today's answers looked up (ELIGANSWER#) so answered visits are
    # not asked again; the batch ledger (eligibility/batches/: listed, read, written by conditional put).
    "eligibility_batch": Access(
        claims_actions=(GET, UPDATE),
        leading_keys=(COUNTER, ELIGANSWER),
        read_prefixes=(config.APPOINTMENTS_PREFIX, config.ELIGIBILITY_BATCH_LEDGER_PREFIX),
        write_prefixes=(
            f"{config.REJECTIONS_PREFIX}{config.APPOINTMENTS_PREFIX}",
            config.OUTBOX_270_PREFIX,
            config.ELIGIBILITY_BATCH_LEDGER_PREFIX,
        ),
        list_prefixes=(config.APPOINTMENTS_PREFIX, config.ELIGIBILITY_BATCH_LEDGER_PREFIX),
    ),
    # Its 271s (S3 eligibility/271/ -> SQS): each matched to its 270's manifest, the answers kept for
    # the day (ELIGANSWER#), a report per file. ListBucket so a manifest that is not there reads as a
    # 404 (reported as missing) rather than a 403 (retried into the DLQ).
    # Keeps the answers (ELIGANSWER#), then resumes the claims held for an unanswered check that they
    # cover: the by-status list, the claim step of recheck_hold, SendTaskSuccess.
    "eligibility_271": Access(
        claims_actions=_CLAIM_STEP,
        leading_keys=(ELIGANSWER, CLAIM),
        index_queries=("by-status",),
        task_response=True,
        idempotency=True,
        read_prefixes=(config.ELIGIBILITY_271_PREFIX, f"{config.ELIGIBILITY_BATCH_LEDGER_PREFIX}manifest/"),
        write_prefixes=(config.ELIGIBILITY_REPORTS_PREFIX,),
        list_prefixes=(f"{config.ELIGIBILITY_BATCH_LEDGER_PREFIX}manifest/",),
    ),
    # The bill_patient worklist, each account's statements (a conditional put per cycle), the files.
    "statements": Access(
        claims_actions=(GET, QUERY, PUT),
        leading_keys=(CLAIM, STATEMENT),
        index_queries=("by-worklist",),
        write_prefixes=(STATEMENTS_PREFIX,),
    ),
}


def allowed_actions(name: str, *, vpc: bool = False) -> frozenset[str]:
    """Every IAM action the role of function `name` may hold (the test's list)."""
    access = ACCESS[name]
    actions = {*LOG_ACTIONS, *XRAY_ACTIONS, *KEY_ACTIONS, *access.claims_actions}
    if access.index_queries:
        actions.add(QUERY)
    if access.scan_claims:
        actions.add(SCAN)
    if access.idempotency:
        actions.update(IDEMPOTENCY_ACTIONS)
    if access.read_prefixes:
        actions.add("s3:GetObject")
    if access.read_version_prefixes:
        actions.add("s3:GetObjectVersion")
    if access.write_prefixes:
        actions.add("s3:PutObject")
    if access.start_executions:
        actions.add("states:StartExecution")
    if access.task_response:
        actions.update(TASK_RESPONSE_ACTIONS)
    if access.read_executions:
        actions.update(READ_EXECUTION_ACTIONS)
    if config.queues_sent_to(name) or name in config.SCHEDULED_FUNCTIONS:  # scheduled: their DLQ
        actions.add("sqs:SendMessage")
    if access.list_prefixes:
        actions.add(LIST_BUCKET)
    if access.secrets:
        actions.update(SECRET_ACTIONS)
    if any(spec.consumer == name for spec in config.QUEUES):
        actions.update(SQS_CONSUMER_ACTIONS)
    if vpc:
        actions.update(VPC_ACTIONS)
    return frozenset(actions)
