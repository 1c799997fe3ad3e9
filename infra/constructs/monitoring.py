"""Alarms: DLQ depth, failed claim executions and Lambda errors, published to one encrypted topic."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config
from infra.constructs.storage import alarm_arn_pattern

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        dlqs: dict[str, sqs.Queue],
        state_machine: sfn.StateMachine,
        functions: dict[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"{config.PROJECT}-alarms",
            display_name="medbill alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # The topic policy (it exists for enforce_ssl) must let CloudWatch publish: only this
        # project's alarms in this account (confused-deputy conditions).
        stack = Stack.of(self)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": alarm_arn_pattern(stack)},
                },
            )
        )
        action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for name, dlq in sorted(dlqs.items()):
            self._add(
                f"{name}-dlq-depth",
                dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"Messages in the {name} DLQ: a file could not be processed; inspect and redrive.",
                action,
            )
        self._add(
            "executions-failed",
            state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            "Claim executions failed: see the claims' timelines in the staff API.",
            action,
        )
        for name, fn in sorted(functions.items()):
            self._add(
                f"{name}-errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                f"The {name} function raised errors.",
                action,
            )

    def _add(self, name: str, metric: cloudwatch.Metric, description: str, action: cw_actions.SnsAction) -> None:
        alarm = metric.create_alarm(
            self,
            name,
            alarm_name=f"{config.PROJECT}-{name}",
            alarm_description=description,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms.append(alarm)
