"""Line-level scrubber rules: diagnoses (by position: diagnosis codes are PHI here), procedure code and
modifier format, the clinic's fee schedule, diagnosis pointers, HCPCS Level II existence and dates."""

from __future__ import annotations

from medbill.billing.fees import FeeSchedule
from medbill.coding import icd10
from medbill.coding.findings import INFO, Finding, finding
from medbill.coding.procedures import HcpcsLevel2, is_modifier, is_procedure_code, procedure_kind
from medbill.models.encounter import Encounter


def diagnosis_findings(enc: Encounter) -> list[Finding]:
    version = icd10.code_set_version()
    out: list[Finding] = []
    for n, code in enumerate(enc.diagnoses, start=1):
        if not icd10.exists(code):
            out.append(finding("DX-CODE", f"diagnosis {n} is not an ICD-10-CM code", version))
        elif not icd10.is_billable(code):
            kind = "a category" if icd10.is_category(code) else "a subcategory"
            message = f"diagnosis {n} is {kind}, not a billable code; use a more specific code"
            out.append(finding("DX-BILLABLE", message, version))
    first = enc.diagnoses[0] if enc.diagnoses else None
    if first and icd10.exists(first) and icd10.is_manifestation(first):
        message = (
            "diagnosis 1 is a manifestation code and cannot be the principal diagnosis; "
            "list the underlying condition first"
        )
        out.append(finding("DX-MANIFESTATION", message, version))
    return out


def procedure_findings(enc: Encounter, fee_schedule: FeeSchedule | None) -> list[Finding]:
    clinic, payer_id = enc.clinic_id, enc.coverage.payer_id
    fees = f"fee schedule {clinic}"
    out: list[Finding] = []
    if fee_schedule is None:
        message = f"clinic {clinic} has no fee schedule; procedure codes cannot be checked or priced"
        out.append(finding("FEE-SCHEDULE", message, None))
    n_diagnoses = len(enc.diagnoses)
    for n, line in enumerate(enc.service_lines, start=1):
        code = line.procedure_code
        if not is_procedure_code(code):
            out.append(finding("PROC-CODE", f"line {n}: {code} is not a CPT or HCPCS code", None, line=n))
            continue
        for m in line.modifiers:
            if not is_modifier(m):
                out.append(finding("MODIFIER", f"line {n}: modifier {m} is not two letters or digits", None, line=n))
        if len(set(line.modifiers)) != len(line.modifiers):
            out.append(finding("MODIFIER", f"line {n}: a modifier is repeated", None, line=n))
        if fee_schedule is not None:
            if code not in fee_schedule:
                message = f"line {n}: {code} is not on clinic {clinic}'s fee schedule"
                out.append(finding("FEE-SCHEDULE", message, fees, line=n, prefix=False))
            elif line.charge is None and fee_schedule.price(code, line.modifiers, payer_id) is None:
                message = f"line {n}: {code} has no fee for payer {payer_id} on clinic {clinic}'s schedule"
                out.append(finding("FEE-SCHEDULE", message, fees, line=n, prefix=False))
        for p in line.diagnosis_pointers:
            if not 1 <= p <= n_diagnoses:
                message = f"line {n}: diagnosis pointer {p} but the claim has {n_diagnoses} diagnoses"
                out.append(finding("DX-POINTER", message, None, line=n))
    return out


def hcpcs_findings(enc: Encounter, hcpcs: HcpcsLevel2 | None) -> list[Finding]:
    lines = [(n, line.procedure_code) for n, line in enumerate(enc.service_lines, start=1)]
    lines = [(n, code) for n, code in lines if procedure_kind(code) == "hcpcs"]
    if not lines:
        return []
    if hcpcs is None:
        message = "no HCPCS Level II file is loaded; HCPCS codes were checked by format only"
        return [finding("REFDATA-MISSING", message, None, severity=INFO)]
    out: list[Finding] = []
    dos = enc.date_of_service
    for n, code in lines:
        status = hcpcs.status(code, dos)
        entry = hcpcs.codes.get(code)
        if status == "unknown":
            out.append(finding("HCPCS-CODE", f"line {n}: {code} is not a HCPCS Level II code", hcpcs.version, line=n))
        elif status == "not_yet_effective" and entry and entry.added:
            message = f"line {n}: {code} takes effect on {entry.added.isoformat()}, after the date of service"
            out.append(finding("HCPCS-DATES", message, hcpcs.version, line=n))
        elif status == "terminated" and entry and entry.terminated:
            message = (
                f"line {n}: {code} was terminated after {entry.terminated.isoformat()}; use the code that replaced it"
            )
            out.append(finding("HCPCS-DATES", message, hcpcs.version, line=n))
    return out
