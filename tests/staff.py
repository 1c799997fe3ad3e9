"""Staff identities for API tests: the claims API Gateway's Cognito authorizer puts in
requestContext.authorizer.claims (groups as the comma-separated string API Gateway passes)."""

from __future__ import annotations

from typing import Any


def claims(role: str, *clinics: str, name: str | None = None) -> dict[str, Any]:
    name = name or f"{role}-{'-'.join(clinics) or 'all'}"
    groups = [role, *(f"clinic:{c}" for c in clinics)]
    return {
        "sub": f"sub-{name}",
        "cognito:username": name,
        "cognito:groups": ",".join(groups),
        "token_use": "id",
    }


ADMIN = claims("admin", name="ada-admin")
