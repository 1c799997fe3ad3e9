"""Scheduled functions (`config.SCHEDULES`): an EventBridge rule each, and one dead-letter queue.

A scheduled run is an asynchronous invocation: Lambda retries a failed one twice, then the event
goes to `config.SCHEDULED_DLQ` (alarmed like every DLQ). Every scheduled handler is idempotent and
picks up what an earlier run left, so the next scheduled run also repairs a lost one; the DLQ says
that runs are failing. The rule target itself retries delivery (`RETRY_ATTEMPTS`, `MAX_EVENT_AGE`).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config
from infra.constructs.functions import Functions
from infra.constructs.intake import RETENTION

RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.hours(1)  # a run not delivered within the hour is superseded by later ones


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: Functions, state_machine: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        storage = functions.storage
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            queue_name=config.SCHEDULED_DLQ,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=storage.key,
            enforce_ssl=True,
            retention_period=RETENTION,
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.rules: dict[str, events.Rule] = {}
        for spec in config.SCHEDULES:
            fn = functions.create(spec.function, state_machine=state_machine, dead_letter_queue=self.dlq)
            rule = events.Rule(
                self,
                f"{spec.function}-schedule",
                rule_name=f"{config.PROJECT}-{spec.function}".replace("_", "-"),
                description=spec.description,
                schedule=events.Schedule.expression(spec.expression),
            )
            rule.add_target(targets.LambdaFunction(fn, retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE))
            self.functions[spec.function] = fn
            self.rules[spec.function] = rule
