"""Authorization route by route: every route x role x clinic answers as the policy table says.

Clinic A's biller works clinic A only; a user of clinic B gets exactly the not-found answer for
clinic A's claim, ledger and ERA (nothing says it exists); viewers cannot act; releasing an ERA and
matching remittance need billing_manager; without a token every path is a 401.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.workflow import authz
from medbill.workflow.intake import new_claim, report_key_for
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import era_for
from tests.factories import make_encounter
from tests.integration.test_api import Context, _call, _load_api
from tests.integration.test_api_eras import _receive
from tests.staff import ADMIN, claims
from tests.unit.intake.ehr_builders import PROFILE

VIEWER_A = claims("viewer", "clinic-a")
BILLER_A = claims("biller", "clinic-a")
MANAGER_A = claims("billing_manager", "clinic-a")
MANAGER_A2 = claims("billing_manager", "clinic-a", name="second-manager-a")
BILLER_B = claims("biller", "clinic-b")
MANAGER_B = claims("billing_manager", "clinic-b")
BILLER_AB = claims("biller", "clinic-a", "clinic-b")
NO_ROLE = {"sub": "sub-nobody", "cognito:username": "nobody", "cognito:groups": "clinic:clinic-a"}
USERS = {
    "viewer_a": VIEWER_A,
    "biller_a": BILLER_A,
    "manager_a": MANAGER_A,
    "biller_b": BILLER_B,
    "manager_b": MANAGER_B,
    "admin": ADMIN,
    "no_role": NO_ROLE,
}
ERA_A = "1PAYERA010-TRACEA"
NPI_A, NPI_B = "1234567893", "1245319599"  # each clinic bills under its own NPI (the ERA's payee)


def _claim(encounter_id: str, clinic: str, npi: str | None = None) -> Claim:
    npi = npi or (NPI_B if clinic == "clinic-b" else NPI_A)
    encounter = make_encounter(encounter_id=encounter_id, clinic_id=clinic, billing_provider__npi=npi)
    claim = new_claim(encounter, "encounters/t.json", 1)
    lines = [line.model_copy(update={"charge": Decimal("100.00")}) for line in claim.lines]
    claim = claim.model_copy(update={"lines": lines, "total_charge": Decimal("200.00")})
    wiring.repository().create_claim(claim)
    return claim


@pytest.fixture
def world(aws: LocalResources) -> dict[str, Any]:
    a, b = _claim("EA1", "clinic-a"), _claim("EB1", "clinic-b")
    stranger = ClaimPayment(
        claim_id="UNKNOWN-CLP01",
        status_code="1",
        charge=Decimal("200.00"),
        paid=Decimal("160.00"),
        adjustments=[Adjustment("CO", "45", Decimal("40.00"))],
    )
    _receive("era/a.835", era_for([(a, "paid")], payer_id="PAYERA01", trace="TRACEA", extra_claims=[stranger]))
    wiring.clinic_profiles().put("clinic-a", {**PROFILE, "clinic_id": "clinic-a"})
    report = {"source_key": f"encounters/clinic-a/{UPLOAD_ID}", "accepted": [], "rejections": []}
    wiring.artifacts().write_json(report_key_for(f"encounters/clinic-a/{UPLOAD_ID}"), report)
    return {"api": _load_api(), "a": a.claim_id, "b": b.claim_id}


ADJUST = {"request_id": "t-1", "amount": "1.00", "category": "small_balance", "balance": "patient"}
MONEY = {"request_id": "t-2", "amount": "1.00"}
CORRECT = {"request_id": "t-3", "frequency": "7", "reason": "coding_error"}
UPLOAD = {"file_name": "visits.json", "size": 100}
FHIR = "/fhir/Bundle?clinic={clinic}"
UPLOAD_ID = "upload-20261207T000000-0123456789ab.json"

# (method, path, body, user, expected status). {a}/{b}: clinic A's / B's claim. Every route has rows
# for a role too low (403), a user of the other clinic (404, or an empty listing: checked below)
# and an allowed user in scope (2xx, or the domain's own answer such as 409 "not on hold").
TABLE: list[tuple[str, str, Any, str, int]] = [
    # GET /claims/{claim_id}
    ("GET", "/claims/{a}", None, "viewer_a", 200),
    ("GET", "/claims/{a}", None, "biller_b", 404),
    ("GET", "/claims/{a}", None, "admin", 200),
    ("GET", "/claims/{a}", None, "no_role", 403),
    ("GET", "/claims/{b}", None, "manager_a", 404),
    # GET /claims/{claim_id}/ledger
    ("GET", "/claims/{a}/ledger", None, "viewer_a", 200),
    ("GET", "/claims/{a}/ledger", None, "manager_b", 404),
    ("GET", "/claims/{a}/ledger", None, "admin", 200),
    ("GET", "/claims/{a}/ledger", None, "no_role", 403),
    # POST /claims/{claim_id}/recheck (409: in scope and allowed, but the claim is not on hold)
    ("POST", "/claims/{a}/recheck", None, "viewer_a", 403),
    ("POST", "/claims/{a}/recheck", None, "biller_a", 409),
    ("POST", "/claims/{a}/recheck", None, "biller_b", 404),
    ("POST", "/claims/{a}/recheck", None, "admin", 409),
    # GET /claims: every role, scoped by key (contents: test_listings_are_scoped_to_the_users_clinics)
    ("GET", "/claims", None, "viewer_a", 200),
    ("GET", "/claims", None, "admin", 200),
    ("GET", "/claims", None, "no_role", 403),
    # GET /eras: each user's clinics' ERAs by key (contents: test_era_lists_follow_the_payee)
    ("GET", "/eras", None, "viewer_a", 200),
    ("GET", "/eras", None, "biller_b", 200),
    # POST /claims/{claim_id}/retry (409: in scope and allowed, but the claim is not FAILED or stuck)
    ("POST", "/claims/{a}/retry", None, "viewer_a", 403),
    ("POST", "/claims/{a}/retry", None, "biller_a", 409),
    ("POST", "/claims/{a}/retry", None, "biller_b", 404),
    ("POST", "/claims/{a}/retry", None, "admin", 409),
    # GET /worklists/stuck-claims: managers, filtered to their clinics
    ("GET", "/worklists/stuck-claims", None, "biller_a", 403),
    ("GET", "/worklists/stuck-claims", None, "manager_a", 200),
    ("GET", "/eras", None, "admin", 200),
    ("GET", "/eras", None, "no_role", 403),
    # GET /eras/{era_id}: in scope when its payee is one of the user's clinics
    ("GET", f"/eras/{ERA_A}", None, "viewer_a", 200),
    ("GET", f"/eras/{ERA_A}", None, "biller_b", 404),
    ("GET", f"/eras/{ERA_A}", None, "admin", 200),
    ("GET", f"/eras/{ERA_A}", None, "no_role", 403),
    # POST /eras/{era_id}/release (409: posted already, not quarantined)
    ("POST", f"/eras/{ERA_A}/release", None, "biller_a", 403),
    ("POST", f"/eras/{ERA_A}/release", None, "manager_b", 404),
    ("POST", f"/eras/{ERA_A}/release", None, "manager_a", 409),
    ("POST", f"/eras/{ERA_A}/release", None, "admin", 409),
    # the unmatched remittance work queue and matching (no clinic: managers; the target claim in scope)
    ("GET", "/worklists/unmatched-remittance", None, "biller_a", 403),
    ("GET", "/worklists/unmatched-remittance", None, "manager_a", 200),
    ("POST", "/worklists/unmatched-remittance/{r}/match", {"claim_id": "{a}"}, "biller_a", 403),
    ("POST", "/worklists/unmatched-remittance/{r}/match", {"claim_id": "{b}"}, "manager_a", 404),
    ("POST", "/worklists/unmatched-remittance/{r}/match", {"claim_id": "{a}"}, "manager_b", 404),
    # reports: any role, scoped to the user's clinics (another clinic's is an empty report)
    ("GET", "/reports/ar-aging", None, "viewer_a", 200),
    ("GET", "/reports/ar-aging", None, "no_role", 403),
    ("GET", "/reports/kpis", None, "biller_b", 200),
    ("GET", "/reports/kpis", None, "no_role", 403),
    ("GET", "/reports/stage-times", None, "admin", 200),
    ("GET", "/reports/stage-times", None, "no_role", 403),
    # the access log: admins only
    ("GET", "/claims/{a}/access-log", None, "manager_a", 403),
    ("GET", "/claims/{a}/access-log", None, "admin", 200),
    ("GET", "/claims/CLMNOPE/access-log", None, "admin", 404),
    ("GET", "/me", None, "viewer_a", 200),
    ("GET", "/me", None, "no_role", 403),
    # clinic profiles: the clinic's staff read it, its managers change it ({} is not a profile: 422)
    ("GET", "/clinics/clinic-a/profile", None, "viewer_a", 200),
    ("GET", "/clinics/clinic-a/profile", None, "biller_b", 404),
    ("GET", "/clinics/clinic-a/profile", None, "admin", 200),
    ("GET", "/clinics/clinic-a/profile", None, "no_role", 403),
    ("PUT", "/clinics/clinic-a/profile", {}, "biller_a", 403),
    ("PUT", "/clinics/clinic-a/profile", {}, "manager_b", 404),
    ("PUT", "/clinics/clinic-a/profile", {}, "manager_a", 422),
    ("PUT", "/clinics/clinic-a/profile", {}, "admin", 422),
    # FHIR bundles: a biller of the clinic ({} is not a Bundle: 400, after the scope check)
    ("POST", FHIR.format(clinic="clinic-a"), {}, "viewer_a", 403),
    ("POST", FHIR.format(clinic="clinic-a"), {}, "biller_b", 404),
    ("POST", FHIR.format(clinic="clinic-a"), {}, "biller_a", 400),
    ("POST", FHIR.format(clinic="clinic-b"), {}, "biller_a", 404),
    ("POST", FHIR.format(clinic="clinic-a"), {}, "admin", 400),
    # encounter file uploads: a biller of the clinic
    ("POST", "/clinics/clinic-a/uploads", UPLOAD, "viewer_a", 403),
    ("POST", "/clinics/clinic-a/uploads", UPLOAD, "biller_b", 404),
    ("POST", "/clinics/clinic-a/uploads", UPLOAD, "biller_a", 200),
    ("POST", "/clinics/clinic-a/uploads", {**UPLOAD, "file_name": "a.exe"}, "biller_a", 400),
    ("POST", "/clinics/clinic-a/uploads", UPLOAD, "admin", 200),
    ("GET", f"/clinics/clinic-a/uploads/{UPLOAD_ID}", None, "viewer_a", 200),
    ("GET", f"/clinics/clinic-a/uploads/{UPLOAD_ID}", None, "no_role", 403),
    ("GET", f"/clinics/clinic-a/uploads/{UPLOAD_ID}", None, "biller_b", 404),
    # follow-up actions on one claim (409: the claim is not adjudicated / has no balance)
    ("POST", "/claims/{a}/corrections", CORRECT, "viewer_a", 403),
    ("POST", "/claims/{a}/corrections", CORRECT, "biller_b", 404),
    ("POST", "/claims/{a}/corrections", CORRECT, "biller_a", 409),
    # a re-sent encounter that changed (409: in scope and allowed, but nothing re-sent waits on claim a)
    ("POST", "/claims/{a}/resent-changes/resolve", {"action": "keep"}, "viewer_a", 403),
    ("POST", "/claims/{a}/resent-changes/resolve", {"action": "keep"}, "biller_b", 404),
    ("POST", "/claims/{a}/resent-changes/resolve", {"action": "keep"}, "biller_a", 409),
    ("POST", "/claims/{a}/adjustments", ADJUST, "viewer_a", 403),
    ("POST", "/claims/{a}/adjustments", ADJUST, "biller_b", 404),
    ("POST", "/claims/{a}/adjustments", ADJUST, "biller_a", 409),
    ("POST", "/claims/{a}/adjustments/t-1/approve", None, "biller_a", 403),
    ("POST", "/claims/{a}/adjustments/t-1/approve", None, "manager_b", 404),
    ("POST", "/claims/{a}/adjustments/t-1/approve", None, "manager_a", 409),
    ("POST", "/claims/{a}/patient-payments", MONEY, "viewer_a", 403),
    ("POST", "/claims/{a}/patient-payments", MONEY, "biller_b", 404),
    ("POST", "/claims/{a}/patient-payments", MONEY, "biller_a", 200),
    ("POST", "/claims/{a}/patient-refunds", MONEY, "viewer_a", 403),
    ("POST", "/claims/{a}/patient-refunds", MONEY, "biller_b", 404),
    ("POST", "/claims/{a}/patient-refunds", MONEY, "biller_a", 200),
    # worklists by action: every role, each clinic's part by key (contents: test_worklists_by_clinic)
    ("GET", "/worklists/appeal", None, "viewer_a", 200),
    ("GET", "/worklists/appeal", None, "no_role", 403),
    # last: it consumes the remittance (the refused matches above consumed nothing)
    ("POST", "/worklists/unmatched-remittance/{r}/match", {"claim_id": "{a}"}, "manager_a", 200),
]
# Routes whose scope is a listing: another clinic's user gets an empty page, proven by the listing tests.
LISTINGS = {p for p, pol in authz.POLICIES.items() if pol.scope == authz.SCOPE_CLINIC_LISTING}


def _event(path: str, query: dict[str, str], user: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {"requestId": "r-csv", "stage": "v1", "authorizer": {"claims": user}},
        "body": None,
        "isBase64Encoded": False,
    }


def _fill(text: str, world: dict[str, Any]) -> str:
    return text.format(**world)


def _route_of(method: str, path: str) -> tuple[str, str]:
    """The OpenAPI route a TABLE row calls (its path with the ids put back as parameters)."""
    path = path.split("?")[0]
    for route_method, template in authz.POLICIES:
        pattern = "^" + re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template)) + "$"
        if (
            route_method == method
            and re.match(pattern, path)
            and not (template == "/worklists/{name}" and path == "/worklists/unmatched-remittance")
        ):
            return route_method, template
    raise AssertionError(f"no policy for {method} {path}")


def test_the_table_covers_every_route_with_a_refused_role_another_clinic_and_an_allowed_user() -> None:
    rows: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for method, path, _, who, status in TABLE:
        rows.setdefault(_route_of(method, path.format(a="A", b="B", r="R")), []).append((who, status))
    assert set(rows) == set(authz.POLICIES)
    for route, outcomes in rows.items():
        policy = authz.POLICIES[route]
        assert any(s == 403 for _, s in outcomes), f"{route}: no row with a role too low"
        assert any(s < 300 or s in (400, 409, 422) for w, s in outcomes if w != "no_role"), f"{route}: none allowed"
        if policy.role is authz.Role.ADMIN:
            continue  # admins see every clinic
        if policy.scope in (authz.SCOPE_CLAIM, authz.SCOPE_ERA, authz.SCOPE_CLINIC):
            assert any(s == 404 and w.endswith("_b") for w, s in outcomes), f"{route}: no other-clinic row"
        else:
            assert route in LISTINGS or policy.scope == authz.SCOPE_OFFICE


def test_every_route_role_and_clinic_answers_as_the_policy_says(world: dict[str, Any]) -> None:
    api = world["api"]
    [item] = _call(api, "GET", "/worklists/unmatched-remittance", user=ADMIN)[1]["items"]
    world = {**world, "r": item["remittance_id"]}
    got = []
    for method, path, body, who, _ in TABLE:
        filled = {k: _fill(v, world) if isinstance(v, str) else v for k, v in body.items()} if body else body
        full = _fill(path, world)
        route, _, query = full.partition("?")
        params = dict(p.split("=") for p in query.split("&")) if query else None
        got.append(_call(api, method, route, params, body=filled, user=USERS[who])[0])
    assert [(m, p, w, s) for (m, p, _, w, _), s in zip(TABLE, got, strict=True)] == [
        (m, p, w, s) for m, p, _, w, s in TABLE
    ]
    assert wiring.repository().query_status("UNMATCHED_REMITTANCE", limit=10, next_token=None)[0] == []


def test_out_of_scope_reads_exactly_like_a_missing_claim(world: dict[str, Any]) -> None:
    api = world["api"]
    _, missing = _call(api, "GET", "/claims/CLMNOPE", user=BILLER_B)
    _, hidden = _call(api, "GET", f"/claims/{world['a']}", user=BILLER_B)
    assert hidden == {"message": f"claim {world['a']} not found"} and missing == {"message": "claim CLMNOPE not found"}
    assert _call(api, "GET", f"/eras/{ERA_A}", user=BILLER_B)[1] == {"message": f"ERA {ERA_A} not found"}


def test_listings_are_scoped_to_the_users_clinics(world: dict[str, Any]) -> None:
    api = world["api"]
    _claim("EA2", "clinic-a")
    _claim("EC1", "clinic-c")

    def ids(user: dict[str, Any], **query: str) -> list[str]:
        seen, token = [], None
        while True:
            q = {**query, "limit": "1", **({"next_token": token} if token else {})}
            status, page = _call(api, "GET", "/claims", q, user=user)
            assert status == 200, page
            seen += [i["clinic_id"] for i in page["items"]]
            if not (token := page["next_token"]):
                return seen

    assert ids(VIEWER_A) == ["clinic-a", "clinic-a"]
    assert ids(BILLER_B) == ["clinic-b"]
    assert sorted(ids(BILLER_AB)) == ["clinic-a", "clinic-a", "clinic-b"]  # two clinics, pages across both
    assert sorted(ids(ADMIN, clinic="clinic-c")) == ["clinic-c"]
    assert ids(VIEWER_A, clinic="clinic-b") == []  # another clinic: nothing, not an error that confirms it
    assert ids(VIEWER_A, status="RECEIVED") == ["clinic-a", "clinic-a"]
    # A multi-clinic token is checked like any other.
    assert _call(api, "GET", "/claims", {"next_token": "m.garbage"}, user=BILLER_AB)[0] == 400


def test_without_a_token_every_path_is_401(world: dict[str, Any]) -> None:
    api = world["api"]
    ids = {"claim_id": world["a"], "era_id": ERA_A, "clinic_id": "clinic-a", "name": "appeal"}
    ids |= {"request_id": "x", "remittance_id": "x", "upload_id": UPLOAD_ID}
    paths = [(method, template.format(**ids)) for method, template in authz.POLICIES]  # every route
    paths += [("GET", "/no/such/route"), ("GET", "/claims?status=NOT_A_STATUS")]
    for method, path in paths:
        assert _call(api, method, path, user=None) == (401, {"message": "Unauthorized"})
    assert _call(api, "GET", "/claims", user={"cognito:groups": "admin"})[0] == 401  # claims without a subject


def test_every_route_in_the_openapi_document_has_a_policy(world: dict[str, Any]) -> None:
    schema = world["api"].app.get_openapi_schema()
    routes = {(m.upper(), p) for p, ops in schema.paths.items() for m in ops.model_dump(exclude_none=True)}
    routes = {r for r in routes if r[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}}
    assert routes and routes - set(authz.POLICIES) == set()
    assert set(authz.POLICIES) - routes == set()  # no stale policy for a route that is gone


def test_me_names_the_caller_role_and_clinics(world: dict[str, Any]) -> None:
    status, me = _call(world["api"], "GET", "/me", user=BILLER_AB)
    assert status == 200
    assert me == {
        "user_id": "sub-biller-clinic-a-clinic-b",
        "name": "biller-clinic-a-clinic-b",
        "role": "biller",
        "clinics": ["clinic-a", "clinic-b"],
        "all_clinics": False,
    }
    assert _call(world["api"], "GET", "/me", user=ADMIN)[1]["all_clinics"] is True


def test_reports_cover_only_the_users_clinics_and_export_csv(world: dict[str, Any]) -> None:
    api, repo = world["api"], wiring.repository()
    for claim_id in (world["a"], world["b"]):  # both sent to the payer, nothing paid on B's yet
        claim = repo.get_claim(claim_id)
        repo.save(claim, actor="workflow", new_status=S.REGISTERED)
    status, mine = _call(api, "GET", "/reports/kpis", user=VIEWER_A)
    assert status == 200 and mine["claims"] == 1
    assert _call(api, "GET", "/reports/kpis", user=ADMIN)[1]["claims"] == 2
    assert _call(api, "GET", "/reports/kpis", {"clinic": "clinic-b"}, user=VIEWER_A)[1]["claims"] == 0
    status, times = _call(api, "GET", "/reports/stage-times", user=BILLER_B)
    assert status == 200 and {r["clinic_id"] for r in times["rows"]} == {"clinic-b"}
    assert {r["stage"] for r in times["rows"]} == {"RECEIVED", "REGISTERED"}
    status, aging = _call(api, "GET", "/reports/ar-aging", {"as_of": "2026-12-01"}, user=ADMIN)
    assert status == 200 and aging["as_of"] == "2026-12-01" and aging["buckets"][-1] == "120+"
    resp = api.handler(_event("/reports/stage-times", {"format": "csv"}, BILLER_B), Context())
    headers = {k: v[-1] for k, v in resp["multiValueHeaders"].items()}
    assert resp["statusCode"] == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"] == 'attachment; filename="stage-times.csv"'
    assert resp["body"].splitlines()[0] == "clinic_id,payer_id,stage,stays,total_hours,average_hours,max_hours"
    assert all(line.startswith("clinic-b,") for line in resp["body"].splitlines()[1:])
    assert _call(api, "GET", "/reports/kpis", user=None)[0] == 401
