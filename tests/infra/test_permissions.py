"""Every function role holds exactly the actions of `infra.constructs.permissions` and no more."""

from __future__ import annotations

from typing import Any

from infra import config
from infra.constructs import permissions
from infra.constructs.permissions import ACCESS, allowed_actions
from tests.infra.conftest import Synth
from tests.infra.helpers import (
    actions_of,
    functions_by_name,
    queues_by_name,
    ref_id,
    resources_of,
    role_actions,
    role_statements,
)
from tests.infra.helpers import statements as all_statements


def test_every_role_holds_only_the_actions_on_its_list(synth: Synth) -> None:
    """The one test that catches a new grant: any action not in `permissions.allowed_actions`."""
    actions = role_actions(synth)
    assert set(ACCESS) == set(config.FUNCTIONS)
    for spec in config.FUNCTIONS.values():
        extra = actions[spec.function_name] - allowed_actions(spec.name)
        assert extra == set(), f"{spec.name} holds actions not on its list: {sorted(extra)}"
        missing = allowed_actions(spec.name) - actions[spec.function_name]
        assert missing == set(), f"{spec.name} lacks actions on its list: {sorted(missing)}"


def _dynamodb_statements(synth: Synth, function: str) -> list[dict[str, Any]]:
    return [s for s in role_statements(synth)[function] if any(a.startswith("dynamodb:") for a in actions_of(s))]


def test_claims_table_actions_carry_leading_keys_and_indexes_are_named(synth: Synth) -> None:
    (claims_id,) = [k for k, p in synth.props("AWS::DynamoDB::Table").items() if p["TableName"] == "medbill-claims"]
    (idem_id,) = [k for k, p in synth.props("AWS::DynamoDB::Table").items() if p["TableName"] == "medbill-idempotency"]
    for spec in config.FUNCTIONS.values():
        access = ACCESS[spec.name]
        for statement in _dynamodb_statements(synth, spec.function_name):
            resource = resources_of(statement)[0]
            if "Fn::GetAtt" in resource and ref_id(resource) == idem_id:
                assert access.idempotency, spec.name
                continue
            if "Fn::GetAtt" in resource:  # the claims table itself
                assert ref_id(resource) == claims_id
                if actions_of(statement) == [permissions.SCAN]:
                    assert access.scan_claims
                    continue
                keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                keys = [keys] if isinstance(keys, str) else keys
                assert sorted(keys) == sorted(access.leading_keys), spec.name
                assert all(k.endswith("*") or k == permissions.ERA_LIST for k in keys)
            else:  # index ARNs (Fn::Join): Query only, on the indexes this function lists
                assert actions_of(statement) == [permissions.QUERY], spec.name
                indexes = {r["Fn::Join"][1][-1].removeprefix("/index/") for r in resources_of(statement)}
                assert indexes == set(access.index_queries), spec.name


def test_no_deletes_or_batch_writes_where_unused(synth: Synth) -> None:
    actions = role_actions(synth)
    assert not any("dynamodb:BatchWriteItem" in a for a in actions.values())
    deleters = {spec.name for spec in config.FUNCTIONS.values() if "dynamodb:DeleteItem" in actions[spec.function_name]}
    # posting consumes unmatched items (await_token and the api post through it); intake,
    # remittance, acks and eligibility_271 delete their own idempotency records after a failure.
    assert deleters == {"posting", "await_token", "api", "intake", "remittance", "acks", "eligibility_271"}
    idempotency_users = {name for name, access in ACCESS.items() if access.idempotency}
    assert idempotency_users == {"intake", "remittance", "acks", "eligibility_271"}


def test_s3_grants_are_per_prefix_and_match_the_lists(synth: Synth) -> None:
    for spec in config.FUNCTIONS.values():
        access = ACCESS[spec.name]
        got: dict[str, set[str]] = {}
        for statement in role_statements(synth)[spec.function_name]:
            for action in actions_of(statement):
                if action.startswith("s3:") and action != permissions.LIST_BUCKET:  # on the bucket: test_schedules
                    for resource in resources_of(statement):
                        got.setdefault(action, set()).add(resource["Fn::Join"][1][-1].lstrip("/"))
        expected = {}
        if access.read_prefixes:
            expected["s3:GetObject"] = {f"{p}*" for p in access.read_prefixes}
        if access.read_version_prefixes:
            expected["s3:GetObjectVersion"] = {f"{p}*" for p in access.read_version_prefixes}
        if access.write_prefixes:
            expected["s3:PutObject"] = {f"{p}*" for p in access.write_prefixes}
        assert got == expected, spec.name
    # Intake reads the version its notification names (a versioned bucket's GET needs it: decision 40).
    assert ACCESS["intake"].read_version_prefixes == (config.ENCOUNTERS_PREFIX,)


def test_wildcard_resources_live_in_the_acknowledged_wildcard_policy_only(synth: Synth) -> None:
    from infra.constructs.iam import WILDCARD_ONLY_ACTIONS

    for logical_id, props in synth.props("AWS::IAM::ManagedPolicy").items():
        for statement in props["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                assert "WildcardPolicy" in logical_id, (logical_id, statement)
                assert set(actions_of(statement)) <= WILDCARD_ONLY_ACTIONS
    wildcard_acks = [(path, rule) for path, rule, _ in synth.acknowledgements() if rule.endswith("[Resource::*]")]
    assert wildcard_acks and all(path.endswith("/WildcardPolicy") for path, _ in wildcard_acks), wildcard_acks


def test_no_inline_iam_policies_except_cdks_notification_handler(synth: Synth) -> None:
    inline = synth.resources("AWS::IAM::Policy")
    assert len(inline) == 1
    (policy,) = inline.values()
    roles = {ref_id(r) for r in policy["Properties"]["Roles"]}
    assert all("BucketNotificationsHandler" in r for r in roles)


def test_least_privilege_step_functions_actions(synth: Synth) -> None:
    actions = role_actions(synth)
    for spec in config.FUNCTIONS.values():
        states = {a for a in actions[spec.function_name] if a.startswith("states:")}
        if spec.name == "intake":
            assert states == {"states:StartExecution"}
        elif spec.name == "api":  # resumes parked claims, and starts the claims of a posted FHIR Bundle
            # and retries (recovery: is the claim's execution over; which executions failed)
            assert states == {
                "states:StartExecution",
                "states:SendTaskSuccess",
                "states:SendTaskFailure",
                "states:SendTaskHeartbeat",
                "states:DescribeExecution",
                "states:ListExecutions",
            }
        elif spec.name in ("await_token", "posting", "eligibility_retry", "acks", "eligibility_271"):
            assert states == {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}
        else:
            assert states == set(), spec.name
        assert not any(a.endswith(":*") or a == "*" for a in actions[spec.function_name])
    assert {name for name, access in ACCESS.items() if access.task_response} == {
        "await_token",
        "posting",
        "api",
        "eligibility_retry",  # resumes held checks, as a person's recheck does
        "acks",  # a rejected claim's remittance wait ends at once (decision 23)
        "eligibility_271",  # resumes the held checks its answers cover (decision 42)
    }


def test_send_message_grants_are_exactly_the_configured_senders(synth: Synth) -> None:
    expected = {
        "intake": {"medbill-intake"},
        # remittance continues a big ERA's fan-out on its own queue (decision 33)
        "remittance": {"medbill-posting", "medbill-remittance"},
        "api": {"medbill-remittance"},
    }
    assert {
        f: {q.name for q in config.queues_sent_to(f)} for f in config.FUNCTIONS if config.queues_sent_to(f)
    } == expected
    queue_names = {logical_id: name for name, (logical_id, _) in queues_by_name(synth).items()}
    functions = {spec.function_name: spec.name for spec in config.FUNCTIONS.values()}
    sends: dict[str, set[str]] = {}
    for function_name, stmts in role_statements(synth).items():
        for statement in stmts:
            if "sqs:SendMessage" in actions_of(statement):
                assert actions_of(statement) == ["sqs:SendMessage"]
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                assert all(isinstance(r, dict) for r in resources), "SendMessage on a literal (wildcard?) ARN"
                sends.setdefault(functions[function_name], set()).update(queue_names[ref_id(r)] for r in resources)
    # and each scheduled function its dead-letter queue (failed asynchronous runs)
    assert sends == expected | {name: {config.SCHEDULED_DLQ} for name in config.SCHEDULED_FUNCTIONS}
    # nobody else: no other role or resource policy grants a send, and no Allow of sqs:* anywhere
    # (the queues' SSL-only policies Deny sqs:* without TLS; that is the only sqs:*)
    for statement in all_statements(synth):
        if statement["Effect"] != "Allow":
            continue
        actions = actions_of(statement)
        assert not any(a in ("sqs:*", "*") or (a.startswith("sqs:Send") and a != "sqs:SendMessage") for a in actions)
        if "sqs:SendMessage" in actions and "Principal" in statement:
            assert statement["Principal"] == {"Service": "s3.amazonaws.com"}, statement
    role_ids = {ref_id(p["Role"]) for _, p in functions_by_name(synth).values()}
    for props in synth.props("AWS::IAM::ManagedPolicy").values():
        if not {ref_id(r) for r in props.get("Roles", [])} & role_ids:
            assert not any("sqs:SendMessage" in actions_of(s) for s in props["PolicyDocument"]["Statement"])


def test_queue_urls_in_the_environment_exactly_where_config_says(synth: Synth) -> None:
    assert {"remittance"} == config.SENDS_TO_POSTING
    assert {"api", "remittance"} == config.SENDS_TO_REMITTANCE
    queues = queues_by_name(synth)
    for spec in config.FUNCTIONS.values():
        variables = functions_by_name(synth)[spec.function_name][1]["Environment"]["Variables"]
        for env_name, queue, senders in (
            ("INTAKE_QUEUE_URL", config.INTAKE_QUEUE, config.SENDS_TO_INTAKE),
            ("POSTING_QUEUE_URL", config.POSTING_QUEUE, config.SENDS_TO_POSTING),
            ("REMITTANCE_QUEUE_URL", config.REMITTANCE_QUEUE, config.SENDS_TO_REMITTANCE),
        ):
            if spec.name in senders:
                assert variables[env_name] == {"Ref": queues[queue.name][0]}, (spec.name, env_name)
            else:
                assert env_name not in variables, (spec.name, env_name)
        assert not {v for v in variables if v.endswith("QUEUE_URL")} - set(config.QUEUE_URL_ENV.values())


def test_posting_role_has_no_s3_and_no_start_execution(synth: Synth) -> None:
    actions = role_actions(synth)["medbill-posting"]
    assert not {a for a in actions if a.startswith("s3:")}
    assert "states:StartExecution" not in actions
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= actions
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= actions
    # consumer of its queue (CDK's event source grant)
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions


def test_no_function_scans_the_claims_table(synth: Synth) -> None:
    # Every listing is a keyed query; the api's unfiltered claim list walks the by-status index.
    actions = role_actions(synth)
    scanners = {spec.name for spec in config.FUNCTIONS.values() if "dynamodb:Scan" in actions[spec.function_name]}
    assert scanners == set()


def test_state_machine_arn_only_where_config_says(synth: Synth) -> None:
    for name, (_, props) in functions_by_name(synth).items():
        spec = next(s for s in config.FUNCTIONS.values() if s.function_name == name)
        has_arn = "STATE_MACHINE_ARN" in props["Environment"]["Variables"]
        assert has_arn == (spec.name in config.STARTS_OR_READS_EXECUTIONS)
