"""An ERA claim payment as a posting message: ids, the message itself (codes and amounts only)
and, when it cannot become one, problems that locate the field in the 835 without quoting it."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from medbill.billing.era_limits import bounded_id
from medbill.models.remittance import ClaimRemittance
from medbill.x12.remittance835 import ClaimPayment, Payment

ZERO = Decimal("0.00")


def era_id_for(payment: Payment) -> str:
    """Payer + TRN02 names one payment: a payer never reuses a check or EFT trace number."""
    payer = payment.payer_identifier or payment.payer.reference("2U") or payment.payer.id or "UNKNOWN"
    return bounded_id(f"{payer}-{payment.trace_number or payment.control_number}")  # a key: never too long


def era_ids_for(payments: list[Payment]) -> tuple[list[str], list[str]]:
    """One ERA id per payment of a file, and a problem for each repeat. A payer + trace number
    repeated inside one file (a de-identified sample, a payer bug) would merge several payments into
    one ERA record and its reconciliation: each repeat is kept apart under its ST02 instead."""
    ids: list[str] = []
    problems: list[str] = []
    for n, payment in enumerate(payments, start=1):
        base = era_id_for(payment)
        era_id = base
        if era_id in ids:
            era_id = bounded_id(f"{base}-{payment.control_number or n}")
            while era_id in ids:
                era_id = bounded_id(f"{era_id}-{n}")
            problems.append(
                f"payment {base} (payer and trace number) appears again in this file at transaction "
                f"{payment.control_number or n}; recorded as {era_id}"
            )
        ids.append(era_id)
    return ids, problems


def file_id_for(body: bytes) -> str:
    return "F" + hashlib.sha256(body).hexdigest()[:16].upper()


def file_id_for_head(head: bytes, size: int) -> str:
    """The id of a file too big to read (over `MAX_ERA_BYTES`): its first chunk and its size, so a
    redelivery finds the same record without reading gigabytes. Never equal to a read file's id
    (the size is hashed in), and such a file is never checked, so the two kinds cannot meet."""
    return "F" + hashlib.sha256(head + b"#size=" + str(size).encode()).hexdigest()[:16].upper()


def _adjustments(items: list[Any]) -> list[dict[str, Any]]:
    return [{"group": a.group, "reason": a.reason, "amount": a.amount, "quantity": a.quantity} for a in items]


def to_remittance(
    claim: ClaimPayment,
    payment: Payment,
    *,
    era_id: str,
    file_id: str,
    key: str,
    occurrence: int = 1,
) -> ClaimRemittance:
    """The posting message: codes and amounts only (the 835's names stay behind). Its payment key is
    `era_id` here; the fan-out sets both once the payment's ERA record is placed.

    Validated as one document, so a ValidationError locates the failing field within the claim
    (lines.1.adjustments.0.group); see `posting_problems` for what may be shown of it."""
    return ClaimRemittance.model_validate(
        {
            "era_id": era_id,
            "payment_key": era_id,
            "occurrence": occurrence,
            "file_id": file_id,
            "source_key": key,
            "payer_id": payment.payer_identifier,
            "trace_number": payment.trace_number,
            "position": claim.position,
            "claim_id": claim.claim_id,
            "status_code": claim.status_code,
            "charge": claim.charge,
            "paid": claim.paid,
            "patient_responsibility": claim.patient_responsibility or ZERO,
            "filing_indicator": claim.filing_indicator,
            "payer_claim_number": claim.payer_claim_control_number,
            "frequency_code": claim.frequency_code,
            "adjustments": _adjustments(claim.adjustments),
            "remarks": claim.remark_codes,
            "service_date": claim.dates.get("232"),
            "payment_date": payment.payment_date,
            "lines": [
                {
                    "position": line.position,
                    "procedure_qualifier": line.procedure_qualifier,
                    "procedure_code": line.procedure_code,
                    "modifiers": line.modifiers,
                    "charge": line.charge,
                    "paid": line.paid,
                    "units": line.units,
                    "original_procedure_code": line.original_procedure[1] if len(line.original_procedure) > 1 else None,
                    "original_modifiers": line.original_procedure[2:6],
                    "service_date": line.service_date,
                    "control_number": line.control_number,
                    "allowed": line.allowed,
                    "adjustments": _adjustments(line.adjustments),
                    "remarks": [code for _, code in line.remarks],
                }
                for line in claim.lines
            ],
        }
    )


# Where a posting-message field comes from in the 835, for problems a biller can find in the file.
_CLAIM_FIELDS = {
    "claim_id": "CLP01 patient control number",
    "status_code": "CLP02 claim status",
    "charge": "CLP03 charge",
    "paid": "CLP04 paid",
    "patient_responsibility": "CLP05 patient responsibility",
    "filing_indicator": "CLP06 filing indicator",
    "payer_claim_number": "CLP07 payer claim number",
    "frequency_code": "CLP09 frequency code",
    "service_date": "DTM*232 statement date",
    "remarks": "MIA/MOA remark code",
}
_LINE_FIELDS = {
    "procedure_qualifier": "SVC01-1 qualifier",
    "procedure_code": "SVC01-2 procedure code",
    "modifiers": "SVC01 modifier",
    "charge": "SVC02 charge",
    "paid": "SVC03 paid",
    "units": "SVC05 units",
    "original_procedure_code": "SVC06-2 original procedure code",
    "original_modifiers": "SVC06 original modifier",
    "service_date": "DTM service date",
    "control_number": "REF*6R line control number",
    "allowed": "AMT*B6 allowed amount",
    "remarks": "LQ remark code",
}
_CAS_FIELDS = {"group": "CAS01 group code", "reason": "reason code", "amount": "amount", "quantity": "quantity"}
# pydantic's own messages for these rules state the rule (allowed values, lengths, digits), never
# the input. Anything else (a validator's own message) could quote the value: only its type is shown.
_RULE_MESSAGES = frozenset(
    {
        "literal_error",
        "missing",
        "string_type",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "decimal_type",
        "decimal_parsing",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
        "finite_number",
        "int_type",
        "int_parsing",
        "list_type",
    }
)


def _cas_field(parts: list[Any], where: str) -> str:
    n = parts[1] + 1 if len(parts) > 1 and isinstance(parts[1], int) else 0
    name = _CAS_FIELDS.get(str(parts[2]), str(parts[2])) if len(parts) > 2 else "adjustment"
    return f"{where} CAS adjustment {n}: {name}"


def _field_of(loc: tuple[int | str, ...], claim: ClaimPayment) -> str:
    parts = list(loc)
    if parts[:1] == ["lines"] and len(parts) > 1 and isinstance(parts[1], int):
        index = parts[1]
        segment = claim.lines[index].position if index < len(claim.lines) else 0
        where = f"SVC at segment {segment}" if segment else f"service line {index + 1}"
        rest = parts[2:]
        if rest[:1] == ["adjustments"]:
            return _cas_field(rest, where)
        return f"{where}: {_LINE_FIELDS.get(str(rest[0]), str(rest[0]))}" if rest else where
    if parts[:1] == ["adjustments"]:
        return _cas_field(parts, "claim-level")
    return _CLAIM_FIELDS.get(str(parts[0]), ".".join(map(str, parts))) if parts else "claim payment"


def describe(err: ValidationError, claim: ClaimPayment) -> list[str]:
    """One problem per failed rule: the claim's segment position, the field and the rule, never the
    value (pydantic's own str(err) quotes the input, which may be PHI)."""
    out = []
    for e in err.errors(include_url=False, include_context=False, include_input=False):
        rule = e["msg"] if e["type"] in _RULE_MESSAGES else f"fails the {e['type']} check"
        out.append(
            f"claim payment (CLP) at segment {claim.position} cannot be posted: {_field_of(e['loc'], claim)}: {rule}"
        )
    return out


def posting_problems(claim: ClaimPayment, payment: Payment) -> list[str]:
    """Why this claim payment cannot become a posting message (empty when it can)."""
    if claim.unreadable_amounts:
        # The reader leaves an amount it cannot read out of the claim: posting it would post 0.00.
        return [
            f"claim payment (CLP) at segment {claim.position} cannot be posted: "
            f"{claim.unreadable_amounts} amount(s) in it are not X12 numbers"
        ]
    try:
        to_remittance(claim, payment, era_id="CHECK", file_id="CHECK", key="CHECK")
    except ValidationError as err:
        return describe(err, claim)
    return []
