"""cdk-nag (AwsSolutions + HIPAA Security) passes, and every acknowledgement is honest."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs

from infra import config
from infra.app import add_nag
from infra.constructs.nag import acknowledge
from tests.infra.conftest import Synth

PACK_PREFIXES = ("AwsSolutions::AwsSolutions-", "HIPAA.Security::HIPAA.Security-")


def test_both_packs_ran_and_found_nothing_unacknowledged(synth: Synth) -> None:
    reports = {r["pluginName"]: r for r in synth.report["pluginReports"]}
    assert set(reports) >= {"AwsSolutions", "HIPAA.Security"}
    for name in ("AwsSolutions", "HIPAA.Security"):
        assert reports[name]["conclusion"] == "success"
        assert reports[name].get("violations", []) == []


def test_every_acknowledgement_names_its_pack_and_gives_a_reason(synth: Synth) -> None:
    acks = synth.acknowledgements()
    assert acks, "expected the stack's acknowledgements in construct metadata"
    for path, rule_id, reason in acks:
        assert rule_id.startswith(PACK_PREFIXES), (path, rule_id)
        assert len(reason.strip()) >= 40, (path, rule_id, reason)


def test_every_acknowledgement_suppresses_a_real_finding(synth: Synth) -> None:
    used = {
        (v["acknowledgedAt"], v["acknowledgedId"])
        for r in synth.report["pluginReports"]
        for v in r.get("suppressedViolations", [])
    }
    stale = [(path, rule_id) for path, rule_id, _ in synth.acknowledgements() if (path, rule_id) not in used]
    assert stale == []


def test_acknowledgements_are_scoped_below_the_stack(synth: Synth) -> None:
    for path, rule_id, _ in synth.acknowledgements():
        assert path.count("/") >= 1, f"{rule_id} acknowledged on the whole stack/app ({path})"


def test_an_unacknowledged_finding_fails_the_synth(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Bad")
    sqs.Queue(stack, "Plain")  # no DLQ, no SSL policy: AwsSolutions-SQS3 / SQS4
    add_nag(app)
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "AwsSolutions::AwsSolutions-SQS4" in str(failure.value)


def test_acknowledge_helper_requires_pack_and_reason() -> None:
    stack = Stack(App(), "Helper")
    with pytest.raises(ValueError, match="unknown cdk-nag pack"):
        acknowledge(stack, "SQS3", "some reason")
    with pytest.raises(ValueError, match="needs a reason"):
        acknowledge(stack, "AwsSolutions-SQS3", "  ")


def test_cdk_json_runs_the_same_app() -> None:
    cdk_json = json.loads((config.REPO_ROOT / "cdk.json").read_text())
    assert cdk_json["app"].split()[-2:] == ["-m", "infra.app"]
    # feature flags live in infra/app.py (CONTEXT) so tests and `cdk deploy` synthesize the same template
    assert "context" not in cdk_json


def test_posting_function_needs_only_the_per_function_acknowledgements(synth: Synth) -> None:
    """posting (no S3 prefix) is acknowledged exactly like the other prefix-less stages; its queue,
    DLQ and the SendMessage grants need none (no wildcard resources)."""

    def acks_of(name: str) -> set[str]:
        prefix = f"Medbill/Functions/{name}/"
        return {
            f"{path.removeprefix(prefix)} {rule}"
            for path, rule, _ in synth.acknowledgements()
            if path.startswith(prefix)
        }

    posting = acks_of("posting")
    assert posting == acks_of("coding")
    assert posting == {
        "Role/WildcardPolicy AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Function AwsSolutions::AwsSolutions-L1",
        "Function HIPAA.Security::HIPAA.Security-LambdaDLQ",
        "Function HIPAA.Security::HIPAA.Security-LambdaInsideVPC",
    }
    for path, rule_id, _ in synth.acknowledgements():
        assert "/Intake/" not in path or "Notifications" in path, (path, rule_id)
        assert "queue" not in rule_id.lower(), (path, rule_id)
