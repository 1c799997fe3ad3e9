"""The staff API's EHR routes against moto: clinic profiles (PUT / GET) and POST /fhir/Bundle."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.local.provision import LocalResources, client
from medbill.entry import wiring
from tests.integration.test_api import Context, _call, _load_api
from tests.staff import ADMIN
from tests.unit.intake.ehr_builders import CANARIES, PROFILE, fhir_bundle

CLINIC = "clinic-northside"
CLAIM = "CLMWXVLCJ6SPDNA6AYC"  # claim_id_for("clinic-northside", "V20261120-01")


def _raw(api: Any, query: dict[str, str], body: str, content_type: str) -> dict[str, Any]:
    """POST /fhir/Bundle with `body` as sent (not JSON-encoded by the helper) and its content type."""
    event = {
        "resource": "/{proxy+}",
        "path": "/fhir/Bundle",
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": "fhir/Bundle"},
        "requestContext": {
            "requestId": "r1",
            "stage": "v1",
            "identity": {"userArn": "arn:aws:iam::1:user/biller"},
            "authorizer": {"claims": ADMIN},  # profile and FHIR routes are admin-only (authz table)
        },
        "body": body,
        "isBase64Encoded": False,
    }
    response: dict[str, Any] = api.handler(event, Context())
    return response


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def test_a_clinic_profile_is_put_validated_and_read_back(api: Any, aws: LocalResources) -> None:
    assert _call(api, "GET", f"/clinics/{CLINIC}/profile") == (
        404,
        {
            "message": f"clinic {CLINIC} has no profile: put one at config/clinics/{CLINIC}.json "
            f"or PUT /clinics/{CLINIC}/profile"
        },
    )
    status, body = _call(api, "PUT", f"/clinics/{CLINIC}/profile", body=PROFILE)
    assert status == 200 and body["clinic_id"] == CLINIC and body["default_place_of_service"] == "11"
    stored = json.loads(wiring.artifacts().read(f"config/clinics/{CLINIC}.json"))
    assert stored["billing_provider"]["npi"] == "1990000014"
    status, read = _call(api, "GET", f"/clinics/{CLINIC}/profile")
    assert (status, read) == (200, body)

    bad = copy.deepcopy(PROFILE)
    bad["billing_provider"]["tin"] = "98-7654321"
    bad["clinic_id"] = "clinic-lakeview"
    status, body = _call(api, "PUT", f"/clinics/{CLINIC}/profile", body=bad)
    assert status == 422
    assert body["problems"] == [
        {"field": "billing_provider.tin", "reason": "String should match pattern '^\\d{9}$'"},
    ]
    assert "98-7654321" not in json.dumps(body)
    status, body = _call(api, "PUT", f"/clinics/{CLINIC}/profile", body={**PROFILE, "clinic_id": "clinic-lakeview"})
    assert (status, body["problems"]) == (
        422,
        [{"field": "clinic_id", "reason": f"must be {CLINIC}, the clinic the profile is stored for"}],
    )
    assert _call(api, "GET", "/clinics/not a clinic/profile")[0] == 422


def test_post_bundle_bills_the_visit_and_answers_an_outcome_per_entry(api: Any, aws: LocalResources) -> None:
    assert _call(api, "POST", "/fhir/Bundle", {"clinic": CLINIC}, fhir_bundle())[0] == 404  # no profile yet
    _call(api, "PUT", f"/clinics/{CLINIC}/profile", body=PROFILE)
    status, body = _call(api, "POST", "/fhir/Bundle", {"clinic": CLINIC}, fhir_bundle())
    assert status == 200 and body["resourceType"] == "Bundle" and body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK"] * 8
    assert body["entry"][5]["response"]["outcome"]["issue"] == [
        {
            "severity": "information",
            "code": "informational",
            "diagnostics": f"accepted: encounter V20261120-01 is claim {CLAIM}",
        }
    ]
    claim = wiring.repository().get_claim(CLAIM)
    assert claim.source_key.startswith(f"fhir/bundles/{CLINIC}/") and claim.record_number == 6
    executions = client("stepfunctions").list_executions(stateMachineArn=aws.state_machine_arn)["executions"]
    assert [e["name"] for e in executions] == [CLAIM]
    # Resent: the same answer, nothing new.
    again = _call(api, "POST", "/fhir/Bundle", {"clinic": CLINIC}, fhir_bundle())
    assert again == (200, body)
    assert len(wiring.repository().list_claims(limit=10).items) == 1
    text = json.dumps(body)
    assert [c for c in CANARIES if c in text] == []


def test_post_bundle_refuses_what_is_not_a_bundle(api: Any, aws: LocalResources) -> None:
    _call(api, "PUT", f"/clinics/{CLINIC}/profile", body=PROFILE)
    status, body = _call(api, "POST", "/fhir/Bundle", {"clinic": CLINIC}, {"resourceType": "Patient"})
    assert (status, body) == (
        400,
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "diagnostics": "not a FHIR Bundle (resourceType must be Bundle)",
                    "expression": ["Bundle"],
                }
            ],
        },
    )
    assert _call(api, "POST", "/fhir/Bundle", None, fhir_bundle())[0] == 422  # the caller names the clinic
    resp = _raw(api, {"clinic": CLINIC}, "not json {", "application/json")
    assert resp["statusCode"] == 400
    assert json.loads(resp["body"])["issue"][0]["diagnostics"] == "not readable JSON (JSONDecodeError)"


def test_post_bundle_takes_application_fhir_json(api: Any, aws: LocalResources) -> None:
    _call(api, "PUT", f"/clinics/{CLINIC}/profile", body=PROFILE)
    resp = _raw(api, {"clinic": CLINIC}, json.dumps(fhir_bundle()), "application/fhir+json")
    assert resp["statusCode"] == 200
    assert resp["multiValueHeaders"]["Content-Type"] == ["application/fhir+json"]
    assert json.loads(resp["body"])["type"] == "transaction-response"
