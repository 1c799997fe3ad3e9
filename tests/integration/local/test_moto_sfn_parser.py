"""infra/local/moto_sfn_parser.py: each ASL parse gets its own query-language scope stack, so
executions starting together in their threads do not pop each other's scopes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

from infra import config
from infra.local.moto_sfn_parser import check_moto_compatibility, is_per_parse, per_parse_scopes, shared_scopes
from infra.local.runtime import LocalRuntime

ARNS = {fn: f"arn:aws:lambda:us-east-1:123456789012:function:medbill-{fn}" for fn in config.LOCAL_FUNCTIONS}
DEFINITION = config.render_asl(
    config.asl_substitutions(
        ARNS,
        config.WorkflowTimeouts(
            remittance_wait_seconds=60, staff_hold_seconds=60, retry_interval_seconds=1, retry_max_delay_seconds=2
        ),
    )
)


@pytest.fixture
def moto_own() -> Iterator[None]:
    was = is_per_parse()
    shared_scopes()
    yield
    if was:
        per_parse_scopes()


def test_moto_as_shipped_shares_one_scope_stack_between_parses(moto_own: None) -> None:
    """The defect (if moto fixes it, the patch can go)."""
    assert Preprocessor()._query_language_per_scope is Preprocessor()._query_language_per_scope


def test_each_parse_has_its_own_scope_stack(moto_own: None) -> None:
    per_parse_scopes()
    first, second = Preprocessor(), Preprocessor()
    assert first._query_language_per_scope == [] and second._query_language_per_scope == []
    assert first._query_language_per_scope is not second._query_language_per_scope
    per_parse_scopes()  # idempotent
    assert is_per_parse()


def test_the_claim_state_machine_still_parses_with_a_stack_per_parse(moto_own: None) -> None:
    """The race itself (one parse popping another's scope between a check and a read) is too narrow
    to force in a test; the shared list above is its cause. This shows the patched parser works."""
    per_parse_scopes()
    program, _tree = AmazonStateLanguageParser.parse(DEFINITION)
    assert program.start_at.start_at_name == json.loads(DEFINITION)["StartAt"]
    assert Preprocessor()._query_language_per_scope == []


def test_the_local_runtime_installs_it(moto_own: None) -> None:
    assert not is_per_parse()
    with LocalRuntime(handlers={}, simulator=False, core_endpoint=False):
        assert is_per_parse()


def test_the_patched_moto_still_has_what_the_patch_replaces() -> None:
    check_moto_compatibility()
