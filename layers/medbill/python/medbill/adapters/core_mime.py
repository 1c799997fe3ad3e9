"""The CAQH CORE Phase II connectivity envelope (Connectivity Rule vC2.2.0), HTTP MIME multipart.

A real-time request is an HTTP POST of `multipart/form-data` whose parts are the rule's metadata
fields (ProcessingMode, PayloadType, PayloadID, TimeStamp, UserName, Password, SenderID,
ReceiverID, CORERuleVersion) and the Payload (the X12 270). The response carries the same fields
plus ErrorCode and ErrorMessage, with PayloadType X12_271_Response_005010X279A1 and the 271 as
Payload. Used by the gateway (medbill.adapters.eligibility_core) and the local payer simulator's
endpoint (infra/local/core_endpoint.py), so both speak exactly this.
"""

from __future__ import annotations

import secrets
from email.parser import BytesParser
from email.policy import HTTP

CORE_RULE_VERSION = "2.2.0"
REAL_TIME = "RealTime"
PAYLOAD_270 = "X12_270_Request_005010X279A1"
PAYLOAD_271 = "X12_271_Response_005010X279A1"
SUCCESS = "Success"
REQUEST_FIELDS = (
    "ProcessingMode",
    "PayloadType",
    "PayloadID",
    "TimeStamp",
    "UserName",
    "Password",
    "SenderID",
    "ReceiverID",
    "CORERuleVersion",
    "Payload",
)
RESPONSE_FIELDS = (
    "ProcessingMode",
    "PayloadType",
    "PayloadID",
    "TimeStamp",
    "SenderID",
    "ReceiverID",
    "CORERuleVersion",
    "ErrorCode",
    "ErrorMessage",
    "Payload",
)


class CoreEnvelopeError(ValueError):
    """A body that is not a CORE MIME envelope (names the problem, never a field's value)."""


def encode(fields: dict[str, str]) -> tuple[bytes, str]:
    """(body, Content-Type) of a multipart/form-data message with one part per field, in order."""
    boundary = "----medbill-core-" + secrets.token_hex(12)
    out: list[bytes] = []
    for name, value in fields.items():
        out.append(f"--{boundary}\r\n".encode())
        out.append(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.append(value.encode("utf-8"))
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def decode(body: bytes, content_type: str) -> dict[str, str]:
    """The fields of a multipart/form-data message, by part name."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise CoreEnvelopeError("not multipart/form-data with a boundary")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise CoreEnvelopeError("the multipart body has no parts")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise CoreEnvelopeError("a part has no name")
        payload = part.get_payload(decode=True)
        fields[name] = payload.decode("utf-8") if isinstance(payload, bytes) else ""
    return fields


def missing(fields: dict[str, str], required: tuple[str, ...]) -> list[str]:
    return [name for name in required if not fields.get(name)]
