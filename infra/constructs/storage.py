"""Storage: the customer-managed KMS key, the data and access-log buckets, the DynamoDB tables
and their AWS Backup plan. Names and key schemas come from `infra.config`."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import config
from infra.constructs.nag import acknowledge


def alarm_arn_pattern(stack: Stack) -> str:
    """ARNs of this project's CloudWatch alarms (every alarm name starts with `medbill-`)."""
    return f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{config.PROJECT}-*"


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        # One customer-managed key for all PHI at rest and for every log group / queue / topic.
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{config.PROJECT}",
            description="medbill: PHI at rest (S3, DynamoDB, SQS, SNS) and CloudWatch Logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts log groups with the key (only log groups in this account/region).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                        )
                    }
                },
            )
        )
        # CloudWatch alarms (named `medbill-*`, see monitoring.py) publish to the KMS-encrypted topic.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": alarm_arn_pattern(stack)},
                },
            )
        )

        # S3 event notifications to the KMS-encrypted queues (see intake.QueueDestination). This is
        # the statement AWS documents for S3 -> encrypted SQS (and the one CDK's SqsDestination adds):
        # S3 validates the destination at PutBucketNotification time, so it is kept unconditioned;
        # the queue policies restrict sqs:SendMessage to the data bucket of this account.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
            )
        )

        # --- S3 ---------------------------------------------------------------------------------
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogBucket",
            # S3 server access logging delivers only to SSE-S3 buckets (SSE-KMS is not supported).
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(6 * 366),  # HIPAA documentation retention: 6 years
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )
        acknowledge(
            self.access_log_bucket,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "S3 server access logging only delivers to buckets encrypted with SSE-S3; SSE-KMS targets are "
            "not supported. The logs hold request metadata only (no object contents); the bucket is private, "
            "SSL-only and versioned.",
        )
        acknowledge(
            self.access_log_bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "Access logs are versioned and retained for 6 years in-region; cross-region replication of the "
            "log bucket is out of scope for this stack.",
        )

        self.data_bucket = s3.Bucket(
            self,
            "DataBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="data-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.data_bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "Durability comes from versioning plus S3's multi-AZ storage; cross-region replication needs a "
            "second region and key, which is a deployment decision outside this stack.",
        )

        # --- DynamoDB ---------------------------------------------------------------------------
        self.claims_table = self._table("ClaimsTable", config.CLAIMS_TABLE)
        self.idempotency_table = self._table("IdempotencyTable", config.IDEMPOTENCY_TABLE)

        # --- AWS Backup: daily + monthly recovery points of both tables in a KMS-encrypted vault -
        vault = backup.BackupVault(
            self,
            "BackupVault",
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        plan = backup.BackupPlan(self, "BackupPlan", backup_vault=vault)
        plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily",
                schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                delete_after=Duration.days(35),
            )
        )
        plan.add_rule(
            backup.BackupPlanRule(
                rule_name="monthly",
                schedule_expression=events.Schedule.cron(day="1", hour="5", minute="0"),
                move_to_cold_storage_after=Duration.days(30),
                delete_after=Duration.days(6 * 366),
            )
        )
        selection = plan.add_selection(
            "Tables",
            resources=[
                backup.BackupResource.from_dynamo_db_table(self.claims_table),
                backup.BackupResource.from_dynamo_db_table(self.idempotency_table),
            ],
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's documented service-role policy for its selection role; AWS maintains it as "
            "Backup's supported resource types change.",
        )

    def _table(self, construct_id: str, spec: config.TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            construct_id,
            table_name=spec.name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=(
                dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING) if spec.sort_key else None
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            time_to_live_attribute=spec.ttl_attribute,
        )
        for gsi in spec.gsis:
            table.add_global_secondary_index(
                index_name=gsi.name,
                partition_key=dynamodb.Attribute(name=gsi.partition_key, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=gsi.sort_key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table
