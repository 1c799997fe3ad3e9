"""read_hl7_file: an HL7 v2 file of DFT^P03 / DFT^P11 messages -> encounters, rejections and one ACK each.

A record is a message: record number = its position in the file (1-based). Every message ends as an
encounter or as rejections naming HL7 segment and field (never a value), and gets an ACK: AA accepted,
AE a field is missing or wrong, AR the message is not one we take (type, version, processing id,
another clinic's, unreadable header). Pure domain code: no AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from medbill.intake.hl7v2 import ack
from medbill.intake.hl7v2.dft import map_dft
from medbill.intake.hl7v2.segments import Message, NotHl7, RawMessage, header_summary, split_messages
from medbill.intake.json_reader import FileError
from medbill.intake.mapped import validate_mapped
from medbill.intake.result import AcceptedRecord, IntakeResult, Rejection
from medbill.models.claim import claim_id_for
from medbill.models.clinic_profile import ClinicProfile
from medbill.models.common import utcnow

TRIGGERS = frozenset({"P03", "P11"})
VERSIONS = frozenset({"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"})


@dataclass
class MessageOutcome:
    """One message's line in the report, and its acknowledgement."""

    message_number: int
    control_id: str  # MSH-10 (an id, not PHI)
    message_type: str  # MSH-9, e.g. "DFT^P03"
    ack_code: str  # AA, AE or AR
    ack: str  # the ACK message, HL7 v2 text with CR segment endings
    encounter_id: str | None = None
    claim_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_number": self.message_number,
            "control_id": self.control_id,
            "message_type": self.message_type,
            "encounter_id": self.encounter_id,
            "claim_id": self.claim_id,
            "ack_code": self.ack_code,
            "ack": self.ack,
        }


@dataclass
class Hl7IntakeResult(IntakeResult):
    messages: list[MessageOutcome] = field(default_factory=list)


def decode_hl7(body: bytes) -> str:
    """UTF-8 (a byte order mark is dropped); Latin-1 when the first MSH-18 says 8859/1."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        head = body[:2000].decode("latin-1")
        msh = next((line for line in head.replace("\n", "\r").split("\r") if line.startswith("MSH")), "")
        charset = msh.split(msh[3])[17:18] if len(msh) > 3 else []
        if charset and charset[0].strip().upper() in ("8859/1", "ISO-8859-1", "ISO IR100"):
            text = body.decode("latin-1")
        else:
            where = exc.start
            reason = f"the file is not UTF-8 text (invalid byte at offset {where}; MSH-18 may say 8859/1)"
            raise FileError(reason) from None
    if not text.strip():
        raise FileError("the file is empty")
    if "\x00" in text:
        raise FileError("the file is binary, not text")
    return text


def _refusal(header: dict[str, str]) -> ack.AckError | None:
    """Why a message is not one we take (AR), from its MSH."""
    comp = header["component"]
    kind = header["message_type"].split(comp)
    if kind[0] != "DFT":
        return ack.AckError("MSH-9", ack.UNSUPPORTED_MESSAGE_TYPE, "MSH-9: only DFT^P03 and DFT^P11 carry charges")
    if len(kind) < 2 or kind[1] not in TRIGGERS:
        return ack.AckError("MSH-9.2", ack.UNSUPPORTED_EVENT_CODE, "MSH-9.2: only DFT^P03 and DFT^P11 carry charges")
    if header["version"] not in VERSIONS:
        return ack.AckError("MSH-12", ack.UNSUPPORTED_VERSION_ID, "MSH-12: the version must be 2.3 to 2.8")
    if header["processing_id"] != "P":
        return ack.AckError("MSH-11", ack.UNSUPPORTED_PROCESSING_ID, "MSH-11: only production (P) messages are billed")
    return None


def _error_code(reason: str, location: str) -> str:
    if "is required" in reason:
        return ack.REQUIRED_FIELD_MISSING
    if "already appears" in reason:
        return ack.DUPLICATE_KEY
    if location.startswith(("DG1", "FT1", "PR1")) and "code" in reason:
        return ack.TABLE_VALUE_NOT_FOUND
    return ack.DATA_TYPE_ERROR


class _Reader:
    def __init__(self, source_key: str, profile: ClinicProfile, now: datetime) -> None:
        self.source_key, self.profile, self.now = source_key, profile, now
        self.result = Hl7IntakeResult(format="hl7")
        self.first_seen: dict[str, int] = {}

    def finish(self, raw: RawMessage, header: dict[str, str], code: str, errors: list[ack.AckError], **kw: Any) -> None:
        control_id = ack.ack_control_id(self.source_key, raw.number, header["control_id"])
        text = "accepted" if code == "AA" else (errors[0].text if errors else "rejected")
        self.result.messages.append(
            MessageOutcome(
                message_number=raw.number,
                control_id=header["control_id"][:50],
                message_type=header["message_type"][:20],
                ack_code=code,
                ack=ack.build_ack(
                    header,
                    code,
                    errors,
                    control_id=control_id,
                    facility=self.profile.clinic_id,
                    now=self.now,
                    text=text,
                ),
                **kw,
            )
        )

    def refuse(self, raw: RawMessage, header: dict[str, str], error: ack.AckError) -> None:
        self.result.rejections.append(Rejection(raw.number, error.location, error.text))
        self.finish(raw, header, "AR", [error])

    def read(self, raw: RawMessage) -> None:
        self.result.records += 1
        header = header_summary(raw)
        refusal = _refusal(header)
        if refusal is not None:
            return self.refuse(raw, header, refusal)
        try:
            msg = Message(raw)
        except ValueError as exc:  # our own MSH checks: the text names fields, never values
            return self.refuse(raw, header, ack.AckError("MSH-2", ack.DATA_TYPE_ERROR, str(exc)))
        except Exception as exc:  # the parser's message may quote the content: the type name only
            reason = f"MSH: the message cannot be parsed ({type(exc).__name__})"
            return self.refuse(raw, header, ack.AckError("MSH", ack.DATA_TYPE_ERROR, reason))
        facility = [msg.msh.get(4, 1), msg.msh.get(4, 2)]
        if any(facility) and not self.profile.names_this_clinic(facility):
            reason = f"MSH-4: the sending facility is not clinic {self.profile.clinic_id} (not in its profile)"
            return self.refuse(raw, header, ack.AckError("MSH-4", ack.TABLE_VALUE_NOT_FOUND, reason))
        mapped, encounter_id = map_dft(msg, self.profile)
        first = self.first_seen.get(encounter_id) if encounter_id else None
        if encounter_id and first is not None:
            reason = f"this encounter already appears at message {first} of this file"
            mapped.problem("encounter_id", mapped.where.get("encounter_id", ""), reason)
        elif encounter_id:
            self.first_seen[encounter_id] = raw.number
        encounter, rejections = validate_mapped(mapped, raw.number, encounter_id, (header["control_id"],))
        if encounter is None:
            self.result.rejections.extend(rejections)
            errors = [ack.AckError(r.field, _error_code(r.reason, r.field), r.reason) for r in rejections]
            return self.finish(raw, header, "AE", errors, encounter_id=encounter_id)
        self.result.encounters.append(AcceptedRecord(raw.number, encounter))
        claim_id = claim_id_for(encounter.clinic_id, encounter.encounter_id)
        self.finish(raw, header, "AA", [], encounter_id=encounter.encounter_id, claim_id=claim_id)


def read_hl7_file(
    source_key: str, body: bytes, profile: ClinicProfile, *, now: datetime | None = None
) -> Hl7IntakeResult:
    """Read one HL7 v2 file for the clinic of `profile`. Never raises: a file that is not HL7 is a file error."""
    reader = _Reader(source_key, profile, now or utcnow())
    try:
        messages = split_messages(decode_hl7(body))
    except (FileError, NotHl7) as exc:
        return Hl7IntakeResult(file_error=str(exc), format="hl7")
    for raw in messages:
        try:
            reader.read(raw)
        except Exception as exc:  # one message must not lose the others: it ends rejected (type name only)
            header = header_summary(raw)
            reason = f"MSH: the message could not be read ({type(exc).__name__})"
            reader.refuse(raw, header, ack.AckError("MSH", ack.DATA_TYPE_ERROR, reason))
    return reader.result
