"""Scheduled functions, the clearinghouse secrets, eligibility's answers TTL and egress, as synthesized."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from infra import config
from infra.constructs import permissions
from infra.constructs.network import CLEARINGHOUSE_FUNCTIONS
from infra.constructs.permissions import ACCESS
from tests.infra.conftest import Synth
from tests.infra.helpers import actions_of, functions_by_name, queues_by_name, ref_id, resources_of, role_statements


def _function(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    return functions_by_name(synth)[config.FUNCTIONS[name].function_name]


def test_each_schedule_is_a_rule_on_its_function_with_retries(synth: Synth) -> None:
    rules = {p["ScheduleExpression"]: p for p in synth.props("AWS::Events::Rule").values() if "ScheduleExpression" in p}
    assert {spec.expression for spec in config.SCHEDULES} <= set(rules)
    by_target: dict[str, str] = {}
    for props in synth.props("AWS::Events::Rule").values():
        for target in props.get("Targets", []):
            by_target[ref_id(target["Arn"])] = props["ScheduleExpression"]
            assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert {name: by_target[_function(synth, name)[0]] for name in config.SCHEDULED_FUNCTIONS} == {
        "clearinghouse": "rate(5 minutes)",
        "eligibility_retry": "rate(5 minutes)",
        "timely_filing": "cron(0 6 * * ? *)",
        "statements": "cron(0 7 1 * ? *)",
        "status_inquiry": "cron(0 5 * * ? *)",
        "eligibility_batch": "cron(30 0 * * ? *)",
    }
    # Only EventBridge, and only its own rule, may invoke a scheduled function.
    permissions_by_function: dict[str, list[dict[str, Any]]] = {}
    for props in synth.props("AWS::Lambda::Permission").values():
        permissions_by_function.setdefault(ref_id(props["FunctionName"]), []).append(props)
    for name in config.SCHEDULED_FUNCTIONS:
        grants = permissions_by_function[_function(synth, name)[0]]
        assert [(g["Principal"], g["Action"]) for g in grants] == [("events.amazonaws.com", "lambda:InvokeFunction")]


def test_followup_entry_points_run_as_their_own_functions(synth: Synth) -> None:
    assert _function(synth, "timely_filing")[1]["Handler"] == "followup.handler.scheduled"
    assert _function(synth, "statements")[1]["Handler"] == "followup.handler.statements"
    assert _function(synth, "followup")[1]["Handler"] == "followup.handler.handler"
    # statements writes PDFs into the bucket; the state machine's followup task never does
    assert "DATA_BUCKET" in _function(synth, "statements")[1]["Environment"]["Variables"]
    assert "DATA_BUCKET" not in _function(synth, "followup")[1]["Environment"]["Variables"]


def test_scheduled_functions_send_failed_runs_to_their_encrypted_dlq(synth: Synth) -> None:
    dlq_id, dlq = queues_by_name(synth)[config.SCHEDULED_DLQ]
    assert "KmsMasterKeyId" in dlq
    for name, (_, props) in ((n, _function(synth, n)) for n in config.FUNCTIONS):
        config_ = props.get("DeadLetterConfig")
        if name in config.SCHEDULED_FUNCTIONS:
            assert ref_id({"Fn::GetAtt": config_["TargetArn"]["Fn::GetAtt"]}) == dlq_id, name
            sends = [
                s
                for s in role_statements(synth)[config.FUNCTIONS[name].function_name]
                if "sqs:SendMessage" in actions_of(s)
            ]
            assert [ref_id(r) for s in sends for r in resources_of(s)] == [dlq_id], name
        else:
            assert config_ is None, name
    assert "scheduled-dlq-depth" in {
        p["AlarmName"].removeprefix(f"{config.PROJECT}-") for p in synth.props("AWS::CloudWatch::Alarm").values()
    }


def test_secrets_are_encrypted_with_the_data_key_and_read_only_by_their_functions(synth: Synth) -> None:
    secrets = {p["Name"]: (lid, p) for lid, p in synth.props("AWS::SecretsManager::Secret").items()}
    assert set(secrets) == {config.CLEARINGHOUSE_SECRET_NAME, config.ELIGIBILITY_SECRET_NAME}
    data_key = [lid for lid, p in synth.props("AWS::KMS::Alias").items() if p["AliasName"] == "alias/medbill-data"]
    for _, props in secrets.values():
        assert [ref_id(props["KmsKeyId"])] == [ref_id(synth.props("AWS::KMS::Alias")[data_key[0]]["TargetKeyId"])]
    readers: dict[str, set[str]] = {}
    for function_name, stmts in role_statements(synth).items():
        for statement in stmts:
            if any(a.startswith("secretsmanager:") for a in actions_of(statement)):
                assert actions_of(statement) == ["secretsmanager:GetSecretValue"]
                for resource in resources_of(statement):
                    readers.setdefault(ref_id(resource), set()).add(function_name)
    assert readers == {
        secrets[config.CLEARINGHOUSE_SECRET_NAME][0]: {"medbill-clearinghouse"},
        secrets[config.ELIGIBILITY_SECRET_NAME][0]: {"medbill-eligibility"},
    }
    # and the functions find them by ARN in the variable their settings read
    assert _function(synth, "clearinghouse")[1]["Environment"]["Variables"]["CLEARINGHOUSE_SECRET_ID"] == {
        "Ref": secrets[config.CLEARINGHOUSE_SECRET_NAME][0]
    }
    assert _function(synth, "eligibility")[1]["Environment"]["Variables"]["ELIGIBILITY_SECRET_ID"] == {
        "Ref": secrets[config.ELIGIBILITY_SECRET_NAME][0]
    }
    # the secrets' KMS use goes through Secrets Manager only
    for name in ("clearinghouse", "eligibility"):
        kms = [
            s for s in role_statements(synth)[config.FUNCTIONS[name].function_name] if "kms:Decrypt" in actions_of(s)
        ]
        assert kms and all(
            "secretsmanager." in json.dumps(s["Condition"]["StringEquals"]["kms:ViaService"]) for s in kms
        ), name


def test_clearinghouse_lists_the_bucket_and_stamps_filing_on_claims_only(synth: Synth) -> None:
    statements = role_statements(synth)["medbill-clearinghouse"]
    (listing,) = [s for s in statements if permissions.LIST_BUCKET in actions_of(s)]
    (bucket,) = resources_of(listing)
    assert "Fn::GetAtt" in bucket and bucket["Fn::GetAtt"][1] == "Arn"  # the bucket, not its objects
    (table,) = [s for s in statements if any(a.startswith("dynamodb:") for a in actions_of(s))]
    assert sorted(actions_of(table)) == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    keys = table["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert sorted(keys) == ["CLAIM#*", "INTERCHANGE#*"]


def test_eligibility_answers_expire_on_the_attribute_the_adapter_writes(synth: Synth) -> None:
    from medbill.adapters.dynamodb.eligibility import EligibilityTable

    (claims,) = [p for p in synth.props("AWS::DynamoDB::Table").values() if p["TableName"] == config.CLAIMS_TABLE.name]
    assert claims["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}

    class Client:  # records the put the adapter makes (no AWS)
        items: list[dict[str, Any]] = []

        def put_item(self, **request: Any) -> None:
            self.items.append(request["Item"])

    client = Client()
    EligibilityTable(config.CLAIMS_TABLE.name, client=client).cache_eligibility(
        "k" * 64, date(2026, 11, 20).isoformat(), {"decision": "verified"}
    )
    (item,) = client.items
    # TTL reads a number of epoch seconds: 2026-11-22T00:00:00Z, two days after the answer's day
    assert item[config.CLAIMS_TABLE.ttl_attribute] == {"N": "1795305600"}
    assert item["pk"]["S"].startswith("ELIGANSWER#")
    # eligibility and the 271 consumer write the answers' partition, the evening batch only reads it
    assert "ELIGANSWER#*" in ACCESS["eligibility"].leading_keys
    holders = {n: a.claims_actions for n, a in ACCESS.items() if "ELIGANSWER#*" in a.leading_keys}
    assert holders == {
        "eligibility": ("dynamodb:GetItem", "dynamodb:PutItem"),
        "eligibility_batch": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
        "eligibility_271": ("dynamodb:GetItem", "dynamodb:PutItem"),  # and resumes held claims (decision 42)
    }


def test_statements_prefix_is_the_one_the_statements_run_writes() -> None:
    from medbill.workflow.statements import STATEMENTS_PREFIX

    assert permissions.STATEMENTS_PREFIX == STATEMENTS_PREFIX
    assert ACCESS["statements"].write_prefixes == (STATEMENTS_PREFIX,)


def test_clearinghouse_functions_leave_through_the_egress_subnets(egress_synth: Synth) -> None:
    functions = functions_by_name(egress_synth)
    groups = {lid: p.get("GroupDescription", "") for lid, p in egress_synth.props("AWS::EC2::SecurityGroup").items()}
    subnets = egress_synth.props("AWS::EC2::Subnet")
    for spec in config.FUNCTIONS.values():
        vpc = functions[spec.function_name][1]["VpcConfig"]
        tiers = {
            next(t["Value"] for t in subnets[ref_id(s)]["Tags"] if t["Key"] == "aws-cdk:subnet-name")
            for s in vpc["SubnetIds"]
        }
        assert tiers == ({"egress"} if spec.name in CLEARINGHOUSE_FUNCTIONS else {"private"}), spec.name
        sftp = [groups[ref_id(g)] for g in vpc["SecurityGroupIds"] if "SFTP" in groups[ref_id(g)]]
        assert bool(sftp) == (spec.name == "clearinghouse"), spec.name
