"""The staff console on the local API server: static files, their config, and sign-in.

`Console.answer` takes a request the API server received and answers it when it is the console's:

- GET /console/... : a file under console/ (index.html for the folder), with the security headers
  the CloudFront response headers policy sets in AWS (infra/constructs/console_hosting.py);
- GET /console/config.json : where the console finds the API and the user pool's app client;
- POST /cognito : the console's sign-in calls (SRP InitiateAuth, RespondToAuthChallenge, TOTP
  enrolment), passed to moto's Cognito (same body, same X-Amz-Target); nothing else passes. In AWS
  the browser calls cognito-idp.<region>.amazonaws.com itself (config.json written by CDK).

Anything else is None: the API server turns it into an API Gateway event as before.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import config
from infra.constructs.console_hosting import content_security_policy

CONSOLE_DIR = config.REPO_ROOT / "console"
PREFIX = "/console"
# The headers CloudFront's response headers policy adds in AWS (infra/constructs/console_hosting.py).
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# The unauthenticated calls of an SRP sign-in with TOTP (enrolment included), as the browser makes
# them to cognito-idp.<region>.amazonaws.com in AWS.
SIGN_IN_TARGETS = {
    "AWSCognitoIdentityProviderService.InitiateAuth",
    "AWSCognitoIdentityProviderService.RespondToAuthChallenge",
    "AWSCognitoIdentityProviderService.AssociateSoftwareToken",
    "AWSCognitoIdentityProviderService.VerifySoftwareToken",
}
Answer = tuple[int, dict[str, Any], bytes]


@dataclass
class Console:
    cognito_url: str  # moto's endpoint
    client_id: str
    region: str
    user_pool_id: str = ""
    upload_origin: str = ""  # where presigned uploads go (moto's S3 endpoint)
    root: Path = CONSOLE_DIR

    @property
    def headers(self) -> dict[str, str]:
        connect = [self.upload_origin] if self.upload_origin else []
        return {"Content-Security-Policy": content_security_policy(connect), **SECURITY_HEADERS}

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        if path == "/cognito" and method == "POST":
            return self._cognito(headers, body)
        if path == PREFIX:
            return 302, {"Location": f"{PREFIX}/"}, b""
        if not path.startswith(f"{PREFIX}/") or method not in ("GET", "HEAD"):
            return None
        if path == f"{PREFIX}/config.json":
            doc = {
                "api_base": "",
                "cognito_endpoint": "/cognito",
                "client_id": self.client_id,
                "user_pool_id": self.user_pool_id,
                "region": self.region,
                "totp_issuer": "medbill (local)",
            }
            return 200, {**self.headers, "Content-Type": "application/json"}, json.dumps(doc).encode()
        name = path[len(PREFIX) + 1 :] or "index.html"
        file = (self.root / name).resolve()
        root = self.root.resolve()
        if root not in file.parents or not file.is_file() or "node_modules" in file.parts:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return 200, {**self.headers, "Content-Type": kind}, file.read_bytes()

    def _cognito(self, headers: dict[str, str], body: bytes) -> Answer:
        target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
        if target not in SIGN_IN_TARGETS:
            return 400, {"Content-Type": "application/json"}, b'{"message":"not a sign-in call"}'
        req = urllib.request.Request(  # noqa: S310 - moto on 127.0.0.1
            self.cognito_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
                return resp.status, {"Content-Type": "application/json"}, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, {"Content-Type": "application/json"}, err.read()
