"""The local config (`infra.config`, used by the moto runtime) and the synthesized template agree."""

from __future__ import annotations

import json
import re
from typing import Any

from infra import config
from tests.infra.conftest import Synth

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _by(synth: Synth, cfn_type: str, name_key: str) -> dict[str, dict[str, Any]]:
    return {p[name_key]: p for p in synth.props(cfn_type).values() if isinstance(p.get(name_key), str)}


def test_tables(synth: Synth) -> None:
    tables = _by(synth, "AWS::DynamoDB::Table", "TableName")
    assert set(tables) == {config.CLAIMS_TABLE.name, config.IDEMPOTENCY_TABLE.name}
    for spec in (config.CLAIMS_TABLE, config.IDEMPOTENCY_TABLE):
        props = tables[spec.name]
        keys = [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]
        expected = [(spec.partition_key, "HASH")] + ([(spec.sort_key, "RANGE")] if spec.sort_key else [])
        assert keys == expected
        gsis = {
            g["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]]
            for g in props.get("GlobalSecondaryIndexes", [])
        }
        assert gsis == {g.name: [(g.partition_key, "HASH"), (g.sort_key, "RANGE")] for g in spec.gsis}
        ttl = props.get("TimeToLiveSpecification")
        assert (ttl["AttributeName"] if ttl else None) == spec.ttl_attribute
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert set(types.values()) == {"S"}  # keys are strings, locally too


def test_queues(synth: Synth) -> None:
    queues = _by(synth, "AWS::SQS::Queue", "QueueName")
    assert set(queues) == {n for s in config.QUEUES for n in (s.name, s.dlq_name)} | {config.SCHEDULED_DLQ}
    mappings = synth.props("AWS::Lambda::EventSourceMapping").values()
    queue_ids = {p["QueueName"]: lid for lid, p in synth.props("AWS::SQS::Queue").items()}
    for spec in config.QUEUES:
        props = queues[spec.name]
        assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
        assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
        (mapping,) = [m for m in mappings if m["EventSourceArn"]["Fn::GetAtt"][0] == queue_ids[spec.name]]
        assert mapping["BatchSize"] == spec.batch_size


def test_functions(synth: Synth) -> None:
    functions = _by(synth, "AWS::Lambda::Function", "FunctionName")
    assert set(functions) >= {spec.function_name for spec in config.FUNCTIONS.values()}
    queue_ids = {p["QueueName"]: lid for lid, p in synth.props("AWS::SQS::Queue").items()}
    for spec in config.FUNCTIONS.values():
        props = functions[spec.function_name]
        assert props["Timeout"] == spec.timeout_seconds
        assert props["MemorySize"] == spec.memory_mb
        assert props["Handler"] == spec.handler
        env = config.LambdaEnvironment(
            table_name="t",
            idempotency_table_name="i",
            data_bucket="b",
            state_machine_arn="s",
            queue_urls={q.name: f"url:{q.name}" for q in config.QUEUES},
            secret_ids={variable: "secret" for variable in config.SECRET_VARIABLES.values()},
        ).as_env(spec)
        variables = props["Environment"]["Variables"]
        # The stack adds one value config cannot know: the console's CloudFront origin (API CORS).
        assert set(variables) == set(env) | ({"CONSOLE_ORIGIN"} if spec.name == "api" else set())
        for name in (
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
        ):
            assert variables[name] == env[name]
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"  # no claim data in X-Ray
        # each queue URL variable names the queue config says, in the cloud and locally
        for queue_name, env_name in config.QUEUE_URL_ENV.items():
            if env_name in env:
                assert env[env_name] == f"url:{queue_name}"
                assert variables[env_name] == {"Ref": queue_ids[queue_name]}


def test_queue_url_variables_only_when_the_url_is_known() -> None:
    spec = config.FUNCTIONS["api"]

    def env_with(queue_urls: dict[str, str]) -> dict[str, str]:
        return config.LambdaEnvironment(
            table_name="t", idempotency_table_name="i", data_bucket="b", state_machine_arn="s", queue_urls=queue_urls
        ).as_env(spec)

    assert not {k for k in env_with({}) if k.endswith("_QUEUE_URL")}
    env = env_with({config.REMITTANCE_QUEUE.name: "u"})
    assert env["REMITTANCE_QUEUE_URL"] == "u" and "POSTING_QUEUE_URL" not in env
    assert set(config.QUEUE_SENDERS) <= {q.name for q in config.QUEUES}
    assert set(config.QUEUE_URL_ENV) == set(config.QUEUE_SENDERS)
    assert all(senders <= set(config.FUNCTIONS) for senders in config.QUEUE_SENDERS.values())


def test_notifications(synth: Synth) -> None:
    (props,) = synth.props("Custom::S3BucketNotifications").values()
    prefixes = {
        q["Filter"]["Key"]["FilterRules"][0]["Value"] for q in props["NotificationConfiguration"]["QueueConfigurations"]
    }
    assert prefixes == set(config.NOTIFICATIONS)


def test_state_machine_definition_is_the_asl_file(synth: Synth) -> None:
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    assert props["StateMachineName"] == config.STATE_MACHINE_NAME
    asl_text = config.ASL_PATH.read_text()
    # DefinitionBody.from_file ships the file unchanged as an S3 asset; CloudFormation fills the
    # `${...}` placeholders from DefinitionSubstitutions, exactly like config.render_asl does locally.
    assert "DefinitionString" not in props
    shipped = synth.outdir / f"asset.{props['DefinitionS3Location']['Key']}"
    assert shipped.read_text() == asl_text
    subs = props["DefinitionSubstitutions"]
    assert set(subs) == set(PLACEHOLDER.findall(asl_text))


def test_state_machine_substitutions_render_like_the_local_runtime(synth: Synth) -> None:
    """Replace each function ARN token by a fake ARN and render as CloudFormation would."""
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    function_name = {
        logical_id: p["FunctionName"]
        for logical_id, p in synth.props("AWS::Lambda::Function").items()
        if "FunctionName" in p  # CDK's own notification handler has no name
    }
    spec_by_function_name = {s.function_name: s.name for s in config.FUNCTIONS.values()}
    fake_arn = "arn:aws:lambda:us-east-1:123456789012:function:{}".format

    cloud: dict[str, str] = {}
    for placeholder, value in props["DefinitionSubstitutions"].items():
        if isinstance(value, dict):
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn"
            cloud[placeholder] = fake_arn(function_name[logical_id])
            # the placeholder points at the function config says it does
            assert spec_by_function_name[function_name[logical_id]] == config.ASL_FUNCTION_SUBSTITUTIONS[placeholder]
        else:
            cloud[placeholder] = value

    local = config.asl_substitutions(
        {s.name: fake_arn(s.function_name) for s in config.FUNCTIONS.values()},
        config.WorkflowTimeouts.production(),
    )
    assert cloud == local
    assert json.loads(config.render_asl(cloud)) == json.loads(config.render_asl(local))


def test_local_state_machine_is_encrypted_with_a_customer_key_like_the_stack(synth: Synth) -> None:
    from moto import mock_aws

    from infra.local.provision import client, ensure_aws_environment, provision

    (machine,) = synth.props("AWS::StepFunctions::StateMachine").values()
    assert machine["EncryptionConfiguration"]["Type"] == "CUSTOMER_MANAGED_KMS_KEY"
    ensure_aws_environment()
    with mock_aws():
        resources = provision(set_environ=False)
        described = client("stepfunctions", None, resources.region).describe_state_machine(
            stateMachineArn=resources.state_machine_arn
        )
    assert described["encryptionConfiguration"]["type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert (
        described["encryptionConfiguration"]["kmsDataKeyReusePeriodSeconds"]
        == (machine["EncryptionConfiguration"]["KmsDataKeyReusePeriodSeconds"])
    )
