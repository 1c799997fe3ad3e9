"""The staff API handler against moto: claim detail with timeline, lists by status and clinic, errors."""

from __future__ import annotations

import importlib.util
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from infra.config import FUNCTIONS_PATH
from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import register
from tests.factories import CANARY_LAST, CANARY_MEMBER, make_encounter
from tests.staff import ADMIN


@dataclass
class Context:
    function_name: str = "medbill-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:medbill-api"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def _load_api() -> Any:
    spec = importlib.util.spec_from_file_location("medbill_fn_api_test", FUNCTIONS_PATH / "api" / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _get(api: Any, path: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
    return _call(api, "GET", path, query)


def _call(
    api: Any,
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: Any = None,
    *,
    user: dict[str, Any] | None = ADMIN,
) -> tuple[int, Any]:
    event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json", "Content-Type": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"], "Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "v1",
            "httpMethod": method,
            "path": path,
            "identity": {"sourceIp": "127.0.0.1"},
            # What API Gateway's Cognito authorizer passes on (None: no token, API Gateway's 401).
            "authorizer": {"claims": user} if user is not None else None,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    resp = api.handler(event, Context())
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


@pytest.fixture
def api(aws: LocalResources) -> Any:
    return _load_api()


def test_claim_detail_has_status_money_and_timeline_but_no_demographics(api: Any) -> None:
    repo = wiring.repository()
    claim = new_claim(make_encounter(), "encounters/a.json", 1)
    repo.create_claim(claim)
    register(repo, claim.claim_id)
    status, body = _get(api, f"/claims/{claim.claim_id}")
    assert status == 200
    assert body["status"] == "REGISTERED"
    assert body["patient_id"].startswith("PAT")
    assert [e["new_status"] for e in body["timeline"]] == ["RECEIVED", "REGISTERED"]
    assert body["paid_amount"] == "0.00"
    assert body["diagnoses"] == ["E119", "I10"]
    text = json.dumps(body)
    assert CANARY_LAST not in text and CANARY_MEMBER not in text


def test_unknown_claim_is_404(api: Any) -> None:
    status, body = _get(api, "/claims/CLMNOPE")
    assert status == 404
    assert body == {"message": "claim CLMNOPE not found"}


def test_list_by_status_and_clinic_with_pages(api: Any) -> None:
    repo = wiring.repository()
    for n in range(3):
        repo.create_claim(new_claim(make_encounter(encounter_id=f"E{n}", clinic_id="clinic-a"), "encounters/x", n + 1))
    repo.create_claim(new_claim(make_encounter(encounter_id="B1", clinic_id="clinic-b"), "encounters/y", 1))
    status, page = _get(api, "/claims", {"status": "RECEIVED", "clinic": "clinic-a", "limit": "2"})
    assert status == 200 and len(page["items"]) == 2 and page["next_token"]
    status, rest = _get(api, "/claims", {"status": "RECEIVED", "clinic": "clinic-a", "next_token": page["next_token"]})
    ids = {i["claim_id"] for i in page["items"] + rest["items"]}
    assert len(ids) == 3 and {i["clinic_id"] for i in page["items"] + rest["items"]} == {"clinic-a"}
    _, clinic_b = _get(api, "/claims", {"clinic": "clinic-b"})
    assert [i["encounter_id"] for i in clinic_b["items"]] == ["B1"]
    # A page token belongs to its listing: a RECEIVED page's token does not page another status or clinic.
    status, body = _get(api, "/claims", {"status": "PAID", "next_token": page["next_token"]})
    assert status == 400 and "another listing" in body["message"]
    _, by_clinic = _get(api, "/claims", {"clinic": "clinic-a", "limit": "1"})
    status, body = _get(api, "/claims", {"clinic": "clinic-b", "next_token": by_clinic["next_token"]})
    assert status == 400 and "another listing" in body["message"]


def test_bad_query_gets_a_clear_4xx(api: Any) -> None:
    status, body = _get(api, "/claims", {"status": "NOT_A_STATUS"})
    assert status == 422
    assert "status" in json.dumps(body)
    status, body = _get(api, "/claims", {"next_token": "%%%garbage"})
    assert status == 400 and "next_token" in body["message"]


def test_openapi_document_is_fresh_and_lists_every_route() -> None:
    import importlib.util as iu

    from infra.config import REPO_ROOT

    spec = iu.spec_from_file_location("gen_openapi", REPO_ROOT / "scripts" / "gen_openapi.py")
    assert spec and spec.loader
    gen = iu.module_from_spec(spec)
    spec.loader.exec_module(gen)
    document = gen.openapi_document()
    routes = sorted((m.upper(), p) for p, methods in document["paths"].items() for m in methods)
    assert routes == [
        ("GET", "/claims"),
        ("GET", "/claims/{claim_id}"),
        ("GET", "/claims/{claim_id}/access-log"),  # issue 11: who read the claim (admins)
        ("GET", "/claims/{claim_id}/ledger"),
        ("GET", "/clinics/{clinic_id}/profile"),
        ("GET", "/clinics/{clinic_id}/uploads/{upload_id}"),  # issue 11: an uploaded file's intake report
        ("GET", "/eras"),
        ("GET", "/eras/{era_id}"),
        ("GET", "/me"),  # issue 11: the caller's role and clinics
        ("GET", "/reports/ar-aging"),  # issue 11: reports
        ("GET", "/reports/kpis"),
        ("GET", "/reports/stage-times"),
        ("GET", "/worklists/stuck-claims"),  # issue 12: MarkFailed failed, the claim kept its status
        ("GET", "/worklists/unmatched-remittance"),
        ("GET", "/worklists/{name}"),
        ("POST", "/claims/{claim_id}/adjustments"),
        ("POST", "/claims/{claim_id}/adjustments/{request_id}/approve"),
        ("POST", "/claims/{claim_id}/corrections"),
        ("POST", "/claims/{claim_id}/patient-payments"),
        ("POST", "/claims/{claim_id}/patient-refunds"),
        ("POST", "/claims/{claim_id}/recheck"),
        ("POST", "/claims/{claim_id}/resent-changes/resolve"),  # issue 12: a re-sent encounter that changed
        ("POST", "/claims/{claim_id}/retry"),  # issue 12: retry a FAILED claim from its last good stage
        ("POST", "/clinics/{clinic_id}/uploads"),  # issue 11: a presigned upload from the console
        ("POST", "/eras/{era_id}/release"),
        ("POST", "/fhir/Bundle"),
        ("POST", "/worklists/unmatched-remittance/{remittance_id}/match"),
        ("PUT", "/clinics/{clinic_id}/profile"),
    ]
    assert gen.main(["--check"]) == 0, "docs/openapi.json is stale: run .venv/bin/python scripts/gen_openapi.py"
