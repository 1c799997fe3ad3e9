"""Storage: the KMS keys (`keys.py`), the data, archive and access-log buckets, the DynamoDB
tables and their AWS Backup plan (`backups.py`). Names and key schemas come from `infra.config`."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import config
from infra.constructs.backups import Backups
from infra.constructs.iam import ManagedPolicyRole
from infra.constructs.keys import Keys, alarm_arn_pattern
from infra.constructs.nag import acknowledge, arn_ref

__all__ = ["ARCHIVE_PREFIXES", "ARCHIVE_RETENTION", "Storage", "alarm_arn_pattern"]

# Filed X12 artifacts: what was sent to and received from the clearinghouse. They are replicated
# (S3 same-region replication, per prefix) into the archive bucket, whose Object Lock (governance,
# default retention) keeps every version for the HIPAA documentation period. Object Lock is a
# bucket-wide setting: the data bucket also holds working files (encounter uploads, rejection and
# ERA reports) that may be corrected or removed, so it is not locked itself. The code keeps
# writing to the data bucket only; the archive is infrastructure (docs/operations.md).
ARCHIVE_PREFIXES = (config.OUTBOX_837_PREFIX, config.ERA_PREFIX, config.ACK_999_PREFIX, config.ACK_277CA_PREFIX)
ARCHIVE_RETENTION = Duration.days(6 * 366)  # HIPAA documentation retention: 6 years
ERA_WORK_DAYS = 7  # a big ERA's fan-out chunks: kept a week for a person looking into a stuck file


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.keys = Keys(self, "Keys")
        self.key = self.keys.data  # PHI at rest

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
            "The rule protects ePHI objects by keeping a second copy; this bucket holds S3 server access "
            "logs (request metadata, no object contents), and replicating it would log the replication.",
        )

        # Filed X12 artifacts, write-once (see ARCHIVE_PREFIXES). Only S3 replication writes here.
        self.archive_bucket = s3.Bucket(
            self,
            "ArchiveBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.governance(ARCHIVE_RETENTION),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="archive-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.archive_bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "This bucket is the replica: the data bucket replicates its filed X12 artifacts here; the "
            "rule asks for a second copy of ePHI objects, and these objects are that copy.",
        )

        # S3 replication assumes this role (CDK adds no grants to a role it is given: see below).
        self.replication_role = ManagedPolicyRole(
            self,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description="S3 replication of filed X12 artifacts from the data bucket to the archive bucket",
            kms_via_services=("s3",),
        )
        self.data_bucket = s3.Bucket(
            self,
            "DataBucket",
            replication_role=self.replication_role,
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
            lifecycle_rules=[
                # A big ERA's staged posting lines (billing/era_fanout.py) are working files: the fan-out
                # finishes in minutes, and the 835 itself stays under era/ (and in the archive).
                s3.LifecycleRule(
                    id="expire-era-work",
                    prefix=config.ERA_WORK_PREFIX,
                    expiration=Duration.days(ERA_WORK_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                )
            ],
            replication_rules=[
                s3.ReplicationRule(
                    destination=self.archive_bucket,
                    id=f"archive-{prefix.strip('/').replace('/', '-')}",
                    priority=index,
                    filter=s3.Filter(prefix=prefix),
                    sse_kms_encrypted_objects=True,
                    kms_key=self.key,
                    delete_marker_replication=False,  # a delete in the data bucket never reaches the archive
                )
                for index, prefix in enumerate(ARCHIVE_PREFIXES)
            ],
        )

        self._grant_replication()

        # --- DynamoDB ---------------------------------------------------------------------------
        self.claims_table = self._table("ClaimsTable", config.CLAIMS_TABLE)
        self.idempotency_table = self._table("IdempotencyTable", config.IDEMPOTENCY_TABLE)

        # --- AWS Backup: tables and the data bucket, in a locked vault with its own key ------------
        self.backups = Backups(
            self,
            "Backups",
            key=self.keys.backup,
            tables=(self.claims_table, self.idempotency_table),
            buckets=(self.data_bucket,),
        )

    def _grant_replication(self) -> None:
        role, data, archive = self.replication_role, self.data_bucket, self.archive_bucket
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[data.bucket_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=[data.arn_for_objects(f"{prefix}*") for prefix in ARCHIVE_PREFIXES],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateTags"],
                resources=[archive.arn_for_objects(f"{prefix}*") for prefix in ARCHIVE_PREFIXES],
            )
        )
        # Decrypt the source object, encrypt the replica: both with the data key, through S3 only.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn]
            )
        )
        for bucket in (data, archive):
            ref = arn_ref(bucket.node.default_child)  # type: ignore[arg-type]
            for prefix in ARCHIVE_PREFIXES:
                acknowledge(
                    role.policy,
                    f"AwsSolutions-IAM5[Resource::{ref}/{prefix}*]",
                    f"Replication copies every object under the {prefix} prefix (keys are per file), so the "
                    "object ARN ends in a wildcard inside that prefix; no other prefix is reachable.",
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
