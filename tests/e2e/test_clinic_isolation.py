"""Clinic isolation on the local stack, every route, over HTTP with real staff tokens.

The stack runs as `make local` does (moto server, the pipeline, the payer simulator, the API server
checking Cognito ID tokens against the pool's JWKS). The sample files give each clinic claims and
ERAs (the simulator pays each clinic's billing NPI in its own transaction). For every route of the
policy table: without a token it is a 401; a user of the other clinic, with the role the route
needs, gets exactly the not-found answer for one item, or a listing without a single item of the
clinic; a user of the clinic gets past the scope check. tests/integration/test_api_authz.py holds
the same table with every role.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra import config
from infra.local import identity
from infra.local.server import LocalServer
from medbill.workflow import authz
from medbill.workflow.authz import Role

pytestmark = pytest.mark.e2e
SAMPLES = config.REPO_ROOT / "events" / "encounters"
NS, LV = "clinic-northside", "clinic-lakeview"
# Staff of one clinic each, one per role (the demo users plus two managers of one clinic).
EXTRA_USERS = {"nora.manager": ("billing_manager", (NS,)), "lena.manager": ("billing_manager", (LV,))}
OTHER_CLINIC = {Role.VIEWER: "lee.lakeview", Role.BILLER: "lee.lakeview", Role.BILLING_MANAGER: "lena.manager"}
OWN_CLINIC = {Role.VIEWER: "val.viewer", Role.BILLER: "bea.biller", Role.BILLING_MANAGER: "nora.manager"}
MATCH = ("POST", "/worklists/unmatched-remittance/{remittance_id}/match")  # scoped by its target claim
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/clinics/{clinic_id}/profile"): {},
    ("POST", "/fhir/Bundle"): {},
    ("POST", "/clinics/{clinic_id}/uploads"): {"file_name": "visits.json", "size": 10},
    ("POST", "/claims/{claim_id}/corrections"): {"request_id": "e2e", "frequency": "7", "reason": "coding_error"},
    ("POST", "/claims/{claim_id}/adjustments"): {
        "request_id": "e2e",
        "amount": "1.00",
        "category": "small_balance",
        "balance": "patient",
    },
    ("POST", "/claims/{claim_id}/patient-payments"): {"request_id": "e2e", "amount": "1.00"},
    ("POST", "/claims/{claim_id}/patient-refunds"): {"request_id": "e2e", "amount": "1.00"},
    ("POST", "/worklists/unmatched-remittance/{remittance_id}/match"): {"claim_id": "{claim_id}"},
    ("POST", "/claims/{claim_id}/resent-changes/resolve"): {"action": "keep"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(server: LocalServer, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.api_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    server = LocalServer(moto_port=_free_port(), api_port=_free_port(), pump_interval_s=0.2)
    server.start()
    try:
        assert server.runtime is not None and server.staff_pool is not None
        for name, (role, clinics) in EXTRA_USERS.items():
            identity.add_user(server.cognito(), server.staff_pool, name, identity.DEMO_PASSWORD, role, clinics)
        for name in ("northside-2026-11-20.json", "lakeview-2026-11-20.csv"):
            server.runtime.upload(f"{config.ENCOUNTERS_PREFIX}{name}", (SAMPLES / name).read_bytes())
        tokens = {u: server.sign_in(u) for u in [*identity.DEMO_USERS, *EXTRA_USERS]}
        deadline = time.monotonic() + 300
        eras: dict[str, list[dict[str, Any]]] = {NS: [], LV: []}
        while time.monotonic() < deadline and not (eras[NS] and eras[LV]):
            eras = {
                NS: _call(server, "GET", "/eras?limit=100", tokens["val.viewer"])[1]["items"],
                LV: _call(server, "GET", "/eras?limit=100", tokens["lee.lakeview"])[1]["items"],
            }
            time.sleep(1)
        assert eras[NS] and eras[LV], "the payer simulator paid no ERA to each clinic"
        claim = _call(server, "GET", f"/claims?clinic={NS}&limit=1", tokens["ada.admin"])[1]["items"][0]
        yield {
            "server": server,
            "tokens": tokens,
            "claim_id": claim["claim_id"],
            "era_id": eras[NS][0]["era_id"],
            "ns_eras": {e["era_id"] for e in eras[NS]},
        }
    finally:
        server.stop()


def _path(method: str, template: str, world: dict[str, Any]) -> str:
    path = template.format(
        claim_id=world["claim_id"],
        era_id=world["era_id"],
        clinic_id=NS,
        request_id="e2e",
        remittance_id="UNMATCHED-NONE",
        name="appeal",
        upload_id="upload-20261207T000000-0123456789ab.json",
    )
    return path + (f"?clinic={NS}" if template == "/fhir/Bundle" else "")


def _body(route: tuple[str, str], world: dict[str, Any]) -> Any:
    body = BODIES.get(route)
    return json.loads(json.dumps(body).replace("{claim_id}", world["claim_id"])) if body is not None else None


def _northside_items(page: Any, world: dict[str, Any]) -> list[Any]:
    """The items of a listing (claims, ERAs, worklists, reports) that belong to clinic-northside."""
    items = page.get("items") if isinstance(page, dict) else None
    if items is not None:
        return [i for i in items if i.get("clinic_id") == NS or i.get("era_id") in world["ns_eras"]]
    text = json.dumps(page)
    return [NS] if NS in text else []


def _northside_count(page: Any, world: dict[str, Any]) -> int:
    if isinstance(page, dict) and "items" not in page and "clean_claim_rate" in page:
        return int(page["claims"])  # the KPI report counts the claims it covers
    return len(_northside_items(page, world))


def test_every_route_keeps_each_clinic_to_itself(world: dict[str, Any]) -> None:
    server, tokens = world["server"], world["tokens"]
    checked = []
    for route, policy in sorted(authz.POLICIES.items()):
        method, template = route
        path, body = _path(method, template, world), _body(route, world)
        assert _call(server, method, path, None, body) == (401, {"message": "Unauthorized"}), route
        if policy.role is Role.ADMIN or (policy.scope == authz.SCOPE_OFFICE and route != MATCH):
            continue  # admins see every clinic; /me and the unmatched queue name no clinic
        other = tokens[OTHER_CLINIC[policy.role]]
        own = tokens[OWN_CLINIC[policy.role]]
        status, answer = _call(server, method, path, other, body)
        if policy.scope == authz.SCOPE_CLINIC_LISTING:
            assert status == 200 and _northside_items(answer, world) == [], (route, answer)
            # Asking for the other clinic by name is an empty answer too (KPIs name no clinic: a count).
            named = f"{path}{'&' if '?' in path else '?'}clinic={NS}"
            status, answer = _call(server, method, named, other, body)
            assert status == 200 and _northside_count(answer, world) == 0, (route, answer)
            status, mine = _call(server, method, named, own, body)
            # The clinic's own user sees its items (on the samples a follow-up worklist may be empty, and
            # open A/R too once the simulator has paid everything).
            assert status == 200, (route, mine)
            maybe_empty = template in ("/worklists/{name}", "/reports/ar-aging")
            assert _northside_count(mine, world) > 0 or maybe_empty, (route, mine)
        else:
            assert status == 404, (route, status, answer)
            missing = {
                authz.SCOPE_CLAIM: f"claim {world['claim_id']} not found",
                authz.SCOPE_ERA: f"ERA {world['era_id']} not found",
                authz.SCOPE_CLINIC: f"clinic {NS} not found",
                authz.SCOPE_OFFICE: f"claim {world['claim_id']} not found",  # the match's target claim
            }[policy.scope]
            assert answer == {"message": missing}, (route, answer)
            status, mine = _call(server, method, path, own, body)
            assert (status, mine) != (404, {"message": missing}) and status != 403, (route, status, mine)
        checked.append(route)
    scoped = {r for r, p in authz.POLICIES.items() if p.role is not Role.ADMIN and p.scope != authz.SCOPE_OFFICE}
    # Uploads: the data bucket lets the console's origin POST, and no other (as the CDK rule does).
    s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
    assert server.runtime is not None
    (rule,) = s3.get_bucket_cors(Bucket=server.runtime.resources.bucket)["CORSRules"]
    assert (rule["AllowedOrigins"], rule["AllowedMethods"]) == ([server.api_url], ["POST"])
    assert MATCH in checked
    assert scoped <= set(checked)
