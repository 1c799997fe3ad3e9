"""Alarms on one encrypted topic (with an e-mail subscription when the deployment names one) and
the pipeline dashboard (`dashboard.py`).

Alarms: per function errors and throttles; per queue DLQ depth and age of the oldest message;
failed claim executions; a failed MarkFailed (the claim could not even be marked FAILED, so it is
on no work queue); API 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config
from infra.constructs.dashboard import Dashboard
from infra.constructs.keys import alarm_arn_pattern

PERIOD = Duration.minutes(5)
# Oldest message a queue may hold before someone should look (the consumers keep up in seconds).
OLDEST_MESSAGE_SECONDS: dict[str, int] = {
    config.INTAKE_QUEUE.name: 15 * 60,
    config.REMITTANCE_QUEUE.name: 30 * 60,  # ERA backlog
    config.POSTING_QUEUE.name: 15 * 60,
    config.ACKS_QUEUE.name: 30 * 60,  # a rejected claim waits in follow-up for its 999 / 277CA
    # 271s arrive overnight and are due before the morning's visits (docs/eligibility.md)
    config.ELIGIBILITY_271_QUEUE.name: 30 * 60,
}
# The state the ASL enters when MarkFailed itself failed (claim.asl.json), counted from the log.
MARK_FAILED_FAILED_STATE = "MarkFailedFailed"
MARK_FAILED_METRIC = "MarkFailedFailures"


def short(queue_name: str) -> str:
    """`medbill-intake` -> `intake` (alarm names get the project prefix once)."""
    return queue_name.removeprefix(f"{config.PROJECT}-")


@dataclass(frozen=True)
class MonitoredResources:
    state_machine: sfn.StateMachine
    state_machine_log_group: logs.ILogGroup
    functions: dict[str, lambda_.Function]
    queues: dict[str, sqs.Queue]  # QueueSpec.name -> queue
    dlqs: dict[str, sqs.Queue]  # QueueSpec.name -> its DLQ
    rest_api: apigw.RestApi


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        resources: MonitoredResources,
        alarm_email: str | None = None,
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
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
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
        self.action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        r = resources

        for queue_name, dlq in sorted(r.dlqs.items()):
            name = short(queue_name)
            self._add(
                f"{name}-dlq-depth",
                dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"Messages in the {name} DLQ: a message could not be processed; inspect and redrive.",
            )
        for queue_name, queue in sorted(r.queues.items()):
            self._add(
                f"{short(queue_name)}-oldest-message",
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                f"The oldest message in {queue_name} has waited too long: its consumer is failing or throttled.",
                threshold=OLDEST_MESSAGE_SECONDS[queue_name],
            )
        self._add(
            "executions-failed",
            r.state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            "Claim executions failed: see the claims' timelines in the staff API.",
        )
        mark_failed = logs.MetricFilter(
            self,
            "MarkFailedFailedFilter",
            log_group=r.state_machine_log_group,
            metric_namespace=config.PROJECT,
            metric_name=MARK_FAILED_METRIC,
            filter_pattern=logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.type", "=", "FailStateEntered"),
                logs.FilterPattern.string_value("$.details.name", "=", MARK_FAILED_FAILED_STATE),
            ),
            metric_value="1",
        )
        self._add(
            "mark-failed-failed",
            mark_failed.metric(period=PERIOD, statistic="Sum"),
            "MarkFailed itself failed: the claim is not marked FAILED and is on no work queue. Find the "
            "execution (state MarkFailedFailed) and fix the claim by hand.",
        )
        for name, fn in sorted(r.functions.items()):
            self._add(
                f"{name}-errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                f"The {name} function raised errors.",
            )
            self._add(
                f"{name}-throttles",
                fn.metric_throttles(period=PERIOD, statistic="Sum"),
                f"The {name} function was throttled (reserved concurrency reached).",
            )
        self._add(
            "api-5xx",
            r.rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "The staff API answered with 5xx errors.",
        )
        self.dashboard = Dashboard(self, "Dashboard", resources=r, alarms=self.alarms)

    def _add(self, name: str, metric: cloudwatch.Metric, description: str, threshold: float = 0) -> None:
        alarm = metric.create_alarm(
            self,
            name,
            alarm_name=f"{config.PROJECT}-{name}",
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self.action)
        alarm.add_ok_action(self.action)
        self.alarms[name] = alarm
