"""AWS Backup: daily and monthly recovery points of the tables and the data bucket, in a vault
encrypted with its own key (`Keys.backup`) and under a vault lock (governance: the minimum and
maximum retention cannot be undercut by a changed plan; `changeable_for` is left unset so an
operator can still tighten it into compliance mode, see docs/operations.md)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.nag import acknowledge

DAILY_RETENTION = Duration.days(35)
MONTHLY_RETENTION = Duration.days(6 * 366)  # HIPAA documentation retention: 6 years
# Every rule's retention must lie inside the lock's window.
LOCK_MIN_RETENTION = DAILY_RETENTION
LOCK_MAX_RETENTION = Duration.days(7 * 366)

_MANAGED = "arn:<AWS::Partition>:iam::aws:policy/service-role/"
_IAM4_REASON = (
    "This is AWS Backup's own service role (assumed by backup.amazonaws.com only), and AWS Backup "
    "documents these service-role policies as the permissions it needs per resource type; the rule "
    "targets policies written for workload principals."
)


class Backups(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        tables: Sequence[dynamodb.Table],
        buckets: Sequence[s3.Bucket],
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
            lock_configuration=backup.LockConfiguration(
                min_retention=LOCK_MIN_RETENTION, max_retention=LOCK_MAX_RETENTION
            ),
        )
        self.plan = backup.BackupPlan(self, "Plan", backup_vault=self.vault)
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily",
                schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                delete_after=DAILY_RETENTION,
            )
        )
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="monthly",
                schedule_expression=events.Schedule.cron(day="1", hour="5", minute="0"),
                move_to_cold_storage_after=Duration.days(30),
                delete_after=MONTHLY_RETENTION,
            )
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description="AWS Backup: back up and restore the medbill tables and data bucket",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(f"service-role/{name}")
                for name in (
                    "AWSBackupServiceRolePolicyForBackup",
                    "AWSBackupServiceRolePolicyForRestores",
                    "AWSBackupServiceRolePolicyForS3Backup",
                    "AWSBackupServiceRolePolicyForS3Restore",
                )
            ],
        )
        self.selection = self.plan.add_selection(
            "Resources",
            role=self.role,
            resources=[backup.BackupResource.from_dynamo_db_table(t) for t in tables]
            + [backup.BackupResource.from_arn(b.bucket_arn) for b in buckets],
        )
        for name in (
            "AWSBackupServiceRolePolicyForBackup",
            "AWSBackupServiceRolePolicyForRestores",
            "AWSBackupServiceRolePolicyForS3Backup",
            "AWSBackupServiceRolePolicyForS3Restore",
        ):
            acknowledge(self.role, f"AwsSolutions-IAM4[Policy::{_MANAGED}{name}]", _IAM4_REASON)
