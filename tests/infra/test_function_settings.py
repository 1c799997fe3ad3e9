"""Every function's environment in the template against its settings model (medbill.entry.settings).

The variable names come from the models, not from a list here: a handler that starts needing a
variable declares it in its model, and this test fails until the stack gives it.
"""

from __future__ import annotations

from typing import Any

from infra import config
from medbill.entry.settings import FUNCTION_SETTINGS, required_variables, variables
from tests.infra.conftest import Synth


def _environments(synth: Synth) -> dict[str, dict[str, Any]]:
    by_name = {
        p["FunctionName"]: p.get("Environment", {}).get("Variables", {})
        for p in synth.props("AWS::Lambda::Function").values()
        if isinstance(p.get("FunctionName"), str)
    }
    return {spec.name: by_name[spec.function_name] for spec in config.FUNCTIONS.values()}


def _ref_ids(synth: Synth, cfn_type: str) -> set[str]:
    return set(synth.resources(cfn_type))


def test_every_function_has_a_settings_model() -> None:
    assert set(FUNCTION_SETTINGS) == set(config.FUNCTIONS)


def test_the_template_gives_every_function_every_variable_its_settings_require(synth: Synth) -> None:
    environments = _environments(synth)
    for name, model in FUNCTION_SETTINGS.items():
        missing = required_variables(model) - set(environments[name])
        assert not missing, f"{name}: {model.__name__} requires {sorted(missing)}, the template does not set them"


def test_the_template_gives_no_function_a_medbill_variable_its_settings_do_not_read(synth: Synth) -> None:
    ours = set().union(*(variables(m) for m in FUNCTION_SETTINGS.values()))
    for name, env in _environments(synth).items():
        unread = (set(env) & ours) - variables(FUNCTION_SETTINGS[name])
        assert not unread, f"{name} is given {sorted(unread)} but its settings do not read them"


def test_each_variable_points_at_its_resource(synth: Synth) -> None:
    tables = _ref_ids(synth, "AWS::DynamoDB::Table")
    buckets = _ref_ids(synth, "AWS::S3::Bucket")
    queues = _ref_ids(synth, "AWS::SQS::Queue")
    machines = _ref_ids(synth, "AWS::StepFunctions::StateMachine")
    expected = {
        "TABLE_NAME": tables,
        "IDEMPOTENCY_TABLE_NAME": tables,
        "DATA_BUCKET": buckets,
        "STATE_MACHINE_ARN": machines,
        **{env: queues for env in config.QUEUE_URL_ENV.values()},
    }
    for name, env in _environments(synth).items():
        for variable, targets in expected.items():
            if variable in env:
                assert env[variable].get("Ref") in targets, (name, variable, env[variable])


def test_each_handler_logs_as_its_function(synth: Synth) -> None:
    # Locally every handler runs in one process, so the service is named in code, not only by
    # POWERTOOLS_SERVICE_NAME: the two must agree.
    from medbill.entry.observability import PROJECT, service_name

    assert PROJECT == config.PROJECT
    by_name = {p.get("FunctionName"): p for p in synth.props("AWS::Lambda::Function").values()}
    for spec in config.FUNCTIONS.values():
        assert service_name(spec.name) == spec.function_name
        variables = by_name[spec.function_name]["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == service_name(spec.name)
