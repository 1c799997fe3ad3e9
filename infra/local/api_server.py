"""The staff API over HTTP on 127.0.0.1: each request becomes an API Gateway REST proxy event.

The event is the REST API (payload format 1.0) shape a `{proxy+}` resource receives:
httpMethod, path, resource, pathParameters, query string parameters (single and multi value),
headers (single and multi value), body, isBase64Encoded and a requestContext with stage,
requestId and identity. The `api` handler's `{statusCode, headers, multiValueHeaders, body,
isBase64Encoded}` answer is written back. Handler failures are a 502, as API Gateway answers a
Lambda error.

With a `verifier` (infra/local/identity.TokenVerifier: moto's Cognito JWKS, issuer, audience,
expiry) the server does what the Cognito authorizer does in AWS: a request without a valid bearer
token is answered 401 before the Lambda runs, and a valid one's claims go to the Lambda in
requestContext.authorizer.claims.

With a `console` (infra/local/console.py) the same server hands out the staff console's static
files under /console/ (what CloudFront serves from S3 in AWS, with the same security headers), its
config.json, and /cognito, a pass-through to moto's Cognito for the console's sign-in call (the
browser cannot call moto across origins; in AWS it calls Cognito directly).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.lambda_bridge import LambdaBridge

LOG = logging.getLogger("medbill.local.api_server")

STAGE = "local"
API_ID = "medbilllocal"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


def proxy_event(
    method: str,
    raw_path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    stage: str = STAGE,
    authorizer_claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0) for one HTTP request."""
    parts = urlsplit(raw_path)
    path = parts.path or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for key, value in headers:
        multi_headers.setdefault(key, []).append(value)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    is_text = not body or content_type.startswith(_TEXT_TYPES) or not content_type
    if is_text:
        try:
            body_text: str | None = body.decode("utf-8") if body else None
            is_b64 = False
        except UnicodeDecodeError:
            body_text, is_b64 = base64.b64encode(body).decode("ascii"), True
    else:
        body_text, is_b64 = base64.b64encode(body).decode("ascii"), True
    request_id = str(uuid.uuid4())
    now = time.time()
    user_agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        # API Gateway keeps the last value of a repeated header or query parameter here.
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path.lstrip("/") else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": "localhost",
            "apiId": API_ID,
            **(
                {"authorizer": {"claims": authorizer_claims, "principalId": authorizer_claims.get("sub")}}
                if authorizer_claims is not None
                else {}
            ),
        },
        "body": body_text,
        "isBase64Encoded": is_b64,
    }


class _Handler(BaseHTTPRequestHandler):
    server: ApiServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        console = self.server.console
        if console is not None:
            answer = console.answer(self.command, urlsplit(self.path).path, dict(self.headers.items()), body)
            if answer is not None:
                self._write(*answer)
                return
        claims = None
        if self.server.verifier is not None:
            claims = self.server.verifier(self.headers.get("Authorization"))
            if claims is None:  # API Gateway's Cognito authorizer: no Lambda call
                self._write(401, {"Content-Type": "application/json"}, b'{"message":"Unauthorized"}')
                return
        event = proxy_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            source_ip=self.client_address[0],
            authorizer_claims=claims,
        )
        invocation = self.server.bridge.invoke(self.server.function, event)
        if invocation.function_error:
            self._write(502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}')
            return
        try:
            result = json.loads(invocation.payload)
            status = int(result["statusCode"])
        except (ValueError, KeyError, TypeError):
            LOG.error("api handler returned a malformed proxy response")
            self._write(502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}')
            return
        headers: dict[str, Any] = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = list(values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
        self._write(status, headers, payload)

    def _write(self, status: int, headers: dict[str, Any], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() in ("content-length", "connection"):
                continue
            for item in value if isinstance(value, list) else [value]:
                self.send_header(key, str(item))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: a query string may carry search terms (names are PHI).
        LOG.info("%s %s %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        # Other server messages (errors) go to our logger, not stderr; they hold no request data.
        LOG.warning("api server: " + format, *args)


class ApiServer(ThreadingHTTPServer):
    """`with ApiServer(bridge, port=0) as api: ... api.url ...` serves the api Lambda."""

    daemon_threads = True

    def __init__(
        self,
        bridge: LambdaBridge,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function: str = "api",
        verifier: Callable[[str | None], dict[str, Any] | None] | None = None,
        console: Any = None,
    ):
        super().__init__((host, port), _Handler)
        self.bridge = bridge
        self.verifier = verifier
        self.console = console  # infra.local.console.Console: static files, config, Cognito pass-through
        self.function = function
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self.serve_forever, name="api-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
            self._thread = None
        self.server_close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
