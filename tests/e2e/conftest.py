"""e2e fixtures: the whole system on the in-process local runtime (moto + our handlers)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from infra import config
from infra.local.runtime import LocalRuntime
from medbill.entry import wiring
from medbill.intake import read_encounter_file

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "events" / "encounters"
SAMPLE_FILES = ("northside-2026-11-20.json", "lakeview-2026-11-20.csv", "bad-file.json")


@pytest.fixture
def runtime_no_payer() -> Iterator[LocalRuntime]:
    """The runtime without the payer simulator: tests answer with their own 835s."""
    with LocalRuntime(simulator=False) as rt:
        wiring.reset()
        yield rt
    wiring.reset()


def sample_phi() -> set[str]:
    """Every name, DOB and member id in the sample files: none may appear in logs or executions."""
    values: set[str] = set()
    for name in SAMPLE_FILES[:2]:
        result = read_encounter_file(f"encounters/{name}", (SAMPLES / name).read_bytes())
        for record in result.encounters:
            enc = record.encounter
            people = [enc.patient] + ([enc.subscriber.person] if enc.subscriber.person else [])
            for person in people:
                values |= {person.last_name, person.first_name, person.address.line1}
                values |= {person.date_of_birth.isoformat(), person.date_of_birth.strftime("%Y%m%d")}
            values.add(enc.coverage.member_id)
    return {v for v in values if len(v) >= 4}


def sample_clinical() -> set[str]:
    """Every diagnosis code (as written, and without its dot) and date of service in the sample
    files: hold reasons quote them, so they must stay on the claim, out of execution state and history."""
    values: set[str] = set()
    for name in SAMPLE_FILES[:2]:
        result = read_encounter_file(f"encounters/{name}", (SAMPLES / name).read_bytes())
        for record in result.encounters:
            enc = record.encounter
            for code in enc.diagnoses:
                values |= {code, code.replace(".", ""), code.split(".")[0]}
            values |= {enc.date_of_service.isoformat(), enc.date_of_service.strftime("%Y%m%d")}
    return values


def execution_texts(rt: LocalRuntime) -> list[str]:
    """Inputs and outputs of every execution and every state: what Step Functions would log."""
    out = []
    for execution in rt.list_executions():
        arn = execution["executionArn"]
        described = rt.sfn.describe_execution(executionArn=arn)
        out += [described.get("input", ""), described.get("output", "")]
        for event in rt.sfn.get_execution_history(executionArn=arn)["events"]:
            out.append(json.dumps(event, default=str))
    return out


@contextmanager
def handler_logs(rt: LocalRuntime) -> Iterator[io.StringIO]:
    """Every line the project's handlers log while the block runs, at DEBUG, as Lambda would print it.

    Powertools configures a service's logger once per process (level and stream bound then), so an
    earlier test that imported the handlers with WARNING or under another capsys would leave
    capsys/caplog empty here. This loads every handler, then adds a handler with the Powertools
    formatter (structured keys included, where PHI would sit) and lowers the level for the block.
    """
    # The scheduled functions do not run in the local runtime (its clearinghouse runs the exchange's
    # use case itself; followup's scheduled entry points share followup's logger).
    local = [spec for spec in config.FUNCTIONS.values() if spec.name not in config.SCHEDULED_FUNCTIONS]
    for spec in local:
        rt.bridge.handler_for(spec.function_name)
    sink = io.StringIO()
    attached: list[tuple[logging.Logger, logging.Handler, int]] = []
    for spec in local:
        logger = logging.getLogger(spec.function_name)  # Powertools names the logger after its service
        assert logger.handlers, f"{spec.function_name}: no Powertools handler configured"
        capture = logging.StreamHandler(sink)
        capture.setFormatter(logger.handlers[0].formatter)
        attached.append((logger, capture, logger.level))
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    try:
        yield sink
    finally:
        for logger, added, level in attached:
            logger.removeHandler(added)
            logger.setLevel(level)
