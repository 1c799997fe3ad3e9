"""HL7 v2 original-mode acknowledgements: one ACK per message, AA / AE / AR with MSA and ERR.

ERR names the segment, its occurrence, the field and component (never a value) in the form of the
message's version: ERR-1 (ELD) up to v2.4, ERR-2 (ERL) + ERR-3 + ERR-4 + ERR-8 from v2.5 on.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

SENDING_APPLICATION = "MEDBILL"
# HL7 table 0357 (message error condition codes).
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION_ID = "203"
DUPLICATE_KEY = "205"
ERROR_TEXT = {
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "202": "Unsupported processing id",
    "203": "Unsupported version id",
    "205": "Duplicate key identifier",
}
_LOCATION = re.compile(r"^([A-Z][A-Z0-9]{2})(?:\((\d+)\))?(?:-(\d+)(?:\.(\d+))?)?")


@dataclass(frozen=True)
class AckError:
    location: str  # "FT1(2)-25", "PID-7", "MSH-9"
    code: str  # table 0357
    text: str  # no values: field names and rules only


def escape(value: str) -> str:
    """Text as one HL7 component with the standard delimiters |^~\\&."""
    value = value.replace("\r", " ").replace("\n", " ")
    out = value.replace("\\", "\\E\\")
    for char, seq in (("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\")):
        out = out.replace(char, seq)
    return out


def ack_control_id(source_key: str, number: int, control_id: str) -> str:
    """Deterministic (a redelivered file gets the same ACKs), at most 20 characters (MSH-10 in v2.3)."""
    digest = hashlib.sha256(f"{source_key}\x1f{number}\x1f{control_id}".encode()).digest()
    return "A" + base64.b32encode(digest).decode()[:19]


def _modern(version: str) -> bool:
    parts = version.split(".")
    return len(parts) >= 2 and parts[0] == "2" and parts[1].isdigit() and int(parts[1]) >= 5


def _err(error: AckError, version: str) -> str:
    m = _LOCATION.match(error.location)
    seg, seq, fld, comp = (m.groups() if m else ("", None, None, None)) if error.location else ("", None, None, None)
    seq = seq or ("1" if seg else "")
    code = f"{error.code}^{escape(ERROR_TEXT.get(error.code, ''))}^HL70357"
    if not _modern(version):
        # ERR-1 ELD: segment ^ sequence ^ field ^ code (CE, subcomponents).
        return f"ERR|{seg}^{seq}^{fld or ''}^{code.replace('^', '&')}"
    erl = "^".join([seg, seq, fld or "", "1" if fld else "", comp or ""]).rstrip("^")
    return f"ERR||{erl}|{code}|E||||{escape(error.text)}"


def build_ack(
    header: dict[str, str],
    ack_code: str,
    errors: list[AckError],
    *,
    control_id: str,
    facility: str,
    now: datetime,
    text: str = "",
) -> str:
    """The ACK text (segments end with CR). `header` is the original's MSH summary (segments.header_summary)."""
    comp = header.get("component") or "^"
    version = header.get("version") or "2.5"
    trigger = header.get("message_type", "").split(comp)[1:2]
    msh = [
        "MSH",
        "^~\\&",
        SENDING_APPLICATION,
        escape(facility),
        escape(header.get("sending_application", "").split(comp)[0]),
        escape(header.get("sending_facility", "").split(comp)[0]),
        now.strftime("%Y%m%d%H%M%S"),
        "",
        "ACK^" + escape(trigger[0] if trigger else "") + "^ACK",
        control_id,
        "P",
        escape(version),
    ]
    segments = ["|".join(msh[:1]) + "|" + "|".join(msh[1:])]
    msa_text = "" if _modern(version) else escape(text[:80])  # MSA-3 is withdrawn from v2.7: ERR-8 says it
    segments.append(f"MSA|{ack_code}|{escape(header.get('control_id', ''))}|{msa_text}".rstrip("|"))
    segments += [_err(e, version) for e in errors]
    return "\r".join(segments) + "\r"
