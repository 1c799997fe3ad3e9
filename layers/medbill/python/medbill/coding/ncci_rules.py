"""The NCCI rules on one claim: PTP pairs (with the modifier indicator and bypass modifiers) and MUEs
(per line or per day, by the MUE adjudication indicator). One claim is one date of service here."""

from __future__ import annotations

from decimal import Decimal

from medbill.coding.findings import INFO, Finding, finding
from medbill.coding.ncci import (
    ANATOMIC_MODIFIERS,
    DISTINCT_SERVICE_MODIFIERS,
    EM_ONLY_BYPASS_MODIFIERS,
    OTHER_BYPASS_MODIFIERS,
    NcciEdits,
)
from medbill.coding.procedures import is_anesthesia, is_evaluation_and_management
from medbill.models.encounter import Encounter, ServiceLine

_MAI_TEXT = {
    "2": "MAI 2, per day, policy: units above the MUE are not payable",
    "3": "MAI 3, per day, clinical: units above the MUE need documented medical necessity",
}
_DISTINCT = "/".join(DISTINCT_SERVICE_MODIFIERS)


def bypass_modifier(first: ServiceLine, second: ServiceLine) -> str | None:
    """The modifier that lets a modifier-indicator-1 PTP pair be billed together, if the lines carry one."""
    for mod in DISTINCT_SERVICE_MODIFIERS + OTHER_BYPASS_MODIFIERS:
        if mod in first.modifiers or mod in second.modifiers:
            return mod
    for mod in EM_ONLY_BYPASS_MODIFIERS:
        for line in (first, second):
            if mod in line.modifiers and is_evaluation_and_management(line.procedure_code):
                return mod
    sites1, sites2 = ANATOMIC_MODIFIERS & set(first.modifiers), ANATOMIC_MODIFIERS & set(second.modifiers)
    if sites1 and sites2 and sites1 != sites2:
        return "/".join(sorted(sites1 | sites2))
    return None


def ptp_findings(encounter: Encounter, edits: NcciEdits) -> list[Finding]:
    version = edits.ptp_version
    if version is None:
        return []
    out: list[Finding] = []
    lines = list(enumerate(encounter.service_lines, start=1))
    for n1, l1 in lines:
        for n2, l2 in lines:
            c1, c2 = l1.procedure_code, l2.procedure_code
            if n1 == n2 or c1 == c2:
                continue
            edit = edits.ptp_edit(c1, c2, encounter.date_of_service)
            if edit is None or edit.modifier_indicator == "9":
                continue
            pair = f"line {n2}: {c2} is column 2 of {c1} (line {n1}); modifier indicator {edit.modifier_indicator}"
            if edit.modifier_indicator != "1":
                out.append(finding("NCCI-PTP", f"{pair}, no modifier allows both; remove line {n2}", version, line=n2))
                continue
            mod = bypass_modifier(l1, l2)
            if mod:
                out.append(finding("NCCI-PTP", f"{pair}, bypassed by modifier {mod}", version, line=n2, severity=INFO))
            else:
                advice = f"if the services were distinct, add {_DISTINCT} (or 25 on a separately identifiable E/M)"
                out.append(finding("NCCI-PTP", f"{pair}, no bypass modifier; {advice}", version, line=n2))
    return out


def _mue_units(line: ServiceLine) -> Decimal:
    # Anesthesia lines carry minutes (MJ); their MUE counts services, one per line.
    return Decimal(1) if is_anesthesia(line.procedure_code) else line.units


def mue_findings(encounter: Encounter, edits: NcciEdits) -> list[Finding]:
    version = edits.mue_version
    if version is None:
        return []
    out: list[Finding] = []
    per_day: dict[str, list[tuple[int, Decimal]]] = {}
    for n, line in enumerate(encounter.service_lines, start=1):
        code = line.procedure_code
        limit = edits.mue.get(code)
        if limit is None:
            continue
        units = _mue_units(line)
        per_day.setdefault(code, []).append((n, units))
        if limit.mai == "1" and units > limit.units:
            out.append(
                finding(
                    "NCCI-MUE-LINE",
                    f"line {n}: {code} x {units} units exceeds the MUE of {limit.units} per line (MAI 1); "
                    "units beyond it go on another line with modifier 76, 77, 91 or an anatomic modifier",
                    version,
                    line=n,
                )
            )
    for code, uses in per_day.items():
        limit = edits.mue[code]
        total = sum((u for _, u in uses), Decimal(0))
        if limit.mai in _MAI_TEXT and total > limit.units:
            where = ", ".join(str(n) for n, _ in uses)
            out.append(
                finding(
                    "NCCI-MUE-DAY",
                    f"{code} x {total} units on the date of service (line {where}) exceeds the MUE of "
                    f"{limit.units} per day ({_MAI_TEXT[limit.mai]})",
                    version,
                    line=uses[0][0],
                )
            )
    return out


def ncci_edits(encounter: Encounter, edits: NcciEdits) -> list[str]:
    """Hold reasons from the NCCI tables (the form today's callers use)."""
    return [f.message for f in ptp_findings(encounter, edits) + mue_findings(encounter, edits) if f.severity == "hold"]
