"""S3 -> SQS -> Lambda: the queues of `config.QUEUES`, their DLQs, the bucket notifications of
`config.NOTIFICATIONS` and the consumers (intake, remittance, posting) with partial batch responses.

Every queue exists before any consumer is created: consumers also send to queues
(`config.QUEUE_SENDERS`: intake and remittance -> posting), which puts the URL in their
environment and grants them sqs:SendMessage on that queue only."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.interfaces.aws_s3 import IBucketRef
from constructs import Construct

from infra import config
from infra.constructs.functions import RESERVED_CONCURRENCY, Functions
from infra.constructs.nag import acknowledge

RETENTION = Duration.days(14)  # the SQS maximum: time to fix and redrive


@jsii.implements(s3.IBucketNotificationDestination)
class QueueDestination:
    """S3 -> SQS notification target, like `aws_s3_notifications.SqsDestination` without its grants.

    `SqsDestination` also grants S3 on the queue's KMS key with a condition on the bucket ARN; with
    one key for the bucket and the queues that makes a dependency cycle (key -> bucket -> key). Here
    the bucket condition lives in the queue policy only (aws:SourceArn + aws:SourceAccount) and
    `Storage` adds the key statement AWS documents for S3 notifications, which breaks the cycle.
    """

    def __init__(self, queue: sqs.Queue) -> None:
        self.queue = queue

    def bind(self, scope: Construct, bucket: IBucketRef) -> s3.BucketNotificationDestinationConfig:
        result = self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                resources=[self.queue.queue_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_ref.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Stack.of(scope).account},
                },
            )
        )
        dependencies = [result.policy_dependable] if result.policy_dependable is not None else []
        return s3.BucketNotificationDestinationConfig(
            arn=self.queue.queue_arn,
            type=s3.BucketNotificationDestinationType.QUEUE,
            dependencies=dependencies,
        )


class Intake(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: Functions, state_machine: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        storage = functions.storage
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        self.consumers: dict[str, lambda_.Function] = {}

        for spec in config.QUEUES:
            dlq = sqs.Queue(
                self,
                f"{spec.consumer}-dlq",
                queue_name=spec.dlq_name,
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=storage.key,
                enforce_ssl=True,
                retention_period=RETENTION,
            )
            queue = sqs.Queue(
                self,
                f"{spec.consumer}-queue",
                queue_name=spec.name,
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=storage.key,
                data_key_reuse=Duration.hours(1),
                enforce_ssl=True,
                retention_period=RETENTION,
                visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
            )
            self.queues[spec.name] = queue
            self.dlqs[spec.name] = dlq

        for spec in config.QUEUES:
            queue = self.queues[spec.name]
            consumer = functions.create(spec.consumer, state_machine=state_machine, queues=self.queues)
            consumer.add_event_source(
                event_sources.SqsEventSource(
                    queue,
                    batch_size=spec.batch_size,
                    report_batch_item_failures=True,
                    max_concurrency=RESERVED_CONCURRENCY[spec.consumer],
                )
            )
            self.consumers[spec.consumer] = consumer

        for prefix, spec in config.NOTIFICATIONS.items():
            storage.data_bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                QueueDestination(self.queues[spec.name]),
                s3.NotificationKeyFilter(prefix=prefix),
            )
        self._acknowledge_notifications_handler(storage.data_bucket)

    def _acknowledge_notifications_handler(self, bucket: s3.Bucket) -> None:
        """CDK's BucketNotifications custom resource: one singleton Lambda per stack."""
        stack = Stack.of(self)
        handler = stack.node.try_find_child("BucketNotificationsHandler050a0587b7544547bf325f094a3db834")
        if handler is None:
            return
        reason_cr = (
            "CDK's BucketNotifications custom-resource handler: it only runs during deployment to call "
            "s3:PutBucketNotification on the data bucket."
        )
        acknowledge(
            handler,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason_cr + " It uses the AWS-managed basic execution role for its own logs.",
        )
        # Its inline policy (s3:PutBucketNotification) lives under the bucket: `DataBucket/Notifications`.
        acknowledge(
            bucket.node.find_child("Notifications"),
            "HIPAA.Security-IAMNoInlinePolicy",
            reason_cr + " CDK creates and owns its inline policy; it is not attachable to other roles.",
        )
