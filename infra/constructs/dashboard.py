"""The pipeline dashboard: claims per stage per hour, holds, DLQs, ERA backlog, API, alarms.

Every stage function is invoked once per claim (and again per retry or recheck), so its hourly
Lambda invocations are the claims that passed through the stage. Holds come from the handlers'
Powertools metrics (namespace `medbill`, dimension `service`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra import config

if TYPE_CHECKING:
    from infra.constructs.monitoring import MonitoredResources

HOUR = Duration.hours(1)
# Stage functions in pipeline order (the ones a claim passes through).
STAGES = ("intake", "registration", "eligibility", "coding", "charges", "submission", "posting", "followup")
# Powertools metrics the handlers emit for holds and outcomes: (metric name, function).
HOLD_METRICS = (("EligibilityHolds", "eligibility"), ("CodingHolds", "coding"))
OUTCOME_METRICS = (
    ("ClaimsCreated", "intake"),
    ("ClaimsSubmitted", "submission"),
    ("ClaimsToFollowUp", "followup"),
    ("ClaimsFailed", "followup"),
)


def powertools_metric(name: str, function: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=config.PROJECT,
        metric_name=name,
        dimensions_map={"service": config.FUNCTIONS[function].function_name},
        statistic="Sum",
        period=HOUR,
        label=name,
    )


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: MonitoredResources,
        alarms: dict[str, cloudwatch.Alarm],
    ) -> None:
        super().__init__(scope, construct_id)
        r = resources
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{config.PROJECT}-pipeline", default_interval=Duration.days(7)
        )
        stage_invocations = [
            r.functions[name].metric_invocations(period=HOUR, statistic="Sum", label=name)
            for name in STAGES
            if name in r.functions
        ]
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Claims per stage per hour", left=stage_invocations, width=12),
            cloudwatch.GraphWidget(
                title="Holds and outcomes per hour",
                left=[powertools_metric(n, f) for n, f in HOLD_METRICS],
                right=[powertools_metric(n, f) for n, f in OUTCOME_METRICS],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Dead-letter queues (messages)",
                left=[
                    dlq.metric_approximate_number_of_messages_visible(statistic="Maximum", label=name)
                    for name, dlq in sorted(r.dlqs.items())
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="ERA backlog",
                left=[
                    r.queues[spec.name].metric_approximate_number_of_messages_visible(
                        statistic="Maximum", label=f"{spec.name} messages"
                    )
                    for spec in (config.REMITTANCE_QUEUE, config.POSTING_QUEUE)
                ],
                right=[
                    r.queues[config.REMITTANCE_QUEUE.name].metric_approximate_age_of_oldest_message(
                        statistic="Maximum", label="oldest ERA message (s)"
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Executions",
                left=[
                    r.state_machine.metric_started(period=HOUR, label="started"),
                    r.state_machine.metric_succeeded(period=HOUR, label="succeeded"),
                    r.state_machine.metric_failed(period=HOUR, label="failed"),
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Staff API",
                left=[r.rest_api.metric_count(period=Duration.minutes(5), label="requests")],
                right=[
                    r.rest_api.metric_client_error(period=Duration.minutes(5), label="4xx"),
                    r.rest_api.metric_server_error(period=Duration.minutes(5), label="5xx"),
                ],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms.values()), width=12),
        )
