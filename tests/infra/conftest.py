"""One synth of the real app (stack + cdk-nag packs) per test run.

A synth takes several seconds, so every test in tests/infra reads the same `Synth`. Under
pytest-xdist the first worker synthesizes into the run's shared temporary directory (under a file
lock) and the others read its output. The synth never writes to the repo's cdk.out and needs no
network or Docker. If it raises (an unacknowledged cdk-nag finding), every test here errors.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import Validations
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.stack import STACK_NAME

ACKS_FILE = "acknowledgements.json"
DONE_FILE = "synth.done"


@dataclass
class Synth:
    outdir: Path
    template: dict[str, Any]
    assertions: Template
    report: dict[str, Any]  # validation-report.json: both nag packs, findings and acknowledgements
    acks: list[tuple[str, str, str]]  # (construct path, acknowledged id, reason) from the construct tree

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == cfn_type}

    def props(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources(cfn_type).items()}

    def acknowledgements(self) -> list[tuple[str, str, str]]:
        return self.acks


# The second synth: every deployment option on (VPC mode, an alarm address), nag packs included.
OPTIONS_CONTEXT: dict[str, object] = {"medbill:vpc": "true", "medbill:alarm-email": "billing-ops@example.org"}


def _synthesize(outdir: Path, context: dict[str, object] | None = None) -> None:
    app, _ = build_app(str(outdir), context=context, environ={})
    app.synth()  # raises on any unacknowledged cdk-nag finding
    acks = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule_id, reason in dict(entry.data).items():
                    acks.append((construct.node.path, rule_id, reason))
    (outdir / ACKS_FILE).write_text(json.dumps(acks))
    (outdir / DONE_FILE).touch()


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _shared_synth(tmp_path_factory, "medbill-cdk.out", None)


@pytest.fixture(scope="session")
def options_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack with every deployment option on (OPTIONS_CONTEXT)."""
    return _shared_synth(tmp_path_factory, "medbill-cdk-options.out", OPTIONS_CONTEXT)


# VPC mode with the clearinghouse's way out (NAT, egress subnets, SFTP security group).
EGRESS_CONTEXT: dict[str, object] = {"medbill:vpc": "true", "medbill:clearinghouse-egress": "true"}


@pytest.fixture(scope="session")
def egress_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _shared_synth(tmp_path_factory, "medbill-cdk-egress.out", EGRESS_CONTEXT)


def _shared_synth(tmp_path_factory: pytest.TempPathFactory, name: str, context: dict[str, object] | None) -> Synth:
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # one directory per run, shared by all workers
    outdir = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (outdir / DONE_FILE).exists():
            outdir.mkdir(exist_ok=True)
            _synthesize(outdir, context)
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    return Synth(
        outdir=outdir,
        template=template,
        assertions=Template.from_json(template),
        report=json.loads((outdir / "validation-report.json").read_text()),
        acks=[tuple(a) for a in json.loads((outdir / ACKS_FILE).read_text())],  # type: ignore[misc]
    )
