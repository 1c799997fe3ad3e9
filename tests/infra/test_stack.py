"""The synthesized template has the resources and settings the design asks for."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from infra import config
from infra.constructs.functions import ACCESS, POWERTOOLS_LAYER_VERSION, RESERVED_CONCURRENCY
from tests.infra.conftest import Synth


def _ref_id(value: Any) -> str:
    """Logical id inside {"Ref": id} or {"Fn::GetAtt": [id, attr]}."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def _key_id(synth: Synth) -> str:
    (key_id,) = synth.resources("AWS::KMS::Key")
    return key_id


def _functions_by_name(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        p["FunctionName"]: (logical_id, p)
        for logical_id, p in synth.props("AWS::Lambda::Function").items()
        if isinstance(p.get("FunctionName"), str)
    }


def _queues_by_name(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {p["QueueName"]: (logical_id, p) for logical_id, p in synth.props("AWS::SQS::Queue").items()}


# --- KMS -----------------------------------------------------------------------------------------
def test_one_customer_managed_key_with_rotation(synth: Synth) -> None:
    keys = synth.props("AWS::KMS::Key")
    assert len(keys) == 1
    (key,) = keys.values()
    assert key["EnableKeyRotation"] is True


def test_key_policy_service_statements_are_conditioned_or_minimal(synth: Synth) -> None:
    (key,) = synth.props("AWS::KMS::Key").values()
    for statement in key["KeyPolicy"]["Statement"]:
        service = statement.get("Principal", {}).get("Service")
        if service == "s3.amazonaws.com":
            # AWS's documented statement for S3 notifications to encrypted queues; the queue policy
            # (aws:SourceArn = data bucket) is what limits who can send.
            assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
            assert "Condition" not in statement
        elif service is not None:
            assert statement.get("Condition"), f"service principal {service} without a condition"
    queue_policies = synth.props("AWS::SQS::QueuePolicy").values()
    s3_sends = [
        s
        for p in queue_policies
        for s in p["PolicyDocument"]["Statement"]
        if s.get("Principal", {}).get("Service") == "s3.amazonaws.com"
    ]
    # only the queues an S3 prefix notifies (not the posting queue) let S3 send
    assert len(s3_sends) == len(config.NOTIFICATIONS)
    queue_ids = {_ref_id(s["Resource"]) for s in s3_sends}
    by_name = _queues_by_name(synth)
    assert queue_ids == {by_name[spec.name][0] for spec in config.NOTIFICATIONS.values()}
    for statement in s3_sends:
        assert set(statement["Condition"]) == {"ArnLike", "StringEquals"}


# --- S3 ------------------------------------------------------------------------------------------
def test_buckets_block_public_access_and_are_versioned(synth: Synth) -> None:
    buckets = synth.props("AWS::S3::Bucket")
    assert len(buckets) == 3  # data, access logs, and the staff console's files (issue 11)
    for props in buckets.values():
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_every_bucket_policy_denies_non_tls_requests(synth: Synth) -> None:
    policies = synth.props("AWS::S3::BucketPolicy")
    assert {_ref_id(p["Bucket"]) for p in policies.values()} == set(synth.resources("AWS::S3::Bucket"))
    for props in policies.values():
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in props["PolicyDocument"]["Statement"]
        )


def test_data_bucket_uses_the_key_and_logs_to_the_access_log_bucket(synth: Synth) -> None:
    buckets = synth.props("AWS::S3::Bucket")
    logged = {k: p for k, p in buckets.items() if "LoggingConfiguration" in p}
    data = {k: p for k, p in logged.items() if not k.startswith("Console")}  # the console's: static code
    assert len(data) == 1 and len(logged) == 2
    (props,) = data.values()
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert _ref_id(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == _key_id(synth)
    log_bucket = _ref_id(props["LoggingConfiguration"]["DestinationBucketName"])
    assert log_bucket in buckets and log_bucket not in data
    assert {_ref_id(p["LoggingConfiguration"]["DestinationBucketName"]) for p in logged.values()} == {log_bucket}


def test_s3_notifications_route_each_prefix_to_its_queue(synth: Synth) -> None:
    (notifications,) = synth.props("Custom::S3BucketNotifications").values()
    queues = {logical_id: name for name, (logical_id, _) in _queues_by_name(synth).items()}
    routed = {}
    for q in notifications["NotificationConfiguration"]["QueueConfigurations"]:
        assert q["Events"] == ["s3:ObjectCreated:*"]
        (rule,) = q["Filter"]["Key"]["FilterRules"]
        assert rule["Name"] == "prefix"
        routed[rule["Value"]] = queues[_ref_id(q["QueueArn"])]
    assert routed == {prefix: spec.name for prefix, spec in config.NOTIFICATIONS.items()}


# --- SQS -----------------------------------------------------------------------------------------
def test_queues_are_kms_encrypted_and_tls_only(synth: Synth) -> None:
    key_id = _key_id(synth)
    queues = synth.props("AWS::SQS::Queue")
    assert len(queues) == 2 * len(config.QUEUES)
    for props in queues.values():
        assert _ref_id(props["KmsMasterKeyId"]) == key_id
    tls_only: set[str] = set()
    for props in synth.props("AWS::SQS::QueuePolicy").values():
        if any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in props["PolicyDocument"]["Statement"]
        ):
            tls_only.update(_ref_id(q) for q in props["Queues"])
    assert tls_only == set(queues)


def test_queues_redrive_to_their_dlq_and_outlast_their_consumer(synth: Synth) -> None:
    queues = _queues_by_name(synth)
    functions = _functions_by_name(synth)
    for spec in config.QUEUES:
        _, props = queues[spec.name]
        dlq_id, _ = queues[spec.dlq_name]
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == spec.max_receive_count
        assert _ref_id(redrive["deadLetterTargetArn"]) == dlq_id
        consumer_timeout = functions[config.FUNCTIONS[spec.consumer].function_name][1]["Timeout"]
        assert props["VisibilityTimeout"] >= 6 * consumer_timeout


def test_event_source_mappings_report_batch_item_failures(synth: Synth) -> None:
    queues = {logical_id: name for name, (logical_id, _) in _queues_by_name(synth).items()}
    functions = {logical_id: name for name, (logical_id, _) in _functions_by_name(synth).items()}
    mappings = synth.props("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(config.QUEUES)
    by_queue = {queues[_ref_id(m["EventSourceArn"])]: m for m in mappings.values()}
    for spec in config.QUEUES:
        mapping = by_queue[spec.name]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == spec.batch_size
        assert functions[_ref_id(mapping["FunctionName"])] == config.FUNCTIONS[spec.consumer].function_name
        # never more pollers than reserved concurrency: throttled deliveries would count towards the DLQ
        assert mapping["ScalingConfig"]["MaximumConcurrency"] <= RESERVED_CONCURRENCY[spec.consumer]


def test_posting_queue_dlq_redrive_visibility_and_event_source(synth: Synth) -> None:
    spec = config.POSTING_QUEUE
    assert (spec.name, spec.dlq_name, spec.consumer, spec.batch_size) == (
        "medbill-posting",
        "medbill-posting-dlq",
        "posting",
        10,
    )
    assert spec in config.QUEUES and spec not in config.NOTIFICATIONS.values()
    queues = _queues_by_name(synth)
    queue_id, props = queues[spec.name]
    dlq_id, dlq = queues[spec.dlq_name]
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 3}
    assert props["VisibilityTimeout"] == 6 * 60 == 360
    assert props["MessageRetentionPeriod"] == dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "RedrivePolicy" not in dlq
    (mapping,) = [
        m for m in synth.props("AWS::Lambda::EventSourceMapping").values() if _ref_id(m["EventSourceArn"]) == queue_id
    ]
    function_id, function = _functions_by_name(synth)["medbill-posting"]
    assert _ref_id(mapping["FunctionName"]) == function_id
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == RESERVED_CONCURRENCY["posting"]
    assert function["Timeout"] == 60 and function["MemorySize"] == 512
    assert function["Handler"] == "posting.handler.handler"


# --- DynamoDB ------------------------------------------------------------------------------------
def _tables(synth: Synth) -> dict[str, dict[str, Any]]:
    return {p["TableName"]: p for p in synth.props("AWS::DynamoDB::Table").values()}


def test_claims_table_keys_gsis_and_pitr(synth: Synth) -> None:
    table = _tables(synth)[config.CLAIMS_TABLE.name]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    gsis = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    assert gsis["by-status"]["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "updated_at", "KeyType": "RANGE"},
    ]
    assert gsis["by-clinic"]["KeySchema"] == [
        {"AttributeName": "clinic_id", "KeyType": "HASH"},
        {"AttributeName": "date_of_service", "KeyType": "RANGE"},
    ]
    assert all(g["Projection"] == {"ProjectionType": "ALL"} for g in gsis.values())


def test_tables_are_on_demand_pitr_kms_and_protected(synth: Synth) -> None:
    key_id = _key_id(synth)
    resources = synth.resources("AWS::DynamoDB::Table")
    assert len(resources) == 2
    for resource in resources.values():
        props = resource["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert _ref_id(props["SSESpecification"]["KMSMasterKeyId"]) == key_id
        assert props["DeletionProtectionEnabled"] is True
        assert resource["DeletionPolicy"] == "Retain"


def test_idempotency_table_ttl(synth: Synth) -> None:
    table = _tables(synth)[config.IDEMPOTENCY_TABLE.name]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_tables_are_in_a_backup_plan(synth: Synth) -> None:
    (selection,) = synth.props("AWS::Backup::BackupSelection").values()
    selected = selection["BackupSelection"]["Resources"]
    tables = set(synth.resources("AWS::DynamoDB::Table"))
    assert {_ref_id(r) for r in selected} == tables
    (vault,) = synth.props("AWS::Backup::BackupVault").values()
    assert _ref_id(vault["EncryptionKeyArn"]) == _key_id(synth)


# --- Lambda --------------------------------------------------------------------------------------
def test_one_function_per_spec_python312_arm64_traced_with_both_layers(synth: Synth) -> None:
    functions = _functions_by_name(synth)
    assert set(functions) == {spec.function_name for spec in config.FUNCTIONS.values()}
    (medbill_layer,) = synth.resources("AWS::Lambda::LayerVersion")
    for spec in config.FUNCTIONS.values():
        _, props = functions[spec.function_name]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == spec.handler
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["ReservedConcurrentExecutions"] == RESERVED_CONCURRENCY[spec.name]
        powertools, ours = props["Layers"]
        assert _ref_id(ours) == medbill_layer
        parts = powertools["Fn::Join"][1]
        assert parts[-1] == (
            f":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:{POWERTOOLS_LAYER_VERSION}"
        )
        assert props["LoggingConfig"]["LogGroup"]


def test_reserved_concurrency_covers_every_function_within_the_account_default(synth: Synth) -> None:
    assert set(RESERVED_CONCURRENCY) == set(config.FUNCTIONS)
    # Lambda keeps 100 of the account limit unreserved; the default limit is 1000.
    assert sum(RESERVED_CONCURRENCY.values()) + 100 <= 1000


def test_log_groups_are_encrypted_with_retention(synth: Synth) -> None:
    key_id = _key_id(synth)
    groups = synth.props("AWS::Logs::LogGroup")
    # one per function, the state machine's and the API's access log
    assert len(groups) == len(config.FUNCTIONS) + 2
    for props in groups.values():
        assert _ref_id(props["KmsKeyId"]) == key_id
        assert props["RetentionInDays"] >= 365


def test_no_inline_iam_policies_except_cdks_notification_handler(synth: Synth) -> None:
    inline = synth.resources("AWS::IAM::Policy")
    assert len(inline) == 1
    (policy,) = inline.values()
    roles = {_ref_id(r) for r in policy["Properties"]["Roles"]}
    assert all("BucketNotificationsHandler" in r for r in roles)


def _statements(synth: Synth) -> list[dict[str, Any]]:
    """Every statement of every IAM policy (managed and inline) and resource policy in the template."""
    documents = [
        p["PolicyDocument"] for t in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") for p in synth.props(t).values()
    ]
    documents += [p["PolicyDocument"] for p in synth.props("AWS::SQS::QueuePolicy").values()]
    documents += [p["PolicyDocument"] for p in synth.props("AWS::SNS::TopicPolicy").values()]
    documents += [p["KeyPolicy"] for p in synth.props("AWS::KMS::Key").values()]
    return [s for d in documents for s in d["Statement"]]


def _actions_of(statement: dict[str, Any]) -> list[str]:
    acts = statement["Action"]
    return [acts] if isinstance(acts, str) else list(acts)


def _role_statements(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    """Function name -> the statements of its role's managed policies."""
    role_of = {name: _ref_id(p["Role"]) for name, (_, p) in _functions_by_name(synth).items()}
    statements: dict[str, list[dict[str, Any]]] = {}
    for props in synth.props("AWS::IAM::ManagedPolicy").values():
        for role in props.get("Roles", []):
            statements.setdefault(_ref_id(role), []).extend(props["PolicyDocument"]["Statement"])
    return {name: statements.get(role, []) for name, role in role_of.items()}


def _role_actions(synth: Synth) -> dict[str, set[str]]:
    """Function name -> every IAM action its role's policies allow."""
    role_of = {name: _ref_id(p["Role"]) for name, (_, p) in _functions_by_name(synth).items()}
    actions: dict[str, set[str]] = {}
    for props in synth.props("AWS::IAM::ManagedPolicy").values():
        for role in props.get("Roles", []):
            for statement in props["PolicyDocument"]["Statement"]:
                acts = statement["Action"]
                actions.setdefault(_ref_id(role), set()).update([acts] if isinstance(acts, str) else acts)
    return {name: actions.get(role, set()) for name, role in role_of.items()}


def test_least_privilege_step_functions_actions(synth: Synth) -> None:
    actions = _role_actions(synth)
    for spec in config.FUNCTIONS.values():
        states = {a for a in actions[spec.function_name] if a.startswith("states:")}
        if spec.name == "intake":
            assert states == {"states:StartExecution"}
        elif spec.name in ("api", "await_token", "posting"):
            assert states == {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}
        else:
            assert states == set(), spec.name
        assert not any(a.endswith(":*") or a == "*" for a in actions[spec.function_name])
    assert {name for name, access in ACCESS.items() if access.task_response} == {
        "await_token",
        "posting",
        "api",
    }


def test_send_message_grants_are_exactly_the_configured_senders(synth: Synth) -> None:
    expected = {
        "intake": {"medbill-intake"},
        "remittance": {"medbill-posting"},
        "api": {"medbill-remittance"},
    }
    assert {
        f: {q.name for q in config.queues_sent_to(f)} for f in config.FUNCTIONS if config.queues_sent_to(f)
    } == expected
    queue_names = {logical_id: name for name, (logical_id, _) in _queues_by_name(synth).items()}
    functions = {spec.function_name: spec.name for spec in config.FUNCTIONS.values()}
    sends: dict[str, set[str]] = {}
    for function_name, statements in _role_statements(synth).items():
        for statement in statements:
            if "sqs:SendMessage" in _actions_of(statement):
                assert _actions_of(statement) == ["sqs:SendMessage"]
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                assert all(isinstance(r, dict) for r in resources), "SendMessage on a literal (wildcard?) ARN"
                sends.setdefault(functions[function_name], set()).update(queue_names[_ref_id(r)] for r in resources)
    assert sends == expected
    # nobody else: no other role or resource policy grants a send, and no Allow of sqs:* anywhere
    # (the queues' SSL-only policies Deny sqs:* without TLS; that is the only sqs:*)
    for statement in _statements(synth):
        if statement["Effect"] != "Allow":
            continue
        actions = _actions_of(statement)
        assert not any(a in ("sqs:*", "*") or (a.startswith("sqs:Send") and a != "sqs:SendMessage") for a in actions)
        if "sqs:SendMessage" in actions and "Principal" in statement:
            assert statement["Principal"] == {"Service": "s3.amazonaws.com"}, statement
    role_ids = {_ref_id(p["Role"]) for _, p in _functions_by_name(synth).values()}
    for props in synth.props("AWS::IAM::ManagedPolicy").values():
        if not {_ref_id(r) for r in props.get("Roles", [])} & role_ids:
            assert not any("sqs:SendMessage" in _actions_of(s) for s in props["PolicyDocument"]["Statement"])


def test_queue_urls_in_the_environment_exactly_where_config_says(synth: Synth) -> None:
    assert {"remittance"} == config.SENDS_TO_POSTING
    assert {"api"} == config.SENDS_TO_REMITTANCE
    queues = _queues_by_name(synth)
    for spec in config.FUNCTIONS.values():
        variables = _functions_by_name(synth)[spec.function_name][1]["Environment"]["Variables"]
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
    actions = _role_actions(synth)["medbill-posting"]
    assert not {a for a in actions if a.startswith("s3:")}
    assert "states:StartExecution" not in actions
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"} <= actions
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= actions
    # consumer of its queue (CDK's event source grant)
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions


def test_only_the_api_may_scan_claims(synth: Synth) -> None:
    actions = _role_actions(synth)
    scanners = {spec.name for spec in config.FUNCTIONS.values() if "dynamodb:Scan" in actions[spec.function_name]}
    assert scanners == {"api"}


def test_state_machine_arn_only_where_config_says(synth: Synth) -> None:
    for name, (_, props) in _functions_by_name(synth).items():
        spec = next(s for s in config.FUNCTIONS.values() if s.function_name == name)
        has_arn = "STATE_MACHINE_ARN" in props["Environment"]["Variables"]
        assert has_arn == (spec.name in config.STARTS_OR_READS_EXECUTIONS)


# --- Step Functions ------------------------------------------------------------------------------
def test_state_machine_standard_traced_logging_without_execution_data(synth: Synth) -> None:
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["IncludeExecutionData"] is False
    assert logging["Level"] in ("ALL", "ERROR")
    (destination,) = logging["Destinations"]
    log_group = _ref_id(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert _ref_id(synth.props("AWS::Logs::LogGroup")[log_group]["KmsKeyId"]) == _key_id(synth)


def test_state_machine_role_invokes_exactly_the_task_functions(synth: Synth) -> None:
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    role = _ref_id(props["RoleArn"])
    functions = _functions_by_name(synth)
    expected = {functions[config.FUNCTIONS[n].function_name][0] for n in config.ASL_FUNCTION_SUBSTITUTIONS.values()}
    invoked: set[str] = set()
    for policy in synth.props("AWS::IAM::ManagedPolicy").values():
        if role in {_ref_id(r) for r in policy.get("Roles", [])}:
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Action"] == "lambda:InvokeFunction":
                    invoked.update(_ref_id(r) for r in statement["Resource"])
    assert invoked == expected


# --- API Gateway ---------------------------------------------------------------------------------
def test_api_stage_v1_traced_with_access_logs(synth: Synth) -> None:
    synth.assertions.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "MethodSettings": Match.array_with(
                [Match.object_like({"LoggingLevel": "ERROR", "DataTraceEnabled": False})]
            ),
        },
    )


def test_api_methods_use_the_staff_authorizer_and_request_validation(synth: Synth) -> None:
    # Issue 11: staff sign in (Cognito, MFA); every method needs the staff pool's token (was AWS_IAM).
    methods = synth.props("AWS::ApiGateway::Method")
    assert len(methods) >= 3
    validators = set(synth.resources("AWS::ApiGateway::RequestValidator"))
    (authorizer,) = synth.resources("AWS::ApiGateway::Authorizer")
    for props in methods.values():
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert _ref_id(props["AuthorizerId"]) == authorizer
        assert _ref_id(props["RequestValidatorId"]) in validators
        assert props["Integration"]["Type"] == "AWS_PROXY"
    paths = {p["PathPart"] for p in synth.props("AWS::ApiGateway::Resource").values() if isinstance(p["PathPart"], str)}
    assert {"claims", "{claim_id}"} <= paths


def _api_routes(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, full resource path) -> method properties."""
    resources = synth.props("AWS::ApiGateway::Resource")

    def path(resource_id: str) -> str:
        props = resources[resource_id]
        parent = props["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path(_ref_id(parent))
        return f"{prefix}/{props['PathPart']}"

    routes = {}
    for props in synth.props("AWS::ApiGateway::Method").values():
        resource = props["ResourceId"]
        routes[(props["HttpMethod"], "/" if "Fn::GetAtt" in resource else path(_ref_id(resource)))] = props
    return routes


def test_api_declares_the_era_ledger_and_unmatched_remittance_routes(synth: Synth) -> None:
    routes = _api_routes(synth)
    expected_params = {
        ("GET", "/claims"): set(),
        ("GET", "/claims/{claim_id}"): {"claim_id"},
        ("GET", "/claims/{claim_id}/ledger"): {"claim_id"},
        ("POST", "/claims/{claim_id}/recheck"): {"claim_id"},
        ("GET", "/eras"): set(),
        ("GET", "/eras/{era_id}"): {"era_id"},
        ("POST", "/eras/{era_id}/release"): {"era_id"},
        ("GET", "/worklists/unmatched-remittance"): set(),
        ("POST", "/worklists/unmatched-remittance/{remittance_id}/match"): {"remittance_id"},
        ("ANY", "/{proxy+}"): {"proxy"},
    }
    assert set(routes) == set(expected_params)
    for route, params in expected_params.items():
        props = routes[route]
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS", route
        assert props["Integration"]["Type"] == "AWS_PROXY", route
        declared = props.get("RequestParameters", {})
        assert declared == {f"method.request.path.{p}": True for p in params}, route


# --- Monitoring ----------------------------------------------------------------------------------
def test_alarms_on_dlqs_failed_executions_and_function_errors(synth: Synth) -> None:
    alarms = synth.props("AWS::CloudWatch::Alarm")
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    by_metric: dict[str, int] = {}
    for props in alarms.values():
        assert [_ref_id(a) for a in props["AlarmActions"]] == [topic_id]
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["Threshold"] == 0
        by_metric[props["MetricName"]] = by_metric.get(props["MetricName"], 0) + 1
    assert by_metric == {
        "ApproximateNumberOfMessagesVisible": len(config.QUEUES),
        "ExecutionsFailed": 1,
        "Errors": len(config.FUNCTIONS),
    }
    dlq_ids = {_queues_by_name(synth)[spec.dlq_name][0] for spec in config.QUEUES}
    alarmed = {
        _ref_id(d["Value"])
        for p in alarms.values()
        if p["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for d in p["Dimensions"]
    }
    assert alarmed == dlq_ids


def test_posting_dlq_and_function_have_alarms(synth: Synth) -> None:
    alarms = {p["AlarmName"]: p for p in synth.props("AWS::CloudWatch::Alarm").values()}
    dlq_id = _queues_by_name(synth)[config.POSTING_QUEUE.dlq_name][0]
    dlq_alarms = [
        p
        for p in alarms.values()
        if p["MetricName"] == "ApproximateNumberOfMessagesVisible" and _ref_id(p["Dimensions"][0]["Value"]) == dlq_id
    ]
    assert len(dlq_alarms) == 1
    (dlq_alarm,) = dlq_alarms
    assert dlq_alarm["Namespace"] == "AWS/SQS" and dlq_alarm["Statistic"] == "Maximum"
    assert dlq_alarm["OKActions"] == dlq_alarm["AlarmActions"]
    function_id = _functions_by_name(synth)["medbill-posting"][0]
    assert [
        p
        for p in alarms.values()
        if p["MetricName"] == "Errors" and _ref_id(p["Dimensions"][0]["Value"]) == function_id
    ]


def test_alarm_topic_is_encrypted_and_tls_only(synth: Synth) -> None:
    (topic,) = synth.props("AWS::SNS::Topic").values()
    assert _ref_id(topic["KmsMasterKeyId"]) == _key_id(synth)
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


# --- Assets --------------------------------------------------------------------------------------
def _asset_dir(synth: Synth, code: dict[str, Any]) -> Any:
    key = code["S3Key"]
    return synth.outdir / f"asset.{key.removesuffix('.zip')}"


def test_function_code_asset_is_the_functions_dir(synth: Synth) -> None:
    """Handler `<name>.handler.handler` resolves to `<name>/handler.py` at the asset root."""
    assets = {
        str(p["Code"]["S3Key"])
        for p in synth.props("AWS::Lambda::Function").values()
        if isinstance(p.get("Code", {}).get("S3Key"), str)
    }
    assert len(assets) == 1  # one shared asset for every stage
    root = _asset_dir(synth, {"S3Key": assets.pop()})
    for spec in config.FUNCTIONS.values():
        module, _, function = spec.handler.rpartition(".")
        assert (root / (module.replace(".", "/") + ".py")).is_file(), spec.handler
        assert function == "handler"
    assert not list(root.rglob("__pycache__"))


def test_medbill_layer_uses_the_lambda_python_layout(synth: Synth) -> None:
    (layer,) = synth.props("AWS::Lambda::LayerVersion").values()
    root = _asset_dir(synth, layer["Content"])
    assert (root / "python" / "medbill" / "__init__.py").is_file()
    assert (root / "python" / "medbill" / "data" / "eligibility_fixture.json").is_file()
    # The CMS code set travels with the layer: coding imports it at init.
    assert (root / "python" / "simple_icd_10_cm" / "__init__.py").is_file()
    assert list((root / "python" / "simple_icd_10_cm" / "data").glob("*.xml"))
    # Every handler loads its settings with pydantic-settings at init; the Powertools layer lacks it.
    assert (root / "python" / "pydantic_settings" / "__init__.py").is_file()
    assert not list(root.rglob("*.egg-info")) and not list(root.rglob("__pycache__"))
    assert layer["CompatibleRuntimes"] == ["python3.12"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
