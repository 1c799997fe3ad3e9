"""Staff identity on the laptop: a user pool on moto's Cognito and the check API Gateway's Cognito
authorizer does in AWS.

`provision` creates the pool (password policy as in CDK; MFA off locally: moto cannot run a TOTP
challenge through a browser sign-in), an app client (user-password sign-in, no secret) and the
role groups; `add_user` creates a staff user with a permanent password, a role and clinics;
`sign_in` returns an ID token. `TokenVerifier` checks a bearer token the way the authorizer does:
RS256 signature against the pool's JWKS (served by moto at /<pool>/.well-known/jwks.json),
issuer, audience (the app client), token_use "id", expiry; its answer is the claims API Gateway
puts in requestContext.authorizer.claims (groups as the comma-separated string it passes).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from infra import config
from medbill.workflow.authz import CLINIC_GROUP_PREFIX, Role

LOG = logging.getLogger("medbill.local.identity")
POOL_NAME = f"{config.PROJECT}-staff"
CLIENT_NAME = f"{config.PROJECT}-console"
PASSWORD_POLICY = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 3,
}
# Local users for people trying `make local` (moto only, never a real pool): name -> (role, clinics).
DEMO_PASSWORD = "Local-Only-Pass1!"  # noqa: S105 - a moto user pool on 127.0.0.1
DEMO_USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ada.admin": ("admin", ()),
    "bea.biller": ("biller", ("clinic-northside",)),
    "max.manager": ("billing_manager", ("clinic-northside", "clinic-lakeview")),
    "val.viewer": ("viewer", ("clinic-northside",)),
    "lee.lakeview": ("biller", ("clinic-lakeview",)),
}


@dataclass(frozen=True)
class StaffPool:
    pool_id: str
    client_id: str
    region: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


def provision(cognito: Any) -> StaffPool:
    pool = cognito.create_user_pool(
        PoolName=POOL_NAME,
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        MfaConfiguration="OFF",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=CLIENT_NAME,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]
    for role in Role:
        cognito.create_group(GroupName=role.group, UserPoolId=pool["Id"], Description=f"staff role {role.group}")
    return StaffPool(pool_id=pool["Id"], client_id=client["ClientId"], region=cognito.meta.region_name)


def add_user(cognito: Any, pool: StaffPool, name: str, password: str, role: str, clinics: Iterable[str] = ()) -> None:
    cognito.admin_create_user(UserPoolId=pool.pool_id, Username=name, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool.pool_id, Username=name, Password=password, Permanent=True)
    existing = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool.pool_id)["Groups"]}
    for group in [role, *(f"{CLINIC_GROUP_PREFIX}{c}" for c in clinics)]:
        if group not in existing:
            cognito.create_group(GroupName=group, UserPoolId=pool.pool_id)
            existing.add(group)
        cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=name, GroupName=group)


def add_demo_users(cognito: Any, pool: StaffPool) -> None:
    for name, (role, clinics) in DEMO_USERS.items():
        add_user(cognito, pool, name, DEMO_PASSWORD, role, clinics)


def sign_in(cognito: Any, pool: StaffPool, name: str, password: str) -> str:
    """The ID token of a user-password sign-in (what the console keeps for its API calls)."""
    answer = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def fetch_jwks(endpoint_url: str, pool: StaffPool) -> dict[str, Any]:
    url = f"{endpoint_url}/{pool.pool_id}/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - moto on 127.0.0.1
        return dict(json.loads(resp.read()))


class TokenVerifier:
    """What API Gateway's Cognito user pool authorizer checks, for the local API server."""

    def __init__(self, jwks: dict[str, Any], pool: StaffPool, *, leeway_s: int = 0) -> None:
        self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        self._pool = pool
        self._leeway_s = leeway_s

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The authorizer claims for an `Authorization` header, or None (API Gateway's 401)."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            token = authorization.strip()  # API Gateway accepts the bare token too
        try:
            decoded = jwt.decode(token.strip(), self._keys, algorithms=["RS256"])
        except (JoseError, ValueError) as err:
            LOG.info("bearer token refused: %s", type(err).__name__)
            return None
        c = dict(decoded.claims)
        now = time.time()
        if (
            c.get("iss") != self._pool.issuer
            or c.get("aud") != self._pool.client_id
            or c.get("token_use") != "id"
            or not isinstance(c.get("exp"), int | float)
            or c["exp"] + self._leeway_s < now
            or not c.get("sub")
        ):
            LOG.info("bearer token refused: issuer, audience, use or expiry")
            return None
        groups = c.get("cognito:groups")
        if isinstance(groups, list):
            c["cognito:groups"] = ",".join(str(g) for g in groups)  # as API Gateway passes it on
        # API Gateway passes every claim as a string.
        return {k: v if isinstance(v, str) else str(v) for k, v in c.items()}
