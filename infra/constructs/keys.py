"""Customer-managed KMS keys, one per kind of data, each with a policy that names who may use it.

- `data`: PHI at rest (data and archive buckets, DynamoDB tables, SQS queues, Step Functions
  state and history). Lambda roles use it only through DynamoDB, S3, SQS and Step Functions
  (`kms:ViaService`, see `permissions.py`).
- `logs`: CloudWatch Logs (every log group) and the alarm topic. Logs carry ids and codes only,
  but they are kept 1-6 years: a separate key lets the log retention and the PHI key be revoked
  or rotated apart.
- `backup`: the AWS Backup vault. A recovery point must survive the loss (or scheduled deletion)
  of the data key it copies, so it is encrypted with a key no workload role can use.

Every service-principal statement carries `aws:SourceAccount` (confused deputy) and, where the
service sends one, a source ARN or encryption-context condition.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import config


def alarm_arn_pattern(stack: Stack) -> str:
    """ARNs of this project's CloudWatch alarms (every alarm name starts with `medbill-`)."""
    return f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{config.PROJECT}-*"


class Keys(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.data = self._key("Data", "data", "PHI at rest: S3, DynamoDB, SQS, Step Functions")
        self.logs = self._key("Logs", "logs", "CloudWatch Logs and the alarm topic")
        self.backup = self._key("Backup", "backup", "AWS Backup vault recovery points")

        # CloudWatch Logs encrypts our log groups (only log groups of this account and region).
        self.logs.add_to_resource_policy(
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
        # CloudWatch alarms (named `medbill-*`, see monitoring.py) publish to the encrypted topic.
        self.logs.add_to_resource_policy(
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
        # S3 event notifications to the encrypted intake/remittance queues. The bucket's ARN would make
        # a dependency cycle (key -> bucket -> key), so the key names the account and the S3 ARN space;
        # the queue policies restrict sqs:SendMessage to the data bucket itself (intake.QueueDestination).
        self.data.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:s3:::*"},
                },
            )
        )

    def _key(self, construct_id: str, purpose: str, description: str) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            alias=f"alias/{config.PROJECT}-{purpose}",
            description=f"medbill: {description}",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
