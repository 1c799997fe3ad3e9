"""The clearinghouse's CAQH CORE Phase II real-time endpoint, served by the payer simulator on
127.0.0.1: HTTP MIME multipart (medbill.adapters.core_mime) in, the 271 from the simulator's
member data (infra/local/payer_eligibility.py) out.

    with CoreEndpoint() as endpoint:  # a real HTTP server (stdlib) in a thread, port chosen by the OS
        endpoint.secret()  # the secret's JSON the gateway reads (adapters.eligibility_core.CoreSecret)

It checks the envelope the way the rule asks (ProcessingMode RealTime, PayloadType
X12_270_Request_005010X279A1, PayloadID, TimeStamp, UserName / Password, SenderID, ReceiverID,
CORERuleVersion, Payload) and answers with ErrorCode Success and PayloadType
X12_271_Response_005010X279A1, or a CORE error envelope (HTTP 400 / 401). `faults` lets a test make
the next answers fail: "http500", "slow" (longer than the client waits) or "aaa42" (a 271 saying
unable to respond now). Logs carry the PayloadID and codes, never the payload.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from infra.local.payer_eligibility import EligibilityResponder
from medbill.adapters import core_mime

LOG = logging.getLogger("medbill.local.core_endpoint")
SECRET_NAME = "medbill/eligibility/core"  # noqa: S105 - a name, not a secret; Secrets Manager (adapters.eligibility_core.CoreSecret)
PATH = "/core/realtime"


class CoreEndpoint:
    """See the module docstring."""

    def __init__(self, members_path: Path | None = None, *, slow_seconds: float = 3.0) -> None:
        self.responder = EligibilityResponder(members_path)
        self.username = "medbill"
        self.password = secrets.token_urlsafe(18)
        self.faults: list[str] = []
        self.slow_seconds = slow_seconds
        self.requests = 0
        self.payload_ids: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> CoreEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                endpoint._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="core-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> CoreEndpoint:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the endpoint first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def secret(self, **overrides: Any) -> dict[str, Any]:
        return {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "sender_id": "MEDBILL",
            "receiver_id": "CLEARINGHOUSE",
            "usage": "T",
            **overrides,
        }

    # --- one request ---------------------------------------------------------------------------------
    def _fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            return self.faults.pop(0) if self.faults else None

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        fault = self._fault()
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        if fault == "http500":
            return self._send(http, 500, {"ErrorCode": "ServerError", "ErrorMessage": "simulated outage"})
        if fault == "slow":
            time.sleep(self.slow_seconds)
        try:
            fields = core_mime.decode(body, http.headers.get("Content-Type", ""))
        except core_mime.CoreEnvelopeError as err:
            return self._send(http, 400, {"ErrorCode": "EnvelopeError", "ErrorMessage": str(err)})
        self.payload_ids.append(fields.get("PayloadID", ""))
        absent = core_mime.missing(fields, core_mime.REQUEST_FIELDS)
        if absent:
            return self._send(http, 400, {"ErrorCode": "MissingFields", "ErrorMessage": ", ".join(absent)}, fields)
        if not (
            secrets.compare_digest(fields["UserName"], self.username)
            and secrets.compare_digest(fields["Password"], self.password)
        ):
            return self._send(http, 401, {"ErrorCode": "UnAuthorized", "ErrorMessage": "bad credentials"}, fields)
        if fields["ProcessingMode"] != core_mime.REAL_TIME or fields["PayloadType"] != core_mime.PAYLOAD_270:
            return self._send(
                http, 400, {"ErrorCode": "PayloadTypeIncorrect", "ErrorMessage": "RealTime 270 only"}, fields
            )
        try:
            answer = self.responder.respond(fields["Payload"])
        except ValueError as err:
            LOG.warning("270 not answered: %s", type(err).__name__)
            return self._send(
                http, 400, {"ErrorCode": "PayloadError", "ErrorMessage": "the 270 could not be read"}, fields
            )
        if fault == "aaa42":
            answer = _unable_to_respond(answer)
        self._send(http, 200, {"ErrorCode": core_mime.SUCCESS, "ErrorMessage": "", "Payload": answer}, fields)

    def _send(
        self, http: BaseHTTPRequestHandler, status: int, result: dict[str, str], asked: dict[str, str] | None = None
    ) -> None:
        asked = asked or {}
        fields = {
            "ProcessingMode": core_mime.REAL_TIME,
            "PayloadType": core_mime.PAYLOAD_271 if "Payload" in result else "CoreEnvelopeError",
            "PayloadID": asked.get("PayloadID", ""),
            "TimeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SenderID": asked.get("ReceiverID", "CLEARINGHOUSE"),
            "ReceiverID": asked.get("SenderID", ""),
            "CORERuleVersion": core_mime.CORE_RULE_VERSION,
            **result,
        }
        body, content_type = core_mime.encode(fields)
        try:
            http.send_response(status)
            http.send_header("Content-Type", content_type)
            http.send_header("Content-Length", str(len(body)))
            http.end_headers()
            http.wfile.write(body)
        except OSError:  # the client gave up (a timeout): nothing to answer
            LOG.info("client left before the answer (payload %s)", fields["PayloadID"])


def _unable_to_respond(x12_271: str) -> str:
    """The same 271 with an AAA 42 (unable to respond at current time) in each subscriber."""
    out = []
    for segment in x12_271.split("~"):
        out.append(segment)
        if segment.strip().startswith("NM1*IL*"):
            out.append("\nAAA*N**42*R" if segment.startswith("\n") else "AAA*N**42*R")
    text = "~".join(out)
    # SE01 counts the segments: one more per subscriber.
    added = len(out) - len(x12_271.split("~"))
    lines = text.split("~")
    for i, seg in enumerate(lines):
        if seg.strip().startswith("SE*"):
            parts = seg.split("*")
            parts[1] = str(int(parts[1]) + added)
            lines[i] = "*".join(parts)
    return "~".join(lines)


def put_secret(secretsmanager: Any, secret: dict[str, Any], name: str = SECRET_NAME) -> str:
    """Create or update the gateway's secret in (moto's) Secrets Manager; its ARN."""
    text = json.dumps(secret)
    try:
        return str(secretsmanager.create_secret(Name=name, SecretString=text)["ARN"])
    except secretsmanager.exceptions.ResourceExistsException:
        return str(secretsmanager.put_secret_value(SecretId=name, SecretString=text)["ARN"])


def start_for_runtime(secretsmanager: Any, members_path: Path | None = None) -> CoreEndpoint:
    """Start an endpoint and put its secret under SECRET_NAME (what ELIGIBILITY_SECRET_ID names)."""
    endpoint = CoreEndpoint(members_path).start()
    try:
        put_secret(secretsmanager, endpoint.secret())
    except BaseException:
        endpoint.stop()
        raise
    return endpoint
