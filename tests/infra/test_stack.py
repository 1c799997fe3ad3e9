"""The synthesized template has the resources and settings the design asks for."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from infra import config
from infra.constructs.functions import POWERTOOLS_LAYER_VERSION, RESERVED_CONCURRENCY
from tests.infra.conftest import Synth
from tests.infra.helpers import functions_by_name, key_ids, queues_by_name, ref_id


# --- SQS -----------------------------------------------------------------------------------------
def test_queues_are_kms_encrypted_and_tls_only(synth: Synth) -> None:
    key_id = key_ids(synth)["data"]
    queues = synth.props("AWS::SQS::Queue")
    assert len(queues) == 2 * len(config.QUEUES) + 1  # + the scheduled functions' DLQ
    for props in queues.values():
        assert ref_id(props["KmsMasterKeyId"]) == key_id
    tls_only: set[str] = set()
    for props in synth.props("AWS::SQS::QueuePolicy").values():
        if any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in props["PolicyDocument"]["Statement"]
        ):
            tls_only.update(ref_id(q) for q in props["Queues"])
    assert tls_only == set(queues)


def test_queues_redrive_to_their_dlq_and_outlast_their_consumer(synth: Synth) -> None:
    queues = queues_by_name(synth)
    functions = functions_by_name(synth)
    for spec in config.QUEUES:
        _, props = queues[spec.name]
        dlq_id, _ = queues[spec.dlq_name]
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == spec.max_receive_count
        assert ref_id(redrive["deadLetterTargetArn"]) == dlq_id
        consumer_timeout = functions[config.FUNCTIONS[spec.consumer].function_name][1]["Timeout"]
        assert props["VisibilityTimeout"] >= 6 * consumer_timeout


def test_event_source_mappings_report_batch_item_failures(synth: Synth) -> None:
    queues = {logical_id: name for name, (logical_id, _) in queues_by_name(synth).items()}
    functions = {logical_id: name for name, (logical_id, _) in functions_by_name(synth).items()}
    mappings = synth.props("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(config.QUEUES)
    by_queue = {queues[ref_id(m["EventSourceArn"])]: m for m in mappings.values()}
    for spec in config.QUEUES:
        mapping = by_queue[spec.name]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == spec.batch_size
        assert functions[ref_id(mapping["FunctionName"])] == config.FUNCTIONS[spec.consumer].function_name
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
    queues = queues_by_name(synth)
    queue_id, props = queues[spec.name]
    dlq_id, dlq = queues[spec.dlq_name]
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 3}
    assert props["VisibilityTimeout"] == 6 * 60 == 360
    assert props["MessageRetentionPeriod"] == dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "RedrivePolicy" not in dlq
    (mapping,) = [
        m for m in synth.props("AWS::Lambda::EventSourceMapping").values() if ref_id(m["EventSourceArn"]) == queue_id
    ]
    function_id, function = functions_by_name(synth)["medbill-posting"]
    assert ref_id(mapping["FunctionName"]) == function_id
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == RESERVED_CONCURRENCY["posting"]
    assert function["Timeout"] == 60 and function["MemorySize"] == 512
    assert function["Handler"] == "posting.handler.handler"


# --- Lambda --------------------------------------------------------------------------------------
def test_one_function_per_spec_python312_arm64_traced_with_both_layers(synth: Synth) -> None:
    functions = functions_by_name(synth)
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
        assert ref_id(ours) == medbill_layer
        parts = powertools["Fn::Join"][1]
        assert parts[-1] == (
            f":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:{POWERTOOLS_LAYER_VERSION}"
        )
        assert props["LoggingConfig"]["LogGroup"]


def test_reserved_concurrency_covers_every_function_within_the_account_default(synth: Synth) -> None:
    assert set(RESERVED_CONCURRENCY) == set(config.FUNCTIONS)
    # Lambda keeps 100 of the account limit unreserved; the default limit is 1000.
    assert sum(RESERVED_CONCURRENCY.values()) + 100 <= 1000


def test_log_groups_are_encrypted_with_the_logs_key_with_retention(synth: Synth) -> None:
    key_id = key_ids(synth)["logs"]
    groups = synth.props("AWS::Logs::LogGroup")
    # one per function, the state machine's, the API's access log and the WAF log
    assert len(groups) == len(config.FUNCTIONS) + 3
    for props in groups.values():
        assert ref_id(props["KmsKeyId"]) == key_id
    # A year for every function's, the state machine's and the WAF log; six years (HIPAA) for API access.
    assert sorted(p["RetentionInDays"] for p in groups.values()) == [365] * (len(config.FUNCTIONS) + 2) + [2192]


# --- Step Functions ------------------------------------------------------------------------------
def test_state_machine_standard_traced_logging_without_execution_data(synth: Synth) -> None:
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["IncludeExecutionData"] is False
    assert logging["Level"] in ("ALL", "ERROR")
    (destination,) = logging["Destinations"]
    log_group = ref_id(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert ref_id(synth.props("AWS::Logs::LogGroup")[log_group]["KmsKeyId"]) == key_ids(synth)["logs"]


def test_state_machine_state_and_history_are_encrypted_with_the_data_key(synth: Synth) -> None:
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    encryption = props["EncryptionConfiguration"]
    assert encryption["Type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert ref_id(encryption["KmsKeyId"]) == key_ids(synth)["data"]
    assert encryption["KmsDataKeyReusePeriodSeconds"] == 300


def test_no_hold_reason_enters_state_through_result_selectors() -> None:
    """Hold reasons quote dates of service, diagnosis codes and payer free text: the stage results
    are reduced to their decision before they enter the state (and so the state's history)."""
    subs = config.asl_substitutions(dict.fromkeys(config.FUNCTIONS, "arn"), config.WorkflowTimeouts.local())
    text = config.render_asl(subs)
    states = json.loads(text)["States"]
    for name, state in states.items():
        selector = state.get("ResultSelector", {})
        assert not any("reason" in k.lower() for k in selector), name
        assert "reasons" not in json.dumps(state.get("Parameters", {})), name
    assert states["VerifyEligibility"]["ResultSelector"] == {"decision.$": "$.Payload.decision"}
    assert states["Code"]["ResultSelector"] == {"decision.$": "$.Payload.decision"}
    # A failed MarkFailed ends in its own Fail state, which the mark-failed-failed alarm counts.
    assert states["MarkFailed"]["Catch"][0]["Next"] == "MarkFailedFailed"
    assert states["MarkFailedFailed"]["Type"] == "Fail"


def test_state_machine_role_invokes_exactly_the_task_functions(synth: Synth) -> None:
    (props,) = synth.props("AWS::StepFunctions::StateMachine").values()
    role = ref_id(props["RoleArn"])
    functions = functions_by_name(synth)
    expected = {functions[config.FUNCTIONS[n].function_name][0] for n in config.ASL_FUNCTION_SUBSTITUTIONS.values()}
    invoked: set[str] = set()
    for policy in synth.props("AWS::IAM::ManagedPolicy").values():
        if role in {ref_id(r) for r in policy.get("Roles", [])}:
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Action"] == "lambda:InvokeFunction":
                    invoked.update(ref_id(r) for r in statement["Resource"])
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
    every = synth.props("AWS::ApiGateway::Method")
    # CORS preflights (OPTIONS, no token) are API Gateway's own mock answers: tests/infra/test_console_hosting.py.
    methods = {k: v for k, v in every.items() if v["HttpMethod"] != "OPTIONS"}
    assert all(v["Integration"]["Type"] == "MOCK" for k, v in every.items() if k not in methods)
    assert len(methods) == 10  # the routes test_api_declares_the_era_ledger_and_unmatched_remittance_routes lists
    validators = set(synth.resources("AWS::ApiGateway::RequestValidator"))
    (authorizer,) = synth.resources("AWS::ApiGateway::Authorizer")
    for props in methods.values():
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert ref_id(props["AuthorizerId"]) == authorizer
        assert ref_id(props["RequestValidatorId"]) in validators
        assert props["Integration"]["Type"] == "AWS_PROXY"
    paths = {p["PathPart"] for p in synth.props("AWS::ApiGateway::Resource").values() if isinstance(p["PathPart"], str)}
    assert paths == {
        *("claims", "{claim_id}", "ledger", "recheck"),
        *("eras", "{era_id}", "release"),
        *("worklists", "unmatched-remittance", "{remittance_id}", "match"),
        "{proxy+}",
    }


def _api_routes(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, full resource path) -> method properties."""
    resources = synth.props("AWS::ApiGateway::Resource")

    def path(resource_id: str) -> str:
        props = resources[resource_id]
        parent = props["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path(ref_id(parent))
        return f"{prefix}/{props['PathPart']}"

    routes = {}
    for props in synth.props("AWS::ApiGateway::Method").values():
        if props["HttpMethod"] == "OPTIONS":
            continue  # CORS preflights: API Gateway's mock answers (test_console_hosting.py)
        resource = props["ResourceId"]
        routes[(props["HttpMethod"], "/" if "Fn::GetAtt" in resource else path(ref_id(resource)))] = props
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
        assert function == spec.entry
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
    # Patient statements: fpdf2 and Pillow's native code built for the Lambda platform, not this machine's.
    assert (root / "python" / "fpdf" / "__init__.py").is_file()
    assert (root / "python" / "fontTools" / "__init__.py").is_file()
    assert (root / "python" / "defusedxml" / "__init__.py").is_file()
    native = sorted(p.name for p in (root / "python" / "PIL").glob("_imaging.*.so"))
    assert native == ["_imaging.cpython-312-aarch64-linux-gnu.so"], native
    assert not [p for p in root.rglob("*.so") if "x86_64" in p.name or "cpython-311" in p.name]
    assert not list(root.rglob("*.egg-info")) and not list(root.rglob("__pycache__"))
    assert layer["CompatibleRuntimes"] == ["python3.12"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
