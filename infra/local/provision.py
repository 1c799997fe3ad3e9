"""Create every medbill resource from infra.config against the current boto3 endpoint.

The same names, key schemas, GSIs, queue settings and ASL the CDK stack uses, so the laptop and
the cloud cannot drift. Works against moto in-process (`mock_aws`) or the threaded moto server
(`endpoint_url`).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra import config

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account

LAMBDA_ROLE_NAME = "medbill-local-lambda"
STATES_ROLE_NAME = "medbill-local-states"

# Locally a failed SQS message should come back in seconds, not 6x the consumer timeout (minutes):
# the poller runs one batch at a time per queue, so a short visibility timeout cannot make two
# consumers overlap on a message, and a poison message reaches its DLQ within a demo's patience.
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class QueueResources:
    spec: config.QueueSpec
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str
    visibility_timeout_seconds: int


@dataclass(frozen=True)
class LocalResources:
    region: str
    account_id: str
    endpoint_url: str | None
    bucket: str
    claims_table: str
    idempotency_table: str
    queues: dict[str, QueueResources]  # QueueSpec.name -> resources
    function_arns: dict[str, str]  # FUNCTIONS key -> ARN
    state_machine_arn: str
    lambda_role_arn: str
    timeouts: config.WorkflowTimeouts
    environment: dict[str, str] = field(default_factory=dict)  # what in-process handlers see

    def queue(self, name_or_consumer: str) -> QueueResources:
        for queue in self.queues.values():
            if name_or_consumer in (queue.spec.name, queue.spec.consumer):
                return queue
        raise KeyError(name_or_consumer)


def client(service: str, endpoint_url: str | None = None, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def ensure_aws_environment(region: str = REGION) -> None:
    """Region and dummy credentials for boto3 when the caller set none (never real ones)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
        os.environ["AWS_ACCESS_KEY_ID"] = "testing"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"  # noqa: S105 - moto's dummy credentials


def _dummy_zip() -> bytes:
    # moto stores the code but never runs it (the bridge runs our handlers); Lambda wants a zip.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "medbill local: code runs in-process via infra/local/lambda_bridge.py\n")
    return buf.getvalue()


def _role(iam: Any, name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def _create_table(ddb: Any, spec: config.TableSpec) -> None:
    attrs = {spec.partition_key: "S"}
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        attrs[spec.sort_key] = "S"
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    gsis = []
    for gsi in spec.gsis:
        attrs[gsi.partition_key] = "S"
        attrs[gsi.sort_key] = "S"
        gsis.append(
            {
                "IndexName": gsi.name,
                "KeySchema": [
                    {"AttributeName": gsi.partition_key, "KeyType": "HASH"},
                    {"AttributeName": gsi.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    kwargs: dict[str, Any] = {
        "TableName": spec.name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in attrs.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    ddb.create_table(**kwargs)
    if spec.ttl_attribute:
        ddb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )


def _create_queue(sqs: Any, spec: config.QueueSpec, visibility_timeout: int) -> QueueResources:
    dlq_url = sqs.create_queue(QueueName=spec.dlq_name, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
    url = sqs.create_queue(
        QueueName=spec.name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return QueueResources(spec, url, arn, dlq_url, dlq_arn, visibility_timeout)


def _allow_s3(sqs: Any, queue: QueueResources, bucket: str, account_id: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue.arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(policy)})


def provision(
    *,
    endpoint_url: str | None = None,
    region: str = REGION,
    timeouts: config.WorkflowTimeouts | None = None,
    visibility_timeout_seconds: int | None = LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    extra_env: dict[str, str] | None = None,
    set_environ: bool = True,
) -> LocalResources:
    """Create the bucket, notifications, queues, tables, functions and state machine.

    `visibility_timeout_seconds=None` keeps config's production value (6x consumer timeout).
    `set_environ` exports the Lambda environment into os.environ for in-process handlers.
    """
    ensure_aws_environment(region)
    timeouts = timeouts or config.WorkflowTimeouts.local()

    def c(service: str) -> Any:
        return client(service, endpoint_url, region)

    iam, s3, sqs, ddb, lam, sfn = (c(s) for s in ("iam", "s3", "sqs", "dynamodb", "lambda", "stepfunctions"))
    account_id = str(c("sts").get_caller_identity()["Account"])

    # DynamoDB
    _create_table(ddb, config.CLAIMS_TABLE)
    _create_table(ddb, config.IDEMPOTENCY_TABLE)

    # SQS, then S3 -> SQS notifications (moto sends an s3:TestEvent to each queue when set)
    queues: dict[str, QueueResources] = {}
    for spec in config.LOCAL_QUEUES:
        vt = visibility_timeout_seconds or spec.visibility_timeout_seconds
        queues[spec.name] = _create_queue(sqs, spec, vt)
    bucket = config.DATA_BUCKET
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    for queue in queues.values():
        _allow_s3(sqs, queue, bucket, account_id)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": f"{spec.name}-{prefix.strip('/')}",
                    "QueueArn": queues[spec.name].arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
                for prefix, spec in config.LOCAL_NOTIFICATIONS.items()
            ]
        },
    )

    # Lambda: the ARNs are known before the state machine exists, its ARN before it is created.
    state_machine_arn = f"arn:aws:states:{region}:{account_id}:stateMachine:{config.STATE_MACHINE_NAME}"
    lambda_env = config.LambdaEnvironment(
        table_name=config.CLAIMS_TABLE.name,
        idempotency_table_name=config.IDEMPOTENCY_TABLE.name,
        data_bucket=bucket,
        state_machine_arn=state_machine_arn,
        extra=dict(extra_env or {}),
        # POSTING_QUEUE_URL / REMITTANCE_QUEUE_URL for the functions that send to them
        queue_urls={name: queue.url for name, queue in queues.items()},
    )
    lambda_role = _role(iam, LAMBDA_ROLE_NAME, "lambda.amazonaws.com")
    code = _dummy_zip()
    function_arns: dict[str, str] = {}
    for spec_fn in config.LOCAL_FUNCTIONS.values():
        resp = lam.create_function(
            FunctionName=spec_fn.function_name,
            Runtime="python3.12",
            Role=lambda_role,
            Handler=spec_fn.handler,
            Code={"ZipFile": code},
            Timeout=spec_fn.timeout_seconds,
            MemorySize=spec_fn.memory_mb,
            Environment={"Variables": lambda_env.as_env(spec_fn)},
        )
        function_arns[spec_fn.name] = resp["FunctionArn"]

    # Step Functions: the same ASL file the CDK stack deploys.
    states_role = _role(iam, STATES_ROLE_NAME, "states.amazonaws.com")
    definition = config.render_asl(config.asl_substitutions(function_arns, timeouts))
    # Encrypted with a customer key, as in the stack (infra/constructs/workflow.py); moto records it.
    data_key = c("kms").create_key(Description="medbill local: state machine data key")["KeyMetadata"]["Arn"]
    created_arn = sfn.create_state_machine(
        name=config.STATE_MACHINE_NAME,
        definition=definition,
        roleArn=states_role,
        type="STANDARD",
        encryptionConfiguration={
            "type": "CUSTOMER_MANAGED_KMS_KEY",
            "kmsKeyId": data_key,
            "kmsDataKeyReusePeriodSeconds": 300,
        },
    )["stateMachineArn"]
    assert created_arn == state_machine_arn, (created_arn, state_machine_arn)

    environment = _handler_environment(lambda_env)
    if set_environ:
        os.environ.update(environment)
    return LocalResources(
        region=region,
        account_id=account_id,
        endpoint_url=endpoint_url,
        bucket=bucket,
        claims_table=config.CLAIMS_TABLE.name,
        idempotency_table=config.IDEMPOTENCY_TABLE.name,
        queues=queues,
        function_arns=function_arns,
        state_machine_arn=state_machine_arn,
        lambda_role_arn=lambda_role,
        timeouts=timeouts,
        environment=environment,
    )


def _handler_environment(lambda_env: config.LambdaEnvironment) -> dict[str, str]:
    """One environment for every in-process handler: the union of the per-function ones.

    POWERTOOLS_SERVICE_NAME differs per function in AWS; in one process it cannot, so it is left
    to each handler's own service (medbill.entry.observability names it).
    """
    env: dict[str, str] = {}
    for spec in config.LOCAL_FUNCTIONS.values():
        env.update(lambda_env.as_env(spec))
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    env["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon locally
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", config.PROJECT)
    return env
