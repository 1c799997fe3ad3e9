"""Operations: alarms and their topic, dashboard, API throttling and firewall, VPC mode."""

from __future__ import annotations

from typing import Any

from infra import config
from infra.constructs.api import THROTTLE_BURST_LIMIT, THROTTLE_RATE_LIMIT
from infra.constructs.monitoring import MARK_FAILED_FAILED_STATE, OLDEST_MESSAGE_SECONDS
from tests.infra.conftest import OPTIONS_CONTEXT, Synth
from tests.infra.helpers import (
    functions_by_name,
    key_ids,
    queues_by_name,
    ref_id,
    role_actions,
)


# --- Monitoring ----------------------------------------------------------------------------------
def test_alarms_on_dlqs_queue_age_executions_mark_failed_functions_and_api(synth: Synth) -> None:
    alarms = synth.props("AWS::CloudWatch::Alarm")
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    by_metric: dict[str, int] = {}
    for props in alarms.values():
        assert [ref_id(a) for a in props["AlarmActions"]] == [topic_id]
        assert props["OKActions"] == props["AlarmActions"]
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        by_metric[props["MetricName"]] = by_metric.get(props["MetricName"], 0) + 1
    assert by_metric == {
        "ApproximateNumberOfMessagesVisible": len(config.QUEUES) + 1,  # + the scheduled functions' DLQ
        "ApproximateAgeOfOldestMessage": len(config.QUEUES),
        "ExecutionsFailed": 1,
        "MarkFailedFailures": 1,
        "Errors": len(config.FUNCTIONS),
        "Throttles": len(config.FUNCTIONS),
        "5XXError": 1,
    }
    dlq_ids = {queues_by_name(synth)[spec.dlq_name][0] for spec in config.QUEUES}
    dlq_ids.add(queues_by_name(synth)[config.SCHEDULED_DLQ][0])
    alarmed = {
        ref_id(d["Value"])
        for p in alarms.values()
        if p["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for d in p["Dimensions"]
    }
    assert alarmed == dlq_ids
    ages = {
        p["AlarmName"]: p["Threshold"] for p in alarms.values() if p["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    assert ages == {f"{name}-oldest-message": seconds for name, seconds in OLDEST_MESSAGE_SECONDS.items()}
    assert all(p["AlarmName"].count(config.PROJECT) == 1 for p in alarms.values())


def test_mark_failed_failures_are_counted_from_the_state_machine_log(synth: Synth) -> None:
    (metric_filter,) = synth.props("AWS::Logs::MetricFilter").values()
    (transformation,) = metric_filter["MetricTransformations"]
    assert transformation["MetricName"] == "MarkFailedFailures"
    assert MARK_FAILED_FAILED_STATE in metric_filter["FilterPattern"]
    (machine,) = synth.props("AWS::StepFunctions::StateMachine").values()
    (destination,) = machine["LoggingConfiguration"]["Destinations"]
    assert ref_id(metric_filter["LogGroupName"]) == ref_id(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])


def test_posting_dlq_and_function_have_alarms(synth: Synth) -> None:
    alarms = {p["AlarmName"]: p for p in synth.props("AWS::CloudWatch::Alarm").values()}
    dlq_id = queues_by_name(synth)[config.POSTING_QUEUE.dlq_name][0]
    dlq_alarms = [
        p
        for p in alarms.values()
        if p["MetricName"] == "ApproximateNumberOfMessagesVisible" and ref_id(p["Dimensions"][0]["Value"]) == dlq_id
    ]
    assert len(dlq_alarms) == 1
    (dlq_alarm,) = dlq_alarms
    assert dlq_alarm["Namespace"] == "AWS/SQS" and dlq_alarm["Statistic"] == "Maximum"
    assert dlq_alarm["OKActions"] == dlq_alarm["AlarmActions"]
    function_id = functions_by_name(synth)["medbill-posting"][0]
    assert [
        p for p in alarms.values() if p["MetricName"] == "Errors" and ref_id(p["Dimensions"][0]["Value"]) == function_id
    ]


def test_alarm_topic_is_encrypted_and_tls_only(synth: Synth) -> None:
    (topic,) = synth.props("AWS::SNS::Topic").values()
    assert ref_id(topic["KmsMasterKeyId"]) == key_ids(synth)["logs"]
    (policy,) = synth.props("AWS::SNS::TopicPolicy").values()
    statements = policy["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    # CloudWatch may publish, for this project's alarms only
    (publish,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert publish["Action"] == "sns:Publish"
    assert set(publish["Condition"]) == {"StringEquals", "ArnLike"}
    alarm_names = [p["AlarmName"] for p in synth.props("AWS::CloudWatch::Alarm").values()]
    assert all(name.startswith(f"{config.PROJECT}-") for name in alarm_names)


def test_no_subscription_unless_the_deployment_names_an_address(synth: Synth, options_synth: Synth) -> None:
    assert synth.resources("AWS::SNS::Subscription") == {}
    (subscription,) = options_synth.props("AWS::SNS::Subscription").values()
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == OPTIONS_CONTEXT["medbill:alarm-email"]
    (topic_id,) = options_synth.resources("AWS::SNS::Topic")
    assert ref_id(subscription["TopicArn"]) == topic_id


def test_alarm_email_from_context_or_environment_subscribes_to_the_topic() -> None:
    from infra.config import DeployOptions

    def ctx(values: dict[str, object]):  # type: ignore[no-untyped-def]
        return values.get

    assert DeployOptions.from_context(ctx({}), {}).alarm_email is None
    assert (
        DeployOptions.from_context(ctx({"medbill:alarm-email": "ops@example.org"}), {}).alarm_email == "ops@example.org"
    )
    env = {"MEDBILL_ALARM_EMAIL": "billing-ops@example.org"}
    assert DeployOptions.from_context(ctx({}), env).alarm_email == "billing-ops@example.org"
    assert DeployOptions.from_context(ctx({"medbill:vpc": "true"}), {}).vpc is True


def test_api_stage_is_throttled(synth: Synth) -> None:
    (stage,) = synth.props("AWS::ApiGateway::Stage").values()
    (settings,) = [m for m in stage["MethodSettings"] if m["HttpMethod"] == "*"]
    assert settings["ThrottlingRateLimit"] == THROTTLE_RATE_LIMIT
    assert settings["ThrottlingBurstLimit"] == THROTTLE_BURST_LIMIT


def test_api_stage_has_a_logged_web_acl(synth: Synth) -> None:
    (acl_id,) = synth.resources("AWS::WAFv2::WebACL")
    (association,) = synth.props("AWS::WAFv2::WebACLAssociation").values()
    assert ref_id(association["WebACLArn"]) == acl_id
    (logging,) = synth.props("AWS::WAFv2::LoggingConfiguration").values()
    assert ref_id(logging["ResourceArn"]) == acl_id
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]


def test_pipeline_dashboard_shows_stages_holds_dlqs_and_era_backlog(synth: Synth) -> None:
    (dashboard,) = synth.props("AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["DashboardBody"])
    for title in ("Claims per stage per hour", "Holds and outcomes per hour", "Dead-letter queues", "ERA backlog"):
        assert title in body
    for metric in ("EligibilityHolds", "CodingHolds", "ApproximateAgeOfOldestMessage"):
        assert metric in body


# --- VPC mode --------------------------------------------------------------------------------------
def test_vpc_mode_passes_both_nag_packs_with_lambda_inside_vpc_met(options_synth: Synth) -> None:
    reports = {r["pluginName"]: r for r in options_synth.report["pluginReports"]}
    for name in ("AwsSolutions", "HIPAA.Security"):
        assert reports[name].get("violations", []) == []
    assert not [a for a in options_synth.acknowledgements() if "LambdaInsideVPC" in a[1]]


def test_vpc_mode_puts_every_function_in_isolated_subnets_behind_endpoints(options_synth: Synth) -> None:
    from infra.constructs.network import INTERFACE_ENDPOINTS

    functions = functions_by_name(options_synth)
    (function_sg,) = [k for k in options_synth.resources("AWS::EC2::SecurityGroup") if "FunctionSecurityGroup" in k]
    for _, props in functions.values():
        vpc = props["VpcConfig"]
        assert [ref_id(g) for g in vpc["SecurityGroupIds"]] == [function_sg]
        assert all("privateSubnet" in ref_id(s) for s in vpc["SubnetIds"])
    endpoints = options_synth.props("AWS::EC2::VPCEndpoint").values()
    kinds = {e.get("VpcEndpointType", "Gateway") for e in endpoints}
    assert kinds == {"Gateway", "Interface"}
    assert len([e for e in endpoints if e.get("VpcEndpointType") == "Interface"]) == len(INTERFACE_ENDPOINTS)
    assert len([e for e in endpoints if e.get("VpcEndpointType", "Gateway") == "Gateway"]) == 2
    assert options_synth.resources("AWS::EC2::NatGateway") == {}
    assert options_synth.resources("AWS::EC2::InternetGateway") == {}
    assert options_synth.resources("AWS::EC2::FlowLog")


def test_vpc_mode_roles_hold_only_their_list_plus_network_interfaces(options_synth: Synth) -> None:
    from infra.constructs.permissions import VPC_ACTIONS, allowed_actions

    actions = role_actions(options_synth)
    for spec in config.FUNCTIONS.values():
        assert actions[spec.function_name] - allowed_actions(spec.name, vpc=True) == set(), spec.name
        assert set(VPC_ACTIONS) & actions[spec.function_name], spec.name


def test_clearinghouse_egress_mode_passes_nag_with_one_nat_and_sftp_out_only(egress_synth: Synth) -> None:
    # egress_synth raised on any unacknowledged cdk-nag finding
    by_type: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in egress_synth.template["Resources"].items():
        by_type.setdefault(resource["Type"], []).append({"id": logical_id, **resource.get("Properties", {})})
    assert len(by_type["AWS::EC2::NatGateway"]) == 1
    (sftp,) = [g for g in by_type["AWS::EC2::SecurityGroup"] if "Clearinghouse" in g["id"]]
    assert [(r["FromPort"], r["ToPort"]) for r in sftp["SecurityGroupEgress"]] == [(22, 22)]
    assert all(s.get("MapPublicIpOnLaunch") is False for s in by_type["AWS::EC2::Subnet"])
