"""Batch eligibility end to end on one machine: a clinic's appointments file -> the scheduled
`eligibility_batch` function writes one 270 to `outbox/270/` -> the clearinghouse exchange puts it on a
real SFTP server (asyncssh, 127.0.0.1) -> the payer simulator behind it answers with a 271 -> the
exchange fetches it into `eligibility/271/` by content -> S3 notifies the eligibility-271 queue ->
`eligibility_271` keeps the answers -> the claim's eligibility stage uses them instead of asking the
CORE endpoint. No member id or name reaches a log."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from infra import config
from infra.local.clearinghouse_bridge import LocalClearinghouse
from infra.local.core_endpoint import CoreEndpoint
from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.payer_eligibility import EligibilityResponder
from infra.local.provision import LocalResources
from infra.local.sqs_poller import SqsPoller
from medbill.entry import wiring
from medbill.models.common import utcnow
from medbill.models.status import ClaimStatus as S
from medbill.workflow import eligibility_cache
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter

MEMBER = "5QF2MP9TX16"  # PAYERB02, active, deductible 257.00 left (the simulator's member data)
OTHER = "3TW7HK4RN82"


def _appointments(dos: str) -> bytes:
    row = {
        "appointment_id": "A1",
        "date_of_service": dos,
        "payer_id": "PAYERB02",
        "payer_name": "Senior Medicare-Like (demo)",
        "member_id": MEMBER,
        "last_name": "Canaryson",
        "first_name": "Philippa",
        "birth_date": "1950-02-03",
        "provider_npi": "1990000014",
        "provider_name": "Northside Family Medicine (demo)",
        "service_type": "98",
    }
    rows = [row, row | {"appointment_id": "A2", "member_id": OTHER}, row | {"appointment_id": "A3", "payer_id": ""}]
    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"elig_batch_test.{name}", config.FUNCTIONS_PATH / name / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _keys(s3: Any, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=config.DATA_BUCKET, Prefix=prefix).get("Contents", []))


@pytest.fixture
def bridge(aws: LocalResources, core_endpoint: CoreEndpoint) -> LambdaBridge:
    _, resolver = load_project_handlers()
    return LambdaBridge(resolver=resolver)


def _capture_logs(*functions: str) -> io.StringIO:
    """A sink on each function's Powertools logger (its own formatter, INFO and up) for this test."""
    sink = io.StringIO()
    for name in functions:
        logger = logging.getLogger(config.FUNCTIONS[name].function_name)
        capture = logging.StreamHandler(sink)
        if logger.handlers:
            capture.setFormatter(logger.handlers[0].formatter)
        logger.addHandler(capture)
        logger.setLevel(min(logger.level or logging.INFO, logging.INFO))
    return sink


def test_appointments_to_270_over_sftp_to_271_to_the_claims_stage(
    aws: LocalResources,
    bridge: LambdaBridge,
    core_endpoint: CoreEndpoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert config.LOCAL_NOTIFICATIONS[config.ELIGIBILITY_271_PREFIX] is config.ELIGIBILITY_271_QUEUE
    s3 = boto3.client("s3")
    today = utcnow().date()
    # Today's appointments (a morning batch; the evening-before case is the unit tests': a claim
    # cannot be made for a visit still to come).
    dos = today.isoformat()
    s3.put_object(Bucket=config.DATA_BUCKET, Key="appointments/northside-today.jsonl", Body=_appointments(dos))

    batch = _module("eligibility_batch")
    context = bridge.context_for("eligibility_batch")
    # Powertools binds a service logger's stream once per process: an earlier test in this worker
    # would leave capsys empty, so the lines are captured from the loggers themselves.
    bridge.handler_for(config.FUNCTIONS["eligibility_271"].function_name)
    logged = _capture_logs("eligibility_batch", "eligibility_271")
    run = batch.handler({"source": "aws.events"}, context)
    (outbox,) = run["outbox_keys"]
    assert outbox.startswith("outbox/270/B") and (run["asked"], run["rejected"]) == (2, 1)
    assert batch.handler({"source": "aws.events"}, context)["already_batched"] == 1  # once per file

    local = LocalClearinghouse(s3, config.DATA_BUCKET, secretsmanager=boto3.client("secretsmanager"), root=tmp_path)
    try:
        assert local.pending()  # the 270 waits in the outbox
        local.run_once()  # send the 270, the simulator answers, fetch the 271
        assert not local.pending()
    finally:
        local.close()
    assert (tmp_path / "taken" / outbox.rsplit("/", 1)[-1]).exists()  # it crossed the SFTP server
    (answer,) = _keys(s3, config.ELIGIBILITY_271_PREFIX)
    assert local.summaries[1].by_kind == {"271": 1}

    asked_before = core_endpoint.requests
    poller = SqsPoller(aws, bridge, queues=[config.ELIGIBILITY_271_QUEUE])
    assert poller.drain() >= 1 and [r.failed for r in poller.history] == [0] * len(poller.history)
    report = json.loads(
        s3.get_object(Bucket=config.DATA_BUCKET, Key=f"eligibility/reports/{answer.rsplit('/', 1)[-1]}.json")[
            "Body"
        ].read()
    )
    assert (report["matched"], report["kept"], report["by_reason"], report["manifests_missing"]) == (
        2,
        2,
        {"active": 2},
        [],
    )
    repo = wiring.repository()
    key = eligibility_cache.answer_key("PAYERB02", MEMBER, today)
    assert repo.cached_eligibility(key, dos) is not None
    assert repo.cached_eligibility(key, (today + timedelta(days=1)).isoformat()) is None

    # A claim for the visit, checked today: the batch answer, no real-time question.
    coverage = {"payer_id": "PAYERB02", "payer_name": "SENIOR MEDICARE-LIKE", "member_id": MEMBER}
    enc = make_encounter(encounter_id="E-BATCH-1", clinic_id="clinic-northside", coverage=coverage, date_of_service=dos)
    claim = new_claim(enc, "encounters/t.json", 1)
    repo.create_claim(claim)
    bridge.call("registration", {"claim_id": claim.claim_id})
    bridge.call("eligibility", {"claim_id": claim.claim_id})
    saved = repo.get_claim(claim.claim_id)
    assert saved.status == S.ELIGIBLE and saved.coverage is not None
    assert str(saved.coverage.deductible_remaining) == "257.00"
    assert core_endpoint.requests == asked_before  # answered from the batch

    # The same 271 delivered again changes nothing (Powertools idempotency on the object version).
    body = s3.get_object(Bucket=config.DATA_BUCKET, Key=answer)["Body"].read()
    s3.put_object(Bucket=config.DATA_BUCKET, Key=answer, Body=body)  # same bytes, same ETag
    assert poller.drain() >= 1 and [r.failed for r in poller.history] == [0] * len(poller.history)

    out = logged.getvalue()
    assert out.count('"message":"271 answers kept"') == 1
    for secret in (MEMBER, OTHER, "Canaryson", "Philippa", "1950-02-03", "19500203"):
        assert secret not in out


def test_a_271_that_cannot_be_read_fails_alone_and_the_batch_goes_on(
    aws: LocalResources, bridge: LambdaBridge, core_endpoint: CoreEndpoint
) -> None:
    """Partial batch response: a notification for a 271 that is gone (S3 fails) is retried on its
    own; the readable 271 in the same batch is kept once."""
    s3 = boto3.client("s3")
    dos = utcnow().date().isoformat()
    s3.put_object(Bucket=config.DATA_BUCKET, Key="appointments/one.jsonl", Body=_appointments(dos))
    batch = _module("eligibility_batch")
    (outbox,) = batch.handler({}, bridge.context_for("eligibility_batch"))["outbox_keys"]
    answer = EligibilityResponder().respond(
        s3.get_object(Bucket=config.DATA_BUCKET, Key=outbox)["Body"].read().decode()
    )
    poller = SqsPoller(aws, bridge, queues=[config.ELIGIBILITY_271_QUEUE])
    poller.drain()  # S3's test event
    s3.put_object(Bucket=config.DATA_BUCKET, Key="eligibility/271/gone.271", Body=answer.encode())
    s3.delete_object(Bucket=config.DATA_BUCKET, Key="eligibility/271/gone.271")
    s3.put_object(Bucket=config.DATA_BUCKET, Key="eligibility/271/kept.271", Body=answer.encode())

    first = poller.poll_once()
    assert first == 2 and (poller.history[-1].received, poller.history[-1].failed) == (2, 1)
    assert [f.error_type for f in bridge.failures] == []  # a record failure, not a handler crash
    key = eligibility_cache.answer_key("PAYERB02", MEMBER, utcnow().date())
    assert wiring.repository().cached_eligibility(key, dos) is not None
    reports = _keys(s3, "eligibility/reports/")
    assert reports == ["eligibility/reports/kept.271.json"]
