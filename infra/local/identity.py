"""Staff identity on the laptop: a user pool on moto's Cognito and the check API Gateway's Cognito
authorizer does in AWS.

`provision` creates the pool as CDK does (password policy, MFA required with TOTP), an app client
(SRP sign-in as in AWS, plus user-password for scripts and curl; no secret) and the role groups;
`add_user` creates a staff user with a permanent password, a role and clinics; `sign_in` returns an
ID token, answering the TOTP challenges (enrolment, then a code) the way an authenticator app would.

moto checks TOTP codes when MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true (the local server sets it),
with one fixed secret for every user (`LOCAL_TOTP_SECRET`); it does not check the SRP proof (its
SRP_B and SALT are random), so the SRP arithmetic is tested against pycognito in the browser tests
(tests/e2e/test_console_srp.py).

`TokenVerifier` checks a bearer token the way the authorizer does:
RS256 signature against the pool's JWKS (served by moto at /<pool>/.well-known/jwks.json),
issuer, audience (the app client), token_use "id", expiry; its answer is the claims API Gateway
puts in requestContext.authorizer.claims (groups as the comma-separated string it passes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import struct
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


# moto's one TOTP secret for every user (moto.cognitoidp.models.COGNITO_TOTP_MFA_SECRET): the key a
# person enters in an authenticator app on `make local`; a real pool issues one per user.
LOCAL_TOTP_SECRET = "asdfasdfasdf"  # noqa: S105 - moto's fixed, public test secret
TOTP_STEP_S = 30
TOTP_ENV = "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"


def totp_code(secret: str = LOCAL_TOTP_SECRET, at: float | None = None) -> str:
    """RFC 6238 TOTP (SHA-1, 6 digits, 30 s), what an authenticator app shows for a base32 secret."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // TOTP_STEP_S)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_totp_code(secret: str = LOCAL_TOTP_SECRET, margin_s: float = 5.0) -> str:
    """A code with at least `margin_s` left in its step (moto accepts the current step only)."""
    left = TOTP_STEP_S - time.time() % TOTP_STEP_S
    if left < margin_s:
        time.sleep(left + 0.1)
    return totp_code(secret)


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
        MfaConfiguration="ON",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]
    # MFA required, TOTP only (as infra/constructs/staff_identity.py): a user enrols at first sign-in.
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=CLIENT_NAME,
        GenerateSecret=False,
        # SRP is the console's flow (as in AWS); user-password only for scripts and curl on the laptop.
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
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


def sign_in(cognito: Any, pool: StaffPool, name: str, password: str, totp_secret: str = LOCAL_TOTP_SECRET) -> str:
    """The ID token of a user-password sign-in (scripts and tests; the console signs in with SRP),
    enrolling TOTP or answering its challenge with a code from `totp_secret`."""
    answer = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )
    for _ in range(3):
        if "AuthenticationResult" in answer:
            return str(answer["AuthenticationResult"]["IdToken"])
        challenge, session = answer.get("ChallengeName"), answer.get("Session")
        if challenge == "MFA_SETUP":
            session = cognito.associate_software_token(Session=session)["Session"]
            code = fresh_totp_code(totp_secret)
            session = cognito.verify_software_token(Session=session, UserCode=code, FriendlyDeviceName="local")[
                "Session"
            ]
            responses = {"USERNAME": name}
        elif challenge == "SOFTWARE_TOKEN_MFA":
            responses = {"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": fresh_totp_code(totp_secret)}
        else:
            raise RuntimeError(f"sign-in challenge {challenge} is not one a script answers")
        answer = cognito.respond_to_auth_challenge(
            ClientId=pool.client_id, ChallengeName=challenge, Session=session, ChallengeResponses=responses
        )
    raise RuntimeError("sign-in did not finish after its challenges")


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
