"""Batch eligibility in the stack: the evening 270 run on its schedule and the 271 consumer behind
its queue, each with exactly the grants the handlers use (decision 26, docs/eligibility.md)."""

from __future__ import annotations

from typing import Any

from infra import config
from tests.infra.conftest import Synth
from tests.infra.helpers import actions_of, functions_by_name, queues_by_name, ref_id, resources_of, role_statements


def _s3_grants(synth: Synth, function_name: str) -> dict[str, set[str]]:
    """S3 action -> the data-bucket paths it is granted on ("" for the bucket itself)."""
    grants: dict[str, set[str]] = {}
    for statement in role_statements(synth)[function_name]:
        for action in (a for a in actions_of(statement) if a.startswith("s3:")):
            for resource in resources_of(statement):
                parts = resource["Fn::Join"][1] if "Fn::Join" in resource else [resource, ""]
                grants.setdefault(action, set()).add(str(parts[-1]).removeprefix("/"))
    return grants


def _dynamodb(synth: Synth, function_name: str) -> list[tuple[list[str], Any]]:
    """(actions, leading keys or None) per DynamoDB statement of the function's role."""
    out: list[tuple[list[str], Any]] = []
    for s in role_statements(synth)[function_name]:
        if any(a.startswith("dynamodb:") for a in actions_of(s)):
            keys = s.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
            out.append((sorted(actions_of(s)), [keys] if isinstance(keys, str) else keys))
    return out


def test_evening_batch_runs_nightly_with_only_its_prefixes_and_the_counter(synth: Synth) -> None:
    function_id, props = functions_by_name(synth)["medbill-eligibility_batch"]
    assert props["Handler"] == "eligibility_batch.handler.handler"
    assert (props["Timeout"], props["MemorySize"]) == (300, 1024)
    rules = [
        p
        for p in synth.props("AWS::Events::Rule").values()
        if any(ref_id(t["Arn"]) == function_id for t in p.get("Targets", []))
    ]
    assert [r["ScheduleExpression"] for r in rules] == ["cron(30 0 * * ? *)"]
    assert _s3_grants(synth, "medbill-eligibility_batch") == {
        "s3:GetObject": {"appointments/*", "eligibility/batches/*"},
        "s3:PutObject": {"rejections/appointments/*", "outbox/270/*", "eligibility/batches/*"},
        "s3:ListBucket": {""},
    }
    assert _dynamodb(synth, "medbill-eligibility_batch") == [
        (["dynamodb:GetItem", "dynamodb:UpdateItem"], ["COUNTER#*", "ELIGANSWER#*"])
    ]
    env = props["Environment"]["Variables"]
    # the envelope identity the 270s carry, like the 837Ps; no idempotency table, no state machine
    assert {"TABLE_NAME", "DATA_BUCKET", "X12_USAGE_INDICATOR"} <= set(env)
    assert not {"IDEMPOTENCY_TABLE_NAME", "STATE_MACHINE_ARN"} & set(env)
    assert env["X12_USAGE_INDICATOR"] == "T"


def test_271s_reach_their_consumer_through_a_queue_with_a_dlq(synth: Synth) -> None:
    spec = config.ELIGIBILITY_271_QUEUE
    queues = queues_by_name(synth)
    queue_id, queue = queues["medbill-eligibility-271"]
    dlq_id, _ = queues["medbill-eligibility-271-dlq"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 3}
    assert queue["VisibilityTimeout"] == 6 * 120 == spec.visibility_timeout_seconds
    assert "KmsMasterKeyId" in queue
    function_id, props = functions_by_name(synth)["medbill-eligibility_271"]
    assert props["Handler"] == "eligibility_271.handler.handler"
    (mapping,) = [
        m for m in synth.props("AWS::Lambda::EventSourceMapping").values() if ref_id(m["EventSourceArn"]) == queue_id
    ]
    assert ref_id(mapping["FunctionName"]) == function_id
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (5, ["ReportBatchItemFailures"])
    (notifications,) = synth.props("Custom::S3BucketNotifications").values()
    targets = {
        q["Filter"]["Key"]["FilterRules"][0]["Value"]: ref_id(q["QueueArn"])
        for q in notifications["NotificationConfiguration"]["QueueConfigurations"]
    }
    assert targets["eligibility/271/"] == queue_id
    # its DLQ is alarmed like every other
    alarms = {p["AlarmName"] for p in synth.props("AWS::CloudWatch::Alarm").values()}
    assert {"medbill-eligibility-271-dlq-depth", "medbill-eligibility-271-oldest-message"} <= alarms


def test_271_consumer_keeps_answers_and_reads_only_manifests(synth: Synth) -> None:
    assert _s3_grants(synth, "medbill-eligibility_271") == {
        "s3:GetObject": {"eligibility/271/*", "eligibility/batches/manifest/*"},
        "s3:PutObject": {"eligibility/reports/*"},
        "s3:ListBucket": {""},  # a missing manifest is a 404 (reported), not a 403 (retried)
    }
    table = _dynamodb(synth, "medbill-eligibility_271")
    assert (["dynamodb:GetItem", "dynamodb:PutItem"], ["ELIGANSWER#*", "CLAIM#*"]) in table
    # ... and resumes the claims held for an unanswered check that its answers cover (decision 42):
    # the by-status list, the claim step, and the task token.
    assert (["dynamodb:Query"], None) in table
    idempotency = [actions for actions, keys in table if keys is None and actions != ["dynamodb:Query"]]
    assert idempotency == [["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]]
    env = functions_by_name(synth)["medbill-eligibility_271"][1]["Environment"]["Variables"]
    assert {"TABLE_NAME", "DATA_BUCKET", "IDEMPOTENCY_TABLE_NAME"} <= set(env)
    assert not any(name.startswith("X12_") for name in env)
