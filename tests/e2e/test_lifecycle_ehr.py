"""The lifecycle from the EHR on the local runtime: one HL7 v2 DFT file dropped in the clinic's folder
and one FHIR Bundle posted to the staff API, each read with the clinic's profile (put through the
API), billed, answered by an 835 built here and posted. No PHI of either message in any log,
execution or report."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra import config
from infra.local.runtime import LocalRuntime
from medbill.billing.era import reconciliation
from medbill.entry import wiring
from medbill.models.claim import Claim, claim_id_for
from medbill.models.status import ClaimStatus as S
from testkit.era_builder import claim_payment, era_for
from tests.e2e.conftest import execution_texts, handler_logs
from tests.factories import CANARY_FIRST, CANARY_LAST
from tests.staff import ADMIN
from tests.unit.intake.ehr_builders import (
    CANARY_CITY,
    CANARY_DOB,
    CANARY_DOB_HL7,
    CANARY_STREET,
    PROFILE,
    dft,
    fhir_bundle,
)

CLINIC = "clinic-northside"
MEMBER = "ACM300400501"  # active with PAYERA01 in the eligibility fixture
# The EHR's payer id routed to the clearinghouse payer (the messages say ACME01).
E2E_PROFILE = copy.deepcopy(PROFILE) | {
    "payers": {"ACME01": {"payer_id": "PAYERA01", "payer_name": "ACME HEALTH PLAN"}}
}
DFT_VISIT, FHIR_VISIT = "V20261120-01", "V20261121-07"
PHI = [CANARY_LAST, CANARY_FIRST, CANARY_STREET, CANARY_CITY, CANARY_DOB, CANARY_DOB_HL7, MEMBER]


def _dft_file() -> str:
    return dft({("IN1", 1): {36: MEMBER}})


def _bundle() -> dict[str, Any]:
    bundle = fhir_bundle()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Coverage":
            resource["subscriberId"] = MEMBER
        if resource["resourceType"] == "Encounter":
            resource["identifier"][0]["value"] = FHIR_VISIT
            resource["period"]["start"] = "2026-11-21T10:00:00-06:00"
    return bundle


def _api(rt: LocalRuntime, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple:
    event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "requestId": "r1",
            "stage": "v1",
            "identity": {"userArn": "arn:aws:iam::1:user/biller"},
            "authorizer": {"claims": ADMIN},  # profile and FHIR routes are admin-only (authz table)
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    resp = rt.invoke("api", event)
    return resp["statusCode"], json.loads(resp["body"])


def _claims() -> dict[str, Claim]:
    return {c.claim_id: c for c in wiring.repository().list_claims(limit=100).items}


def test_a_dft_file_and_a_fhir_bundle_reach_a_posted_remittance(
    runtime_no_payer: LocalRuntime, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    rt = runtime_no_payer
    dft_claim, fhir_claim = claim_id_for(CLINIC, DFT_VISIT), claim_id_for(CLINIC, FHIR_VISIT)
    with handler_logs(rt) as logs:
        assert _api(rt, "PUT", f"/clinics/{CLINIC}/profile", E2E_PROFILE)[0] == 200
        rt.upload(f"encounters/{CLINIC}/dft-20261120.hl7", _dft_file())
        status, response = _api(rt, "POST", "/fhir/Bundle", _bundle(), {"clinic": CLINIC})
        rt.run_until_idle(timeout_s=90)
    assert status == 200 and [e["response"]["status"] for e in response["entry"]] == ["200 OK"] * 8
    assert response["entry"][5]["response"]["outcome"]["issue"][0]["diagnostics"] == (
        f"accepted: encounter {FHIR_VISIT} is claim {fhir_claim}"
    )
    report = json.loads(rt.read(f"rejections/encounters/{CLINIC}/dft-20261120.hl7.json"))
    assert [(m["control_id"], m["ack_code"], m["claim_id"]) for m in report["messages"]] == [
        ("MSG0001", "AA", dft_claim)
    ]

    claims = _claims()
    assert sorted(claims) == sorted([dft_claim, fhir_claim])
    assert {c.status for c in claims.values()} == {S.AWAITING_REMITTANCE}, {
        c.claim_id: c.hold_reasons for c in claims.values()
    }
    assert claims[dft_claim].source_key == f"encounters/{CLINIC}/dft-20261120.hl7"
    assert claims[fhir_claim].source_key.startswith(f"fhir/bundles/{CLINIC}/")
    for claim in claims.values():
        assert claim.encounter.billing_provider.npi == "1990000014"  # from the profile
        assert claim.encounter.coverage.payer_id == "PAYERA01"
        assert claim.outbox_key in rt.list_keys("outbox/837/")

    # Resent: the file again and the Bundle again create nothing.
    rt.upload(f"encounters/{CLINIC}/dft-20261120.hl7", _dft_file())
    assert _api(rt, "POST", "/fhir/Bundle", _bundle(), {"clinic": CLINIC}) == (200, response)
    rt.run_until_idle(timeout_s=60)
    assert sorted(_claims()) == sorted(claims)

    plan = [(claims[dft_claim], "paid"), (claims[fhir_claim], "paid")]
    rt.upload("era/payera01-ehr0001.835", era_for(plan, payer_id="PAYERA01", trace="EHR0001"))
    rt.run_until_idle(timeout_s=90)
    after = _claims()
    executions = {e["name"]: e["status"] for e in rt.list_executions()}
    for claim, outcome in plan:
        got = after[claim.claim_id]
        assert got.status == S.PAID and executions[claim.claim_id] == "SUCCEEDED"
        assert got.paid_amount == claim_payment(claim, outcome).paid
    rec = reconciliation(wiring.repository(), "1PAYERA010-EHR0001")
    assert rec is not None and rec["era_status"] == "POSTED" and rec["reconciled"] is True
    assert rt.poller.dlq_depths() == {
        q.dlq_name: 0 for q in config.LOCAL_QUEUES
    }  # the acks queue runs locally before CDK builds it

    # PHI: none of the messages' values in logs, executions or reports.
    lines = logs.getvalue().splitlines()
    services = {json.loads(line)["service"] for line in lines}
    assert {"medbill-intake", "medbill-api", "medbill-registration", "medbill-submission"} <= services
    texts = execution_texts(rt) + lines
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text, json.dumps(response)]
    texts += [rt.read(k).decode() for k in rt.list_keys("rejections/")]
    assert sorted({value for value in PHI for text in texts if value in text}) == []
