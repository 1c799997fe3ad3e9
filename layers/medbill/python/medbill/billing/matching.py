"""Match the 835's service lines (SVC) to the claim's lines.

Order of evidence: REF*6R line item control number (we send it in the 837P, payers echo it);
else procedure code + modifiers + date of service; else the original procedure (SVC06) when
the payer bundled or changed the code. Several SVCs may land on one of our lines (the payer
split it); an SVC that matches nothing is kept, marked unmatched, never dropped.
"""

from __future__ import annotations

from medbill.models.claim import Claim, ClaimLine
from medbill.models.remittance import LineMatch, LinePosting, RemitLine


def _same_modifiers(line: ClaimLine, modifiers: list[str]) -> bool:
    return sorted(line.modifiers) == sorted(m for m in modifiers if m)


def match_lines(claim: Claim, lines: list[RemitLine], claim_service_date: str | None = None) -> list[LinePosting]:
    by_control = {line.line_control_number: line for line in claim.lines}
    dos = claim.encounter.date_of_service.strftime("%Y%m%d")
    used: set[int] = set()
    out: list[LinePosting] = []
    for svc in lines:
        found: ClaimLine | None = by_control.get(svc.control_number or "")
        how: LineMatch = "control_number"
        if found is None:
            svc_date = svc.service_date or claim_service_date or dos
            same_day = svc_date == dos
            found, how = _by_code(claim.lines, svc.procedure_code, svc.modifiers, used, same_day, "code_and_date")
            if found is None and svc.original_procedure_code:
                found, how = _by_code(
                    claim.lines, svc.original_procedure_code, svc.original_modifiers, used, same_day, "original_code"
                )
        if found is not None:
            used.add(found.line_number)
        out.append(
            LinePosting(
                claim_line_number=found.line_number if found else None,
                match=how if found else "unmatched",
                procedure_code=svc.procedure_code,
                modifiers=svc.modifiers,
                charge=svc.charge,
                paid=svc.paid,
                allowed=svc.allowed,
                units=svc.units,
                adjustments=svc.adjustments,
                remarks=svc.remarks,
            )
        )
    return out


def _by_code(
    lines: list[ClaimLine], code: str, modifiers: list[str], used: set[int], same_day: bool, how: LineMatch
) -> tuple[ClaimLine | None, LineMatch]:
    if not same_day:
        return None, how
    candidates = [line for line in lines if line.procedure_code == code]
    # Prefer exact modifiers on a line not yet matched; then any line with the code (a split line).
    for pool in (
        [c for c in candidates if _same_modifiers(c, modifiers) and c.line_number not in used],
        [c for c in candidates if c.line_number not in used],
        [c for c in candidates if _same_modifiers(c, modifiers)],
        candidates,
    ):
        if pool:
            return pool[0], how
    return None, how
