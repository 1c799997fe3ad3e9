"""What an 837P says as a plain JSON-able dict, for `medbill-x12 summary` and `validate`.

Ids and codes only (claim ids, NPIs, payer ids, procedure and diagnosis codes, amounts as
2-decimal strings); no names, dates of birth, member ids or addresses (PHI).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from medbill.x12.claim837.models import Claim837, ServiceLine837
from medbill.x12.claim837.reader import EXACT, money, read_submission
from medbill.x12.tokenizer import X12SyntaxError

__all__ = ["read_837p", "summarize_837p"]


def _line_dict(line: ServiceLine837) -> dict[str, Any]:
    if line.sv1_position:
        return {
            "line_number": line.line_number,
            "procedure_code": line.procedure_code,
            "modifiers": line.modifiers,
            "charge": None if line.charge is None else f"{line.charge:.2f}",
            "units": line.units,
            "diagnosis_pointers": line.diagnosis_pointers,
            "line_control_number": line.control_number,
        }
    if line.control_number is not None:  # an LX without SV1, with a REF*6R
        return {"line_number": line.line_number, "line_control_number": line.control_number}
    return {"line_number": line.line_number}


def _claim_dict(claim: Claim837) -> dict[str, Any]:
    out: dict[str, Any] = {
        "claim_id": claim.claim_id,
        "total_charge": money(claim.total) if claim.total is not None else None,
        "place_of_service": claim.place_of_service,
        "frequency_code": claim.frequency_code,
        "payer_id": claim.payer_id,
        "billing_npi": claim.billing_npi,
        "payer_claim_number": claim.payer_claim_number,
        "diagnosis_codes": claim.diagnosis_codes,
        "lines": [_line_dict(line) for line in claim.lines],
    }
    if claim.rendering_npi is not None:
        out["rendering_npi"] = claim.rendering_npi
    return out


def read_837p(text: str) -> tuple[dict[str, Any], list[str], list[X12SyntaxError]]:
    """Read an 837P: (summary, problems, number errors).

    ``problems`` are structure and balancing problems (a claim outside a subscriber loop, a line
    without SV1, LX01 out of sequence, CLM02 not the sum of the SV102 line charges, ...);
    ``number errors`` are numeric elements (CLM02, LX01, SV102, SV104, SV107) that are not X12
    numbers, each naming its segment position and element. The summary holds ids, codes and
    amounts only (a number that could not be read is None).
    """
    submission = read_submission(text)
    claims = [_claim_dict(c) for c in submission.claims]
    summary: dict[str, Any] = {
        "transactions": [
            {
                "interchange_control_number": t.interchange_control_number,
                "group_control_number": t.group_control_number,
                "control_number": t.control_number,
                "version": t.version,
                "claim_count": t.claim_count,
            }
            for t in submission.transactions
        ],
        "claims": claims,
        "envelope_problems": submission.envelope_problems,
        "problems": submission.problems,
        "claim_count": len(claims),
    }
    totals = [c["total_charge"] for c in claims]
    with localcontext(EXACT):
        summary["total_charge"] = None if None in totals else money(sum((Decimal(t) for t in totals), Decimal(0)))
    return summary, submission.problems, submission.number_errors


def summarize_837p(text: str) -> dict[str, Any]:
    """What an 837P says, as a plain JSON-able dict: envelopes, claims, lines, and the structure and
    balancing ``problems`` :func:`read_837p` found.

    A numeric element that is not a number leaves no summary to give: :class:`X12SyntaxError` names
    the first one.
    """
    summary, _, number_errors = read_837p(text)
    if number_errors:
        first = number_errors[0]
        more = len(number_errors) - 1
        if more:
            first = X12SyntaxError(f"{first} ({more} more: see validate)", first.position)
        raise first
    return summary
