"""The local API server checks staff tokens as API Gateway's Cognito authorizer does, against a
user pool on moto's Cognito: signature (pool JWKS), issuer, audience, ID token, expiry."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import moto.cognitoidp
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from infra.local import identity
from infra.local.api_server import ApiServer
from infra.local.lambda_bridge import LambdaBridge
from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.workflow.intake import new_claim
from tests.factories import make_encounter
from tests.integration.test_api import Context, _load_api

MOTO_KEYS = Path(moto.cognitoidp.__file__).parent / "resources"


def _keys(name: str) -> dict[str, Any]:
    return dict(json.loads(gzip.decompress((MOTO_KEYS / name).read_bytes())))


def _get(url: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def staff(aws: LocalResources) -> Any:
    cognito = boto3.client("cognito-idp")
    pool = identity.provision(cognito)
    identity.add_demo_users(cognito, pool)
    api = _load_api()
    bridge = LambdaBridge({"api": lambda event, _ctx: api.handler(event, Context())})
    verifier = identity.TokenVerifier(_keys("jwks-public.json.gz"), pool)
    with ApiServer(bridge, verifier=verifier.claims) as server:
        yield cognito, pool, server


def test_tokens_are_checked_and_the_claims_reach_the_api(staff: Any) -> None:
    cognito, pool, server = staff
    repo = wiring.repository()
    north = new_claim(make_encounter(encounter_id="N1", clinic_id="clinic-northside"), "encounters/n", 1)
    lake = new_claim(make_encounter(encounter_id="L1", clinic_id="clinic-lakeview"), "encounters/l", 1)
    repo.create_claim(north)
    repo.create_claim(lake)
    token = identity.sign_in(cognito, pool, "bea.biller", identity.DEMO_PASSWORD)

    assert _get(f"{server.url}/claims/{north.claim_id}", None) == (401, {"message": "Unauthorized"})
    assert _get(f"{server.url}/claims/{north.claim_id}", "not-a-jwt")[0] == 401
    assert _get(f"{server.url}/claims/{north.claim_id}", token)[0] == 200
    assert _get(f"{server.url}/claims/{lake.claim_id}", token)[0] == 404  # another clinic's claim
    status, me = _get(f"{server.url}/me", token)
    assert status == 200 and (me["name"], me["role"], me["clinics"]) == ("bea.biller", "biller", ["clinic-northside"])


def _forged(pool: identity.StaffPool, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": pool.issuer,
        "aud": pool.client_id,
        "sub": "forged",
        "token_use": "id",
        "exp": now + 600,
        "cognito:groups": ["admin"],
        **overrides,
    }
    private = RSAKey.import_key(_keys("jwks-private.json.gz"))  # type: ignore[arg-type]
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, private)


def test_expired_other_audience_access_tokens_and_other_keys_are_refused(staff: Any) -> None:
    _, pool, _ = staff
    verifier = identity.TokenVerifier(_keys("jwks-public.json.gz"), pool)
    assert verifier.claims("Bearer " + _forged(pool))["cognito:groups"] == "admin"  # the control
    assert verifier.claims("Bearer " + _forged(pool, exp=int(time.time()) - 5)) is None
    assert verifier.claims("Bearer " + _forged(pool, aud="another-client")) is None
    assert verifier.claims("Bearer " + _forged(pool, iss=pool.issuer + "x")) is None
    assert verifier.claims("Bearer " + _forged(pool, token_use="access")) is None
    other_key = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "kid": "dummy"}, {"iss": pool.issuer, "aud": pool.client_id}, other_key)
    assert verifier.claims("Bearer " + forged) is None
    assert verifier.claims(None) is None
