"""The scheduled eligibility retry function on moto: with nothing due it resumes nothing."""

from __future__ import annotations

import importlib.util

from infra import config
from infra.local.lambda_bridge import LambdaBridge
from infra.local.provision import LocalResources
from medbill.entry import settings


def test_the_retry_function_is_pending_with_its_settings_and_runs(aws: LocalResources) -> None:
    assert config.FUNCTIONS["eligibility_retry"].handler == "eligibility_retry.handler.handler"
    assert settings.required_variables(settings.FUNCTION_SETTINGS["eligibility_retry"]) == {"TABLE_NAME"}
    # Not in FUNCTIONS yet (the stack does not build it), so the bridge's resolver does not know it.
    spec = importlib.util.spec_from_file_location(
        "eligibility_retry_handler", config.FUNCTIONS_PATH / "eligibility_retry" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = LambdaBridge().context_for("eligibility_retry")
    assert module.handler({}, context) == {"resumed": 0}
