"""Each handler reads its environment into its settings model at import (the Lambda cold start): a
missing variable fails there, naming the variable, never later in a request."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from types import ModuleType

import pytest
from moto import mock_aws

from infra import config
from medbill.entry import settings, wiring
from medbill.entry.settings import FUNCTION_SETTINGS, SettingsError, required_variables, variables

ALL_VARIABLES = sorted(set().union(*(variables(m) for m in FUNCTION_SETTINGS.values())))


def _import_handler(name: str) -> ModuleType:
    path = config.FUNCTIONS_PATH / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"medbill_settings_test.{name}.handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for variable in ALL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    wiring.reset()
    loggers = set(logging.Logger.manager.loggerDict)
    with mock_aws():  # importing builds clients (idempotency); nothing may reach AWS
        yield monkeypatch
    wiring.reset()
    # A handler imported here configures its service's Powertools logger on this test's captured
    # stdout; forget loggers made here so a later test's import binds its own stdout.
    for name in set(logging.Logger.manager.loggerDict) - loggers:
        if name.startswith("medbill-"):
            logging.Logger.manager.loggerDict.pop(name, None)


# Functions with a handler file of their own (followup's scheduled entry points share its file and
# its import-time model; the statements entry's bucket is checked below).
OWN_FILES = sorted(name for name in FUNCTION_SETTINGS if not config.FUNCTIONS[name].code)


@pytest.mark.parametrize("name", OWN_FILES)
def test_a_missing_variable_fails_the_handler_import_naming_it(name: str, bare_environment: pytest.MonkeyPatch) -> None:
    required = sorted(required_variables(FUNCTION_SETTINGS[name]))
    assert "TABLE_NAME" in required  # every function reads or writes claims
    for missing in required:
        for variable in required:
            if variable == missing:
                bare_environment.delenv(variable, raising=False)
            else:
                bare_environment.setenv(variable, f"test-{variable.lower()}")
        settings.load.cache_clear()
        with pytest.raises(SettingsError) as raised:
            _import_handler(name)
        message = str(raised.value)
        assert missing in message and "missing" in message, message
        assert "test-" not in message  # names, never values
    bare_environment.setenv(required[-1], f"test-{required[-1].lower()}")
    settings.load.cache_clear()
    assert callable(_import_handler(name).handler)  # exactly the model's variables are enough


def test_an_empty_variable_counts_as_missing(bare_environment: pytest.MonkeyPatch) -> None:
    bare_environment.setenv("TABLE_NAME", "")
    settings.load.cache_clear()
    with pytest.raises(SettingsError, match="TABLE_NAME"):
        _import_handler("registration")


def test_the_statements_entry_names_the_bucket_it_lacks(bare_environment: pytest.MonkeyPatch) -> None:
    """followup.handler.statements runs as the `statements` function, whose model adds DATA_BUCKET:
    without it the run fails naming it, before any AWS call."""
    from infra.local.lambda_bridge import LocalLambdaContext

    assert config.FUNCTIONS["statements"].handler == "followup.handler.statements"
    assert required_variables(FUNCTION_SETTINGS["statements"]) == {"TABLE_NAME", "DATA_BUCKET"}
    bare_environment.setenv("TABLE_NAME", "test-table")
    settings.load.cache_clear()
    module = _import_handler("followup")
    with pytest.raises(SettingsError, match="DATA_BUCKET"):
        module.statements({}, LocalLambdaContext("medbill-statements"))
