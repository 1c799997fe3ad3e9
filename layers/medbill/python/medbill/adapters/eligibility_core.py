"""`medbill.ports.EligibilityGateway` in real time: an X12 270 to the clearinghouse's CAQH CORE
Phase II endpoint (HTTP MIME multipart, medbill.adapters.core_mime), the 271 read back.

The endpoint and credentials live in one Secrets Manager secret (JSON, `CoreSecret`), read once per
cold start. The CORE rule allows the payer 20 seconds; we stop well inside it: each attempt has its
own timeout and all attempts share one deadline (`deadline_seconds`, 18 s). Transport errors,
HTTP 5xx, a CORE error envelope and AAA 42 (unable to respond now) are retried, at most
`max_attempts` times; what is still unanswered becomes a result with reason `unavailable`, which
the stage turns into a hold that the schedule asks again: a failed or slow check never loses or
blocks the claim. Logs and errors carry the PayloadID, attempt counts, HTTP status and AAA codes,
never names, birth dates or member ids.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medbill.adapters import core_mime
from medbill.models.eligibility import UNAVAILABLE, EligibilityInquiry, EligibilityResult
from medbill.workflow.eligibility import RETRY_AFTER_SECONDS, UNAVAILABLE_CODES, request_for, result_from_271
from medbill.x12.eligibility import answers_by_trace, write_270
from medbill.x12.eligibility.reader271 import parse_271
from medbill.x12.interchange import ControlNumbers
from medbill.x12.segments import X12DataError
from medbill.x12.tokenizer import X12SyntaxError

LOG = logging.getLogger("medbill.eligibility_core")
CORE_DEADLINE_SECONDS = 20.0  # CAQH CORE: a real-time 271 within 20 seconds


class CoreSecret(BaseModel):
    """The secret's JSON: where and who we are at the clearinghouse's CORE endpoint."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str = Field(pattern=r"^https?://")
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)
    sender_id: str = Field(min_length=2, max_length=15)  # CORE SenderID, and ISA06
    receiver_id: str = Field(min_length=2, max_length=15)  # CORE ReceiverID, and ISA08
    trace_originator: str = Field(default="9MEDBILL01", min_length=10, max_length=10)  # TRN03
    usage: str = Field(default="P", pattern="^[PT]$")  # ISA15
    attempt_timeout_seconds: float = Field(default=8.0, gt=0, le=19)
    deadline_seconds: float = Field(default=18.0, gt=0, lt=CORE_DEADLINE_SECONDS)
    max_attempts: int = Field(default=3, ge=1, le=5)

    @classmethod
    def parse(cls, text: str) -> CoreSecret:
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or e["msg"] for e in err.errors(include_input=False))
            raise ValueError(f"eligibility CORE secret not usable: {fields}") from None


def load_core_secret(secret_id: str, client: object | None = None) -> CoreSecret:
    sm = client or boto3.client("secretsmanager")
    return CoreSecret.parse(sm.get_secret_value(SecretId=secret_id)["SecretString"])  # type: ignore[attr-defined]


@dataclass
class _Attempt:
    """Why one attempt did not give an answer we can use (codes only)."""

    what: str  # "transport", "http 503", "core ServerError", "aaa 42", "271 unreadable"
    aaa: tuple[str, ...] = ()


class CoreEligibilityGateway:
    """See the module docstring. `secret` may be a loader (called on first use, so a cold start
    without the secret still answers: every check is `unavailable` until it can be read)."""

    def __init__(
        self,
        secret: CoreSecret | Callable[[], CoreSecret],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff_seconds: tuple[float, ...] = (0.25, 1.0, 2.0),
    ) -> None:
        self._secret = secret
        self._sleep = sleep
        self._clock = clock
        self._backoff = backoff_seconds
        self.attempts = 0  # total HTTP attempts (tests and metrics)

    def secret(self) -> CoreSecret:
        if not isinstance(self._secret, CoreSecret):
            self._secret = self._secret()
        return self._secret

    # --- the port ------------------------------------------------------------------------------
    def check(self, payer_id: str, member_id: str, date_of_service: date) -> EligibilityResult:
        """Today's narrow question (payer, member id, date): a 270 without names (many payers then
        answer AAA 73); the workflow uses `verify`."""
        return self.verify(
            EligibilityInquiry(payer_id, payer_id, member_id, date_of_service, "CHK" + secrets.token_hex(6))
        )

    def verify(self, inquiry: EligibilityInquiry) -> EligibilityResult:
        try:
            secret = self.secret()
        except Exception as err:
            LOG.error("eligibility CORE secret unavailable: %s", type(err).__name__)
            return _unavailable(())
        try:
            x12 = self._write_270(inquiry, secret)
        except X12DataError as err:
            LOG.warning("270 not written: %s", err)  # X12DataError messages name elements, never values
            return EligibilityResult(False, "rejected", rejection_codes=("270",))
        return self._exchange(inquiry, x12, secret)

    # --- plumbing ------------------------------------------------------------------------------
    def _exchange(self, inquiry: EligibilityInquiry, x12: str, secret: CoreSecret) -> EligibilityResult:
        started = self._clock()
        failures: list[_Attempt] = []
        for attempt in range(secret.max_attempts):
            remaining = secret.deadline_seconds - (self._clock() - started)
            if remaining <= 0.5:
                break
            outcome = self._attempt(inquiry, x12, secret, min(secret.attempt_timeout_seconds, remaining))
            if isinstance(outcome, EligibilityResult):
                return outcome
            failures.append(outcome)
            wait = self._backoff[min(attempt, len(self._backoff) - 1)]
            if attempt + 1 < secret.max_attempts and self._clock() - started + wait < secret.deadline_seconds - 0.5:
                self._sleep(wait)
        LOG.warning(
            "eligibility check unanswered",
            extra={"attempts": len(failures), "failures": [f.what for f in failures], "trace": inquiry.trace_number},
        )
        codes = tuple(dict.fromkeys(c for f in failures for c in f.aaa))
        return _unavailable(codes)

    def _attempt(
        self, inquiry: EligibilityInquiry, x12: str, secret: CoreSecret, timeout: float
    ) -> EligibilityResult | _Attempt:
        self.attempts += 1
        payload_id = str(uuid.uuid4())
        fields = {
            "ProcessingMode": core_mime.REAL_TIME,
            "PayloadType": core_mime.PAYLOAD_270,
            "PayloadID": payload_id,
            "TimeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "UserName": secret.username,
            "Password": secret.password,
            "SenderID": secret.sender_id,
            "ReceiverID": secret.receiver_id,
            "CORERuleVersion": core_mime.CORE_RULE_VERSION,
            "Payload": x12,
        }
        body, content_type = core_mime.encode(fields)
        headers = {"Content-Type": content_type}
        request = urllib.request.Request(secret.url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - CoreSecret.url is http(s) only
                answer = core_mime.decode(response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as err:
            LOG.warning("CORE endpoint answered HTTP %s (payload %s)", err.code, payload_id)
            return _Attempt(f"http {err.code}")
        except (OSError, core_mime.CoreEnvelopeError) as err:  # URLError, timeouts, resets, a bad envelope
            LOG.warning("CORE exchange failed: %s (payload %s)", type(err).__name__, payload_id)
            return _Attempt("transport")
        if answer.get("ErrorCode") != core_mime.SUCCESS or answer.get("PayloadType") != core_mime.PAYLOAD_271:
            LOG.warning("CORE error envelope %s (payload %s)", answer.get("ErrorCode", "?")[:40], payload_id)
            return _Attempt(f"core {answer.get('ErrorCode', '?')[:40]}")
        return self._read_271(inquiry, answer.get("Payload", ""), payload_id)

    def _read_271(self, inquiry: EligibilityInquiry, text: str, payload_id: str) -> EligibilityResult | _Attempt:
        try:
            responses, problems = parse_271(text)
        except (X12SyntaxError, ValueError) as err:
            LOG.warning("271 unreadable: %s (payload %s)", type(err).__name__, payload_id)
            return _Attempt("271 unreadable")
        answers = answers_by_trace(s for r in responses for s in r.subscribers)
        found = answers.get(inquiry.trace_number)
        if found is None:
            LOG.warning("271 without our trace (payload %s, %d problems)", payload_id, len(problems))
            return _Attempt("271 unmatched")
        answer, member = found
        result = result_from_271(answer, member, inquiry, checked_at=datetime.now(UTC))
        if set(result.rejection_codes) & UNAVAILABLE_CODES:
            return _Attempt("aaa 42", result.rejection_codes)
        return result

    def _write_270(self, inquiry: EligibilityInquiry, secret: CoreSecret) -> str:
        number = int(time.time() * 1000) % 999_999_999 + 1
        return write_270(
            [request_for(inquiry)],
            sender_id=secret.sender_id,
            receiver_id=secret.receiver_id,
            control_numbers=ControlNumbers(interchange=number, group=number),
            created=datetime.now(UTC).replace(tzinfo=None),
            trace_originator=secret.trace_originator,
            usage=secret.usage,
        )


def _unavailable(codes: tuple[str, ...]) -> EligibilityResult:
    return EligibilityResult(False, UNAVAILABLE, rejection_codes=codes, retry_after_seconds=RETRY_AFTER_SECONDS)


def secret_json(secret: CoreSecret) -> str:
    return json.dumps(secret.model_dump())
